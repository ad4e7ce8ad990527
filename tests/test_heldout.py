"""The held-out block's scoring: thresholds from cross-validation on real rows, one score per
model with page-bootstrap intervals, the paired gain over the rules, per-theme recall."""
import numpy as np

from pipeline.config import LABELS
from pipeline.evaluation import heldout
from pipeline.models.base import Texts


class Fixed:
    """A model whose scores are given: what is tested is the scoring, not a model."""

    segmented_input = False

    def __init__(self, scores):
        self.scores = np.asarray(scores, dtype=np.float32)

    def predict_scores(self, texts):
        return self.scores[: len(texts)]


def test_thresholds_come_from_real_out_of_fold_scores():
    y = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=bool)
    oof = [np.array([[0.7, 0.1, 0, 0], [0.1, 0.9, 0, 0], [0.2, 0.1, 0, 0], [0.9, 0.1, 0, 0]], dtype=np.float32)]
    real = np.array([True, True, False, False])  # the written rows would pull propaganda's cut down
    cut = heldout.thresholds_from_cv(y, oof, real, [0.15, 0.5, 0.65])
    assert cut[0] == 0.5 and cut[1] == 0.5


def test_each_model_is_scored_once_with_its_gain_over_the_rules():
    y = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [1, 1, 0, 0]], dtype=bool)
    perfect, rules = y.astype(np.float32), np.zeros_like(y, dtype=np.float32)
    models = {"rules": Fixed(rules), "model": Fixed(perfect)}
    cuts = {name: np.full(len(LABELS), 0.5) for name in models}
    texts = Texts(["a"] * 6, ["a"] * 6)
    result = heldout.score(models, cuts, texts, y, np.array(["p1", "p1", "p2", "p3", "p3", "p4"]), LABELS, 200, 0)
    assert result["model"]["macro_f1"] == 1.0 and result["rules"]["macro_f1"] == 0.0
    assert result["model"]["articles"] == 4 and "vs_rules" not in result["rules"]
    assert result["model"]["vs_rules"]["macro_f1"] == 1.0 and result["model"]["per_theme_recall"] == dict.fromkeys(LABELS, 1.0)
    lines = heldout.markdown(result, LABELS)
    assert lines[0].startswith("## Held-out block") and "| model | 6 | 4 | 1.000" in "\n".join(lines)
    metrics = heldout.mlflow_metrics(result, LABELS)
    assert metrics["heldout_model_vs_rules"] == 1.0 and "heldout_rules_vs_rules" not in metrics
