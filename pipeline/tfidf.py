"""TF-IDF over segmented words + one-vs-rest logistic regression: the fallback when no
PhoBERT backbone is available, and a fast, transparent model in its own right."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline

FILE = "tfidf.joblib"


class TfidfModel:
    kind = "tfidf"

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline

    @classmethod
    def fit(cls, segmented: list[str], targets: np.ndarray, params: dict[str, Any], seed: int) -> "TfidfModel":
        pipeline = Pipeline([
            ("tfidf", TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", ngram_range=(1, params["ngram_max"]),
                                      min_df=params["min_df"], sublinear_tf=params["sublinear_tf"])),
            ("clf", OneVsRestClassifier(LogisticRegression(C=params["C"], class_weight="balanced",
                                                           max_iter=5000, random_state=seed))),
        ])
        pipeline.fit(segmented, targets.astype(int))
        return cls(pipeline)

    def predict_scores(self, segmented: list[str]) -> np.ndarray:
        if not segmented:
            return np.zeros((0, len(self.pipeline.named_steps["clf"].estimators_)), dtype=np.float32)
        return np.asarray(self.pipeline.predict_proba(segmented), dtype=np.float32)

    def save(self, folder: Path) -> None:
        joblib.dump(self.pipeline, folder / FILE)

    @classmethod
    def load(cls, folder: Path) -> "TfidfModel":
        return cls(joblib.load(folder / FILE))
