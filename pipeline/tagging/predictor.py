"""Which model scores paragraphs for labellers: the registered tagger when there is one,
the keyword rules otherwise, so pre-annotations exist from the very first round."""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from pipeline.config import path

log = logging.getLogger(__name__)


def model_exists(model: str) -> bool:
    return ":/" in model or path(model).exists()


def load_predictor(model: str, labels: list[str], rules_fallback: bool = True) -> tuple[Any, str]:
    """(object with the pyfunc `predict(frame)`, a name for it). A saved Tagger folder
    (`tagger.json`, e.g. models/trained) is loaded as it is, an MLflow URI or folder as a pyfunc;
    a missing folder falls back to the rules when allowed."""
    from pipeline.tagging.tagger import INFO, Tagger

    if ":/" not in model and (path(model) / INFO).is_file():
        return Tagger.load(path(model)), model
    if model_exists(model):
        import mlflow.pyfunc

        return mlflow.pyfunc.load_model(model if ":/" in model else str(path(model))), model
    if not rules_fallback:
        raise FileNotFoundError(f"no model at {model}: run `dvc repro` first or pass --model")
    from pipeline.tagging.tagger import rules_tagger

    log.warning("no model at %s: pre-annotations come from the keyword rules (configs/rules.yaml)", model)
    return rules_tagger(labels), "rules"


def thresholds_of(predictor: Any, labels: list[str]) -> np.ndarray:
    """Decision thresholds per theme: the Tagger's own (also inside our pyfunc), else 0.5."""
    tagger = predictor
    if hasattr(predictor, "unwrap_python_model"):
        tagger = getattr(predictor.unwrap_python_model(), "tagger", None)
    found = getattr(tagger, "thresholds", {}) or {}
    return np.array([float(found.get(label, 0.5)) for label in labels])
