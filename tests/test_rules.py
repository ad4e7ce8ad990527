from pipeline.config import LABELS, load_yaml
from pipeline.models.rules import RulesModel


def rules():
    return RulesModel(load_yaml("rules.yaml"), LABELS)


def test_cue_words_fire_their_theme():
    scores = rules().predict_scores(["Công an đã bắt 12 đối tượng, thu hồi tài sản.",
                                     "Nhiều tập thể được tặng Bằng khen."])
    assert scores[0, LABELS.index("crime_outcomes")] == 1.0
    assert scores[1].tolist() == [0.0, 0.0, 0.0, 1.0]


def test_future_plans_get_no_theme():
    text = "Thời gian tới, thành phố tiếp tục đẩy mạnh tuyên truyền, nhân rộng mô hình."
    assert rules().predict_scores([text]).sum() == 0


def test_cue_hits_mark_each_cue_and_the_plan_flags():
    model = rules()
    hits = model.cue_hits(["Thời gian tới, tiếp tục đẩy mạnh tuyên truyền.", "Công an đã bắt 12 đối tượng."])
    cues = [p for label in LABELS for p in model.config["themes"][label]]
    assert hits.shape == (2, len(cues) + 3)
    assert hits[0, cues.index("tuyên\\s+truyền")] == 1 and hits[0, -3:].tolist() == [1, 0, 1]
    assert hits[1, :len(cues)].sum() >= 1 and hits[1, -3:].tolist() == [0, 1, 0]


def test_rules_save_and_load(tmp_path):
    model = rules()
    model.save(tmp_path)
    assert RulesModel.load(tmp_path).predict_scores(["tuyên truyền"]).tolist() == model.predict_scores(["tuyên truyền"]).tolist()


def test_antq_rules_writes_what_antq_tag_writes(tmp_path):
    import json

    from typer.testing import CliRunner

    from pipeline.cli import app

    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": "Công an đã bắt 12 đối tượng.\n\nNhiều tập thể được tặng Bằng khen."},
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["rules", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["labels"] for r in rows] == [["crime_outcomes"], ["recognition"]]
    assert set(rows[0]) >= {"article_id", "paragraph_index", "paragraph_id", "text", "labels", "scores"}
    assert rows[1]["scores"] == {"propaganda": 0.0, "crime_outcomes": 0.0, "grassroots_models": 0.0, "recognition": 1.0}


def themes(text):
    return [label for label, s in zip(LABELS, rules().predict_scores([text])[0]) if s == 1.0]


def test_plain_crime_reports_fire_crime_outcomes():
    # one-line briefs without counts are crime outcomes too: seizure, emergency arrest,
    # prosecution, clearance rate, fewer accidents, weapons handed in
    for text in ["Công an xã thu giữ 2 gói heroin của một người đàn ông.",
                 "Công an huyện bắt khẩn cấp hai đối tượng trộm cắp xe máy.",
                 "Cơ quan CSĐT đã khởi tố vụ án, khởi tố bị can về tội đánh bạc.",
                 "Tỷ lệ điều tra, khám phá án đạt 85%, tai nạn giao thông giảm cả ba tiêu chí.",
                 "Người dân đã tự nguyện giao nộp 12 khẩu súng tự chế cho công an xã."]:
        assert "crime_outcomes" in themes(text), text


def test_mobile_propaganda_and_warnings_fire_propaganda():
    assert themes("Đội tuyên truyền lưu động của công an huyện đi dọc các tuyến đường, "
                  "phát tờ rơi cho bà con.") == ["propaganda"]
    assert themes("Công an xã đăng cảnh báo trên nhóm Zalo về chiêu lừa giả danh cán bộ.")[0] == "propaganda"
    assert themes("Báo cáo viên giới thiệu các thủ đoạn mới của tội phạm mua bán người.") == ["propaganda"]


def test_grassroots_teams_and_named_awards():
    assert themes("Xã ra mắt tổ bảo vệ an ninh, trật tự ở cơ sở tại 12 thôn.") == ["grassroots_models"]
    assert themes("Camera an ninh do bà con góp tiền lắp đặt được nối về trụ sở công an xã.") == ["grassroots_models"]
    assert themes("Giám đốc Công an tỉnh gửi thư khen và thưởng đột xuất cho tổ công tác.") == ["recognition"]


def test_plans_and_goals_stay_without_theme():
    for text in ["Thời gian tới, công an xã sẽ tuyên truyền, vận động bà con giao nộp vũ khí "
                 "và nhân rộng mô hình camera an ninh.",
                 "Mục tiêu đặt ra là kéo giảm tai nạn giao thông, không để xảy ra tai nạn do pháo nổ.",
                 "Phát huy kết quả đã đạt được, thời gian tới công an tiếp tục tuyên truyền, khen thưởng kịp thời."]:
        assert themes(text) == [], text


def test_near_miss_words_do_not_fire():
    # population counts ("1.206 khẩu"), a police patrol team and a ceremony caption are not themes
    assert themes("Làng hiện có 327 hộ, 1.206 khẩu.") == []
    assert themes("Tổ tuần tra của Công an huyện yêu cầu dừng xe để kiểm tra hành chính.") == []
    assert themes("Thiếu tướng phát biểu tại lễ trao thưởng.") == []
