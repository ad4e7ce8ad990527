
from pipeline.config import LABELS, load_params
from pipeline.data.consistency import check, error_messages, jaccard, label_conflicts, near_duplicates, shingles

PARAMS = load_params()["check"] | {"targets": {"labelled": 3, "positives_per_theme": 1, "no_theme": 1}}
BASE = "Công an huyện Bát Xát đã khám phá 12 vụ án, bắt 20 đối tượng trong năm 2019 nhờ nguồn tin của quần chúng."


def row(pid, article, text, labels=(), source="synthetic"):
    return {"paragraph_id": pid, "article_id": article, "text": text, "labels": list(labels), "source": source}


def test_shingles_ignore_case_punctuation_and_segmentation():
    assert shingles("Công_an huyện, BẮT 5 đối tượng.", 3) == shingles("công an huyện bắt 5 đối tượng", 3)
    assert jaccard(shingles(BASE, 3), shingles(BASE, 3)) == 1.0


def test_same_words_with_different_labels_is_a_conflict():
    rows = [row("a", "x", BASE, ["crime_outcomes"]), row("b", "y", BASE.upper() + "!", []),
            row("c", "z", "Hội nghị tổng kết.", [])]
    conflicts = label_conflicts(rows)
    assert [[p["paragraph_id"] for p in c["paragraphs"]] for c in conflicts] == [["a", "b"]]


def test_near_duplicates_across_articles_only():
    reworded = BASE.replace("12 vụ án", "13 vụ án")
    rows = [row("a", "x", BASE), row("b", "y", reworded), row("c", "x", reworded),
            row("d", "z", "Tại hội nghị, 20 tập thể được tặng Bằng khen của Chủ tịch UBND tỉnh.")]
    pairs = near_duplicates(rows, 3, 0.5)
    assert [(p["a"]["paragraph_id"], p["b"]["paragraph_id"]) for p in pairs] == [("b", "c"), ("a", "b")]
    assert pairs[0]["similarity"] == 1.0 and 0.5 <= pairs[1]["similarity"] < 1.0


def test_check_fails_loudly_naming_the_leaking_paragraphs():
    rows = [row("seedpara", "s1", BASE, ["crime_outcomes"], "seed"),
            row("synpara", "y1", BASE.replace("2019", "2020"), ["crime_outcomes"]),
            row("other", "y2", "Quang cảnh hội nghị.", [])]
    report = check(rows, LABELS, PARAMS)
    assert len(report["errors"]["near_duplicates"]) == 1
    assert report["counts"]["seed"]["paragraphs"] == 1 and report["counts"]["all"]["no_theme"] == 1
    assert set(report["warnings"]["below_targets"]) == {"positives.propaganda", "positives.grassroots_models",
                                                          "positives.recognition"}
    message = "\n".join(error_messages(report))
    assert "seedpara (s1)" in message and "synpara (y1)" in message


def test_clean_rows_have_no_errors():
    rows = [row("a", "x", BASE, ["crime_outcomes"]), row("b", "y", "Quang cảnh hội nghị.", [])]
    assert error_messages(check(rows, LABELS, PARAMS)) == []


def test_check_stage_exits_non_zero_and_writes_the_report(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipeline import config
    from pipeline.data.annotations import Annotation
    from pipeline.cli import app
    from pipeline.data.corpus import build

    monkeypatch.setattr(config, "ROOT", tmp_path)
    rows = [row("seedpara", "s1", BASE, ["crime_outcomes"], "seed"),
            row("synpara", "y1", BASE.replace("2019", "2020"), ["crime_outcomes"])]
    paragraphs = [{**r, "paragraph_index": 0} for r in rows]
    gold = {r["paragraph_id"]: Annotation(r["paragraph_id"], tuple(r["labels"]), r["source"], "x") for r in rows}
    data, _ = build(paragraphs, gold, LABELS)
    data.save_to_disk(str(tmp_path / "data" / "corpus" / "dataset"))
    result = CliRunner().invoke(app, ["stage", "check"])
    assert result.exit_code != 0
    assert "seedpara (s1)" in str(result.exception) and "synpara (y1)" in str(result.exception)
    report = (tmp_path / "reports" / "consistency.json").read_text(encoding="utf-8")
    assert '"near_duplicates"' in report and "seedpara" in report
