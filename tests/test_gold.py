"""`antq evaluate --gold`: users' own labels in JSONL or CSV, validated line by line, scored for
every model and the keyword rules, and the learning curve over labelled groups."""
from __future__ import annotations

import csv
import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import LABELS, load_params
from pipeline.evaluation import gold as gd

P, C, G, R = "propaganda", "crime_outcomes", "grassroots_models", "recognition"

# Own-written paragraphs in the style of the seed articles: ten articles of three paragraphs.
PARAGRAPHS = [
    ("Công an huyện đã tổ chức 25 buổi tuyên truyền, phổ biến pháp luật cho hơn 3.000 lượt người dân tại các thôn, xóm.", [P]),
    ("Qua nguồn tin của quần chúng, lực lượng công an đã khám phá 12 vụ án, bắt giữ 18 đối tượng trộm cắp tài sản.", [C]),
    ("Thời gian tới, Công an huyện tiếp tục đẩy mạnh phong trào toàn dân bảo vệ an ninh Tổ quốc.", []),
    ("Toàn xã hiện duy trì 45 tổ an ninh nhân dân và 12 mô hình Tiếng kẻng an ninh hoạt động hiệu quả.", [G]),
    ("Tại hội nghị, 15 tập thể và 20 cá nhân có thành tích xuất sắc được Chủ tịch UBND tỉnh tặng Bằng khen.", [R]),
    ("Hội nghị có sự tham dự của lãnh đạo các sở, ban, ngành và đại diện Mặt trận Tổ quốc tỉnh.", []),
    ("Lực lượng công an phối hợp với đoàn thanh niên treo 200 băng rôn, phát 5.000 tờ rơi về phòng chống ma túy.", [P]),
    ("Nhờ mô hình Hòm thư tố giác tội phạm, người dân đã cung cấp 80 tin có giá trị, giúp triệt phá 3 đường dây ma túy.", [G, C]),
    ("Năm qua, tai nạn giao thông trên địa bàn giảm cả ba tiêu chí so với cùng kỳ.", [C]),
    ("Phường đã có 30 khu dân cư được công nhận đạt tiêu chuẩn An toàn về an ninh trật tự.", [R, G]),
    ("Buổi lễ diễn ra trong không khí trang trọng, ấm cúng.", []),
    ("Công an phường tổ chức diễn đàn Công an lắng nghe ý kiến nhân dân, tiếp thu 40 ý kiến đóng góp.", [P]),
    ("Tổ hòa giải ở cơ sở đã hòa giải thành công 56 vụ mâu thuẫn trong nhân dân, không để phát sinh khiếu kiện.", [G, C]),
    ("Ban Chỉ đạo đã tuyên dương, khen thưởng 10 mô hình tiêu biểu trong phong trào.", [R, G]),
    ("Đề nghị các cơ quan tiếp tục tuyên truyền sâu rộng trong quần chúng.", []),
    ("Người dân đã tự nguyện giao nộp 15 khẩu súng tự chế, công an thu hồi 2 kg vật liệu nổ.", [C]),
    ("Loa phát thanh của xã phát các bản tin cảnh báo phương thức, thủ đoạn lừa đảo qua mạng mỗi tuần.", [P]),
    ("Chị Nguyễn Thị Hoa, tổ trưởng tổ dân phố số 5, được Giám đốc Công an tỉnh tặng Giấy khen.", [R]),
    ("Đến nay, 100% thôn, tổ dân phố đã ký kết quy chế phối hợp bảo đảm an ninh trật tự.", [G]),
    ("Trong năm, lực lượng chức năng phát hiện, bắt giữ 7 đối tượng mua bán trái phép chất ma túy.", [C]),
    ("Ông Trần Văn Nam, Phó Chủ tịch UBND huyện, phát biểu chỉ đạo hội nghị.", []),
    ("Huyện đã tổ chức 3 lớp tập huấn nghiệp vụ cho 150 bảo vệ dân phố và công an viên.", [G]),
    ("Các trường học tổ chức buổi ngoại khóa giáo dục pháp luật về an toàn giao thông cho học sinh.", [P]),
    ("Công an thị trấn được Bộ Công an tặng danh hiệu lá cờ đầu trong phong trào thi đua.", [R]),
    ("Tổ liên gia tự quản ở khu phố 3 đã giúp công an bắt quả tang một đối tượng trộm xe máy.", [G, C]),
    ("Ban tổ chức tặng hoa chúc mừng các đại biểu tham dự.", []),
    ("Hàng tháng, công an phường phát 2.000 tờ rơi cảnh báo tội phạm lừa đảo.", [P]),
    ("Xã đã xây dựng thành công mô hình Dòng họ tự quản về an ninh trật tự với 20 dòng họ tham gia.", [G]),
    ("Kết quả, công an huyện đã điều tra làm rõ 25 vụ án, thu hồi tài sản trị giá hơn 500 triệu đồng.", [C]),
    ("5 cá nhân có thành tích xuất sắc được biểu dương, khen thưởng tại hội nghị.", [R]),
]
RECORDS = [{"id": f"p{i + 1:02d}", "group": f"bai-{i // 3 + 1:02d}", "text": text, "labels": labels}
           for i, (text, labels) in enumerate(PARAGRAPHS)]
