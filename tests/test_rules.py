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
