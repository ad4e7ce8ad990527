"""TF-IDF models over segmented words: the one-vs-rest logistic regression (the fallback when
no PhoBERT backbone is available, and a fast, transparent model in its own right) and the
student distilled from PhoBERT's soft labels for fast CPU tagging."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline

FILE = "tfidf.joblib"
LOGIT_CLIP = 6.0


class RuleHits(BaseEstimator, TransformerMixin):
    """Keyword-rule cue hits (configs/rules.yaml) as extra features, one per cue pattern plus
    the plan flags: the cue words carry what annotators look for, and the classifier learns
    how far to trust each of them."""

    def __init__(self, config: dict[str, Any] | None = None, labels: list[str] | None = None, weight: float = 1.0):
        self.config, self.labels, self.weight = config, labels, weight

    def fit(self, texts, y=None) -> "RuleHits":
        from pipeline.models.rules import RulesModel

        self.rules_ = RulesModel(self.config, self.labels)  # regexes compiled once, not per batch
        return self

    def transform(self, texts) -> sparse.csr_matrix:
        return sparse.csr_matrix(self.weight * self.rules_.cue_hits(list(texts)))


def features(params: dict[str, Any], labels: list[str]) -> FeatureUnion:
    """Word n-grams always; character n-grams (robust to segmentation slips) and rule hits
    when params ask for them."""
    parts: list[tuple[str, Any]] = [
        ("words", TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", ngram_range=(1, params["ngram_max"]),
                                  min_df=params["min_df"], sublinear_tf=params["sublinear_tf"]))]
    if params.get("char_ngram_max", 0):
        parts.append(("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, params["char_ngram_max"]),
                                               min_df=params["min_df"], sublinear_tf=params["sublinear_tf"])))
    if params.get("rule_features", False):
        from pipeline.config import load_yaml

        parts.append(("rules", RuleHits(load_yaml("rules.yaml"), labels, params.get("rule_weight", 1.0))))
    return FeatureUnion(parts)


def one_vs_rest(C: float, seed: int, weighted: bool = False) -> OneVsRestClassifier:
    """One balanced logistic regression per theme; `weighted` lets it take per-row weights."""
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=seed)
    if weighted:
        with sklearn.config_context(enable_metadata_routing=True):
            clf.set_fit_request(sample_weight=True)
    return OneVsRestClassifier(clf)


def fit_weighted(pipeline: Pipeline, inputs: Any, targets: np.ndarray, weights: np.ndarray | None) -> None:
    """Fit, passing per-row weights (the training mix of sources) to the classifier only: the
    steps before it (a scaler, say) are fitted unweighted."""
    if weights is None:
        pipeline.fit(inputs, targets.astype(int))
        return
    with sklearn.config_context(enable_metadata_routing=True):
        for _, step in pipeline.steps[:-1]:
            if hasattr(step, "set_fit_request"):
                step.set_fit_request(sample_weight=False)
        pipeline.fit(inputs, targets.astype(int), sample_weight=weights)


class TfidfModel:
    kind = "tfidf"
    segmented_input = True

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline

    @classmethod
    def fit(cls, segmented: list[str], targets: np.ndarray, params: dict[str, Any], seed: int,
            labels: list[str], weights: np.ndarray | None = None) -> "TfidfModel":
        pipeline = Pipeline([("features", features(params, labels)),
                             ("clf", one_vs_rest(params["C"], seed, weighted=weights is not None))])
        fit_weighted(pipeline, segmented, targets, weights)
        return cls(pipeline)

    def _width(self) -> int:
        return len(self.pipeline.named_steps["clf"].estimators_)

    def predict_scores(self, segmented: list[str]) -> np.ndarray:
        if not segmented:
            return np.zeros((0, self._width()), dtype=np.float32)
        return np.asarray(self.pipeline.predict_proba(segmented), dtype=np.float32)

    def save(self, folder: Path) -> None:
        joblib.dump(self.pipeline, folder / FILE)

    @classmethod
    def load(cls, folder: Path, meta: dict[str, Any] | None = None) -> "TfidfModel":
        return cls(joblib.load(folder / FILE))


class StudentModel(TfidfModel):
    """TF-IDF + ridge regression on the teacher's logits: it learns PhoBERT's graded
    judgement (soft labels), not just the gold 0/1, and tags on CPU in microseconds."""

    kind = "student"

    @classmethod
    def distil(cls, segmented: list[str], teacher_scores: np.ndarray, params: dict[str, Any],
               tfidf_params: dict[str, Any], labels: list[str]) -> "StudentModel":
        p = np.clip(teacher_scores.astype(np.float64), 1e-6, 1 - 1e-6)
        logits = np.clip(np.log(p / (1 - p)), -LOGIT_CLIP, LOGIT_CLIP)
        pipeline = Pipeline([("features", features(tfidf_params, labels)), ("reg", Ridge(alpha=params["alpha"]))])
        pipeline.fit(segmented, logits)
        return cls(pipeline)

    def _width(self) -> int:
        return int(np.atleast_2d(self.pipeline.named_steps["reg"].coef_).shape[0])

    def predict_scores(self, segmented: list[str]) -> np.ndarray:
        if not segmented:
            return np.zeros((0, self._width()), dtype=np.float32)
        return (1 / (1 + np.exp(-self.pipeline.predict(segmented)))).astype(np.float32)