runner = CliRunner()


def write_jsonl(file: Path, records: list) -> Path:
    file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return file


def write_csv(file: Path, records: list[dict]) -> Path:
    with open(file, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["id", "group", "text", "labels"])
        writer.writeheader()
        writer.writerows({**r, "labels": ";".join(r["labels"])} for r in records)
    return file


@pytest.fixture(scope="module")
def tagger_folder(tmp_path_factory) -> Path:
    """A TF-IDF Tagger fitted on the gold paragraphs, saved as a plain Tagger folder."""
    from pipeline.models.base import Texts
    from pipeline.models.train import fit
    from pipeline.tagging.tagger import Tagger
    from pipeline.text import segment

    texts = [t for t, _ in PARAGRAPHS]
    y = np.array([[label in labels for label in LABELS] for _, labels in PARAGRAPHS], dtype=int)
    model = fit("tfidf", Texts(texts, [segment(t) for t in texts]), y, load_params(), LABELS)
    return Tagger(model, LABELS, {label: 0.5 for label in LABELS}).save(tmp_path_factory.mktemp("tagger") / "tfidf")


def run(*args: str):
    return runner.invoke(app, ["evaluate", *args], catch_exceptions=False)


def test_jsonl_and_csv_give_the_same_report(tmp_path, tagger_folder):
    reports = {}
    for name, writer in (("gold.jsonl", write_jsonl), ("gold.csv", write_csv)):
        out = tmp_path / name.replace(".", "_")
        result = run("--gold", str(writer(tmp_path / name, RECORDS)), "--model", str(tagger_folder),
                     "--out", str(out), "--bootstrap", "200", "--seed", "3")
        assert result.exit_code == 0, result.output
        assert "macro-F1" in result.output and "vs rules" in result.output
        reports[name] = json.loads((out / "report.json").read_text(encoding="utf-8"))
        page = (out / "errors.html").read_text(encoding="utf-8")
        assert page.startswith("<!doctype html>") and "gold:" in page
    jsonl, table = reports["gold.jsonl"], reports["gold.csv"]
    assert jsonl["models"] == table["models"]
    assert jsonl["n"] == 30 and jsonl["groups"] == 10 and jsonl["grouped_by"] == "group"
    assert set(jsonl["models"]) == {"rules", str(tagger_folder)}
    assert "vs_rules" not in jsonl["models"]["rules"]
    for name, scores in jsonl["models"].items():
        low, high = scores["macro_f1_ci"]
        assert scores["n"] == 30 and low <= scores["macro_f1"] <= high
        assert set(scores["per_theme"]) == set(LABELS)
        assert {"precision", "recall", "f1", "support", "f1_ci"} <= set(scores["per_theme"][P])
    gain = jsonl["models"][str(tagger_folder)]["vs_rules"]
    assert gain["ci"][0] <= gain["macro_f1"] <= gain["ci"][1]
    assert jsonl["gold_support"][P] == sum(P in labels for _, labels in PARAGRAPHS)


