import numpy as np
import pytest

from pipeline.config import LABELS, load_params
from pipeline.tagging.tagger import Tagger
from pipeline.models.tfidf import StudentModel, TfidfModel
from pipeline.text import segment


@pytest.fixture(scope="module")
def seed_data(seed_paragraphs, seed_gold):
    texts = [segment(p["text"]) for p in seed_paragraphs]
    y = np.array([[l in seed_gold[p["paragraph_id"]].labels for l in LABELS] for p in seed_paragraphs])
    return texts, y


def test_rule_hits_and_char_ngrams_are_optional_features(seed_data):
    texts, y = seed_data
    params = load_params()["tfidf"]
    plain = TfidfModel.fit(texts, y, params | {"rule_features": False, "char_ngram_max": 0}, 0, LABELS)
    richer = TfidfModel.fit(texts, y, params | {"rule_features": True, "char_ngram_max": 4}, 0, LABELS)
    parts = [name for name, _ in richer.pipeline.named_steps["features"].transformer_list]
    assert parts == ["words", "chars", "rules"]
    assert [n for n, _ in plain.pipeline.named_steps["features"].transformer_list] == ["words"]
    assert richer.predict_scores(texts).shape == (len(texts), len(LABELS))


def test_student_learns_the_teachers_soft_labels_and_reloads(seed_data, tmp_path):
    texts, y = seed_data
    teacher = np.clip(y * 0.7 + np.linspace(0.05, 0.25, len(texts))[:, None], 0, 1)
    params = load_params()
    student = StudentModel.distil(texts, teacher, params["student"] | {"alpha": 0.1}, params["tfidf"], LABELS)
    got = student.predict_scores(texts)
    assert np.corrcoef(got.ravel(), teacher.ravel())[0, 1] > 0.95
    loaded = Tagger.load(Tagger(student, LABELS).save(tmp_path / "s"))
    assert loaded.model.kind == "student"
    np.testing.assert_allclose(loaded.model.predict_scores(texts[:3]), got[:3], atol=1e-6)
    assert student.predict_scores([]).shape == (0, len(LABELS))
