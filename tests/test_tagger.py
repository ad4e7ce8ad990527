import numpy as np
import pytest

from pipeline.config import LABELS, load_params
from pipeline.tagging.tagger import Tagger
from pipeline.models.tfidf import TfidfModel
from pipeline.text import segment


@pytest.fixture(scope="module")
def tagger(seed_paragraphs, seed_gold):
    texts = [segment(p["text"]) for p in seed_paragraphs]
    y = np.array([[l in seed_gold[p["paragraph_id"]].labels for l in LABELS] for p in seed_paragraphs])
    return Tagger(TfidfModel.fit(texts, y, load_params()["tfidf"], 0, LABELS), LABELS, {"recognition": 0.3})


def test_frame_has_one_row_per_input_in_order(tagger, seed_paragraphs):
    texts = [p["text"] for p in seed_paragraphs[:6]]
    frame = tagger.predict_frame(texts)
    assert list(frame.columns) == ["labels", *LABELS] and len(frame) == 6
    reversed_frame = tagger.predict_frame(texts[::-1])
    np.testing.assert_allclose(reversed_frame[LABELS].to_numpy()[::-1], frame[LABELS].to_numpy())


@pytest.mark.parametrize("blank", ["", "   \n\t", None, float("nan")])
def test_blank_input_gives_empty_labels_and_zero_scores(tagger, blank):
    frame = tagger.predict_frame([blank, "Công an đã bắt 5 đối tượng."])
    assert frame.loc[0, "labels"] == [] and frame.loc[0, LABELS].sum() == 0
    assert frame.loc[1, LABELS].sum() > 0


def test_thresholds_decide_labels_best_first(tagger):
    scores = np.array([[0.6, 0.4, 0.5, 0.31], [0.31, 0.2, 0.9, 0.35]])
    assert tagger.decide(scores) == [["propaganda", "grassroots_models", "recognition"],
                                     ["grassroots_models", "recognition"]]


def test_save_load_keeps_kind_thresholds_and_scores(tagger, tmp_path, seed_paragraphs):
    tagger.info = {"model_kind": "tfidf"}
    loaded = Tagger.load(tagger.save(tmp_path / "t"))
    texts = [p["text"] for p in seed_paragraphs[:5]]
    assert loaded.thresholds == tagger.thresholds and loaded.info["model_kind"] == "tfidf"
    np.testing.assert_allclose(loaded.scores(texts), tagger.scores(texts))


def test_rules_read_raw_text_without_segmenting(monkeypatch):
    from pipeline.tagging import tagger as tagger_module
    from pipeline.tagging.tagger import rules_tagger

    monkeypatch.setattr(tagger_module, "segment", lambda text: pytest.fail("rules do not need segmentation"))
    frame = rules_tagger(LABELS).predict_frame(["Công an huyện đã bắt 12 đối tượng."])
    assert frame.loc[0, "labels"] == ["crime_outcomes"]