def test_read_gold_normalises_and_groups(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Công an  xã\u00a0tuyên truyền.")
    file = write_jsonl(tmp_path / "g.jsonl", [{"text": decomposed, "labels": [P]}, {"text": "Hội nghị.", "labels": [], "id": 7},
                                              {"text": "Bắt 2 đối tượng.", "labels": [C], "group": "a"}])
    gold = gd.read_gold(file, LABELS)
    assert gold.texts[0] == "Công an xã tuyên truyền." and gold.lines == [1, 2, 3]
    assert gold.y.tolist() == [[True, False, False, False], [False] * 4, [False, True, False, False]]
    assert len(set(gold.bootstrap_groups())) == 3 and gold.curve_groups()[2] == "a" and gold.ids[1] == "7"


def test_csv_none_and_quoted_multiline_rows(tmp_path):
    file = tmp_path / "g.csv"
    file.write_text('text,labels\n"Dòng một,\ndòng hai",none\nPhát tờ rơi.,propaganda\n"Bắt, giữ",foo\n', encoding="utf-8")
    with pytest.raises(gd.GoldError, match=r"g\.csv:5: unknown label"):
        gd.read_gold(file, LABELS)


BAD = {
    "bad_json": ('{"text": "Công an xã.", "labels": []}\n{"text": "x", labels: []}\n', "gold.jsonl:2", "not valid JSON"),
    "missing_text": ('{"text": "Công an xã.", "labels": []}\n{"labels": ["propaganda"]}\n', "gold.jsonl:2", "missing `text`"),
    "blank_text": ('{"text": "  ", "labels": []}\n', "gold.jsonl:1", "missing `text`"),
    "unknown_label": ('\n{"text": "Công an xã.", "labels": ["tuyen_truyen"]}\n', "gold.jsonl:2", "valid labels: " + ", ".join(LABELS)),
    "labels_not_list": ('{"text": "Công an xã.", "labels": "propaganda"}\n', "gold.jsonl:1", "must be a list"),
    "missing_labels": ('{"text": "Công an xã."}\n', "gold.jsonl:1", "missing `labels`"),
    "not_object": ('["Công an xã.", []]\n', "gold.jsonl:1", "expected a JSON object"),
    "empty_file": ("\n\n", "gold.jsonl:1", "empty file"),
    "csv_unknown_label": ("text,labels\nCông an xã.,propaganda\nBắt 2 đối tượng.,crime;awards\n", "gold.csv:3", "valid labels"),
    "csv_missing_column": ("text,themes\nCông an xã.,propaganda\n", "gold.csv:1", "lacks column"),
    "csv_extra_field": ("text,labels\nCông an xã, huyện,propaganda\n", "gold.csv:2", "double quotes"),
    "csv_empty": ("", "gold.csv:1", "empty file"),
    "csv_header_only": ("text,labels\n", "gold.csv:1", "empty file"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_records_exit_1_naming_file_and_line(tmp_path, case):
    content, where, message = BAD[case]
    file = tmp_path / ("gold.csv" if case.startswith("csv") else "gold.jsonl")
    file.write_text(content, encoding="utf-8")
    result = run("--gold", str(file), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert where in result.output and message in result.output, result.output
    assert not (tmp_path / "out").exists()  # nothing scored or written


def test_all_bad_records_are_listed_at_once(tmp_path):
    file = write_jsonl(tmp_path / "gold.jsonl", [{"text": "a", "labels": ["x"]}, {"text": "b"}, {"text": "c", "labels": []}])
    result = run("--gold", str(file))
    assert result.exit_code == 1 and "2 bad record(s)" in result.output
    assert "gold.jsonl:1" in result.output and "gold.jsonl:2" in result.output and "gold.jsonl:3" not in result.output


def test_missing_model_or_file_exits_1(tmp_path):
    gold = write_jsonl(tmp_path / "gold.jsonl", RECORDS[:3])
    missing = run("--gold", str(gold), "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    assert missing.exit_code == 1 and "no model at" in missing.output
    assert run("--gold", str(tmp_path / "absent.jsonl")).exit_code == 1
    assert run("--gold", str(write_jsonl(tmp_path / "gold.txt", RECORDS[:3]))).exit_code == 1


def test_rules_only_when_default_model_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr("pipeline.tagging.predictor.model_exists", lambda model: False)
    out = tmp_path / "out"
    result = run("--gold", str(write_jsonl(tmp_path / "gold.jsonl", RECORDS)), "--out", str(out), "--bootstrap", "50")
    assert result.exit_code == 0, result.output
    assert "keyword rules only" in result.output
    assert list(json.loads((out / "report.json").read_text())["models"]) == ["rules"]


def test_curve_sizes_double_up_to_the_pool():
    assert gd.curve_sizes(7) == [5, 7]
    assert gd.curve_sizes(50) == [5, 10, 20, 40, 50]
    assert gd.curve_sizes(3) == [3]
    assert gd.curve_sizes(12, sizes=[2, 4, 30]) == [2, 4, 12]


def test_learning_curve_writes_its_three_files(tmp_path, tagger_folder):
    out = tmp_path / "out"
    result = run("--gold", str(write_jsonl(tmp_path / "gold.jsonl", RECORDS)), "--model", str(tagger_folder),
                 "--out", str(out), "--bootstrap", "50", "--learning-curve")
    assert result.exit_code == 0, result.output
    assert "Learning curve" in result.output
    curve = json.loads((out / "learning_curve.json").read_text())
    sizes = [p["groups"] for p in curve["points"]]
    assert sizes == sorted(set(sizes)) and sizes[-1] == 10 - curve["test_groups"] and curve["test_groups"] == 3
    assert [p["paragraphs"] for p in curve["points"]] == [3 * n for n in sizes]
    for point in curve["points"]:
        assert len(point["macro_f1_runs"]) == curve["repeats"]
        assert 0 <= point["macro_f1_min"] <= point["macro_f1_mean"] <= point["macro_f1_max"] <= 1
    assert curve["kind"] == "tfidf" and curve["rules_macro_f1"] is not None
    rows = (out / "learning_curve.csv").read_text().splitlines()
    assert rows[0].startswith("groups,paragraphs,macro_f1_mean") and len(rows) == len(sizes) + 1
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_learning_curve_needs_enough_groups(tmp_path):
    gold = gd.read_gold(write_jsonl(tmp_path / "g.jsonl", RECORDS[:3]), LABELS)  # one group
    with pytest.raises(gd.GoldError, match="too few"):
        gd.learning_curve(gold, LABELS, load_params(), seed=0)


def test_mlflow_pyfunc_folder_scores_like_the_tagger(tmp_path, tagger_folder):
    """The registered form (an MLflow pyfunc folder) gives the same decisions as the Tagger."""
    import pandas as pd

    from pipeline.tagging.register import save_local

    pyfunc = save_local(tagger_folder, tmp_path / "pyfunc", "tfidf", pd.DataFrame({"text": [t for t, _ in PARAGRAPHS[:3]]}))
    gold = gd.read_gold(write_jsonl(tmp_path / "g.jsonl", RECORDS), LABELS)
    models = gd.load_models([str(tagger_folder), str(pyfunc)], LABELS)
    (a, sa), (b, sb) = (gd.decisions(models[str(f)], gold.texts, LABELS) for f in (tagger_folder, pyfunc))
    assert (a == b).all() and np.allclose(sa, sb, atol=1e-6)
