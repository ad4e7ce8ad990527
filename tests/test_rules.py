from pipeline.config import LABELS, load_yaml
from pipeline.rules import RulesModel


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


def test_rules_save_and_load(tmp_path):
    model = rules()
    model.save(tmp_path)
    assert RulesModel.load(tmp_path).predict_scores(["tuyên truyền"]).tolist() == model.predict_scores(["tuyên truyền"]).tolist()
