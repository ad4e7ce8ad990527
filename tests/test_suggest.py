import numpy as np
import pytest

from pipeline.data.annotate import predict
from pipeline.config import LABELS
from pipeline.tagging.predictor import thresholds_of
from pipeline.data.suggest import pick, suggest, uncertainty
from pipeline.tagging.tagger import Tagger
from pipeline.text import normalize_text, segment

THRESHOLDS = {"propaganda": 0.5, "crime_outcomes": 0.3, "grassroots_models": 0.5, "recognition": 0.7}
TOPICS = ["tuyên truyền pháp luật cho ngư dân", "khám phá vụ án trộm cắp tài sản", "mô hình camera an ninh",
          "tặng Bằng khen cho tập thể", "tuần tra ban đêm ở khu phố", "hòa giải mâu thuẫn trong thôn",
          "giao nộp vũ khí, vật liệu nổ", "phòng, chống lừa đảo qua mạng", "hội nghị tổng kết phong trào",
          "xây dựng khu dân cư an toàn", "bắt đối tượng truy nã", "diễn đàn lắng nghe ý kiến nhân dân"]


class ControlledScores:
    """A real score model whose scores the test chooses: one fixed row per paragraph."""

    kind = "controlled"
    segmented_input = True

    def __init__(self, by_text: dict[str, list[float]]):
        self.by_segmented = {segment(normalize_text(t)): s for t, s in by_text.items()}

    def predict_scores(self, segmented: list[str]) -> np.ndarray:
        return np.array([self.by_segmented[s] for s in segmented], dtype=np.float32)


def paragraphs(n_articles: int = 4, per: int = 3):
    rng = np.random.default_rng(0)
    rows, scores = [], {}
    for a in range(n_articles):
        for i in range(per):
            text = f"Bài {a}, đoạn {i}: {TOPICS[(a * per + i) % len(TOPICS)]}."
            rows.append({"paragraph_id": f"{a}-{i}", "article_id": f"art{a}", "text": text})
            scores[text] = rng.choice([0.02, 0.97], size=4).tolist()
    return rows, scores


def test_uncertainty_is_one_on_the_threshold_and_zero_when_sure():
    t = np.array([0.3, 0.5])
    scores = np.array([[0.3, 0.0], [0.0, 1.0], [0.15, 0.75]])
    np.testing.assert_allclose(uncertainty(scores, t), [1.0, 0.0, 0.5])


def test_suggest_returns_the_most_uncertain_paragraphs_first():
    rows, scores = paragraphs()
    planted = {"1-2": ("crime_outcomes", 0.31), "3-0": ("recognition", 0.66), "0-1": ("propaganda", 0.42)}
    for row in rows:
        if row["paragraph_id"] in planted:
            label, value = planted[row["paragraph_id"]]
            scores[row["text"]][LABELS.index(label)] = value
    tagger = Tagger(ControlledScores(scores), LABELS, THRESHOLDS)
    scored = predict(rows, tagger, LABELS)
    chosen = suggest(scored, thresholds_of(tagger, LABELS), LABELS, n=3, per_article=3, diversity=0.0)
    assert [r["paragraph_id"] for r in chosen] == ["1-2", "3-0", "0-1"]
    assert [r["rank"] for r in chosen] == [1, 2, 3] and chosen[0]["uncertainty"] > chosen[2]["uncertainty"]
    assert set(chosen[0]["scores"]) == set(LABELS)


def test_one_article_cannot_fill_the_batch():
    rows, _ = paragraphs(n_articles=3, per=4)
    unsure = np.array([0.99, 0.98, 0.97, 0.96] + [0.5] * 4 + [0.4] * 4)
    chosen = pick(unsure, [r["article_id"] for r in rows], [r["text"] for r in rows], n=6, per_article=2, diversity=0.0)
    assert [rows[i]["article_id"] for i in chosen].count("art0") == 2 and len(chosen) == 6


def test_diversity_skips_a_near_copy_of_what_is_already_chosen():
    texts = ["Công an xã tuyên truyền pháp luật cho ngư dân.", "Công an xã tuyên truyền pháp luật cho ngư dân!",
             "Tổ hòa giải giải quyết mâu thuẫn đất đai."]
    unsure = np.array([0.9, 0.89, 0.8])
    assert pick(unsure, ["a", "b", "c"], texts, 2, 5, diversity=0.0) == [0, 1]
    assert pick(unsure, ["a", "b", "c"], texts, 2, 5, diversity=0.3) == [0, 2]


@pytest.mark.parametrize("n", [0, 50])
def test_asking_for_more_than_there_is_returns_what_there_is(n):
    rows, scores = paragraphs(n_articles=2, per=2)
    scored = predict(rows, Tagger(ControlledScores(scores), LABELS), LABELS)
    assert len(suggest(scored, np.full(4, 0.5), LABELS, n, per_article=10, diversity=0.3)) == min(n, 4)
