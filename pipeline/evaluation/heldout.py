"""The held-out block: real-register pages that training, threshold tuning and model choice
never see, scored once per model. Cross-validation scores carry the choices made on them
(settings, thresholds, the training mix); this block is the number that carries none."""
from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.evaluation import metrics as ev
from pipeline.models.base import ScoreModel, Texts


def thresholds_from_cv(y: np.ndarray, oof_scores: list[np.ndarray], real: np.ndarray, grid: list[float]) -> np.ndarray:
    """Per-theme thresholds tuned on the out-of-fold scores of real paragraphs, all repeats."""
    return ev.tune_thresholds(np.vstack([y[real]] * len(oof_scores)), np.vstack([s[real] for s in oof_scores]), grid)


def score(models: dict[str, ScoreModel], thresholds: dict[str, np.ndarray], texts: Texts, y: np.ndarray,
          groups: np.ndarray, labels: list[str], n_boot: int, seed: int) -> dict[str, Any]:
    """Macro-F1 with page-bootstrap intervals per model, and its paired gain over the rules."""
    decided = {name: model.predict_scores(texts.read_by(model)) >= thresholds[name] for name, model in models.items()}
    result: dict[str, Any] = {}
    for name, pred in decided.items():
        result[name] = ev.summarize(y, [pred], groups, labels, n_boot, seed)
        result[name]["per_theme_recall"] = {label: round(float(ev.report(y, pred, labels)["per_theme"][label]["recall"]), 4)
                                            for label in labels}
        if "rules" in decided and name != "rules":
            result[name]["vs_rules"] = ev.paired_difference(y, [pred], [decided["rules"]], groups, n_boot, seed)
    return result
