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
        per_theme = ev.report(y, pred, labels)["per_theme"]
        result[name] = ev.summarize(y, [pred], groups, labels, n_boot, seed)
        result[name]["per_theme_recall"] = {label: per_theme[label]["recall"] for label in labels}
        if "rules" in decided and name != "rules":
            result[name]["vs_rules"] = ev.paired_difference(y, [pred], [decided["rules"]], groups, n_boot, seed)
    return result


def markdown(result: dict[str, Any], labels: list[str]) -> list[str]:
    """The held-out table: one row per model, macro-F1 and the paired gain over the rules with
    page-bootstrap intervals, and per-theme recall (what users miss when a theme is missed)."""
    from pipeline.evaluation.compare import gain_cell, interval

    if not result:
        return []
    lines = ["## Held-out block (outlets never trained on, tuned on or chosen by; scored once)", "",
             "| model | n | pages | macro-F1 [95% CI] | vs rules [95% CI] | " + " | ".join(f"recall {l}" for l in labels) + " |",
             "|" + "---|" * (5 + len(labels))]
    for name, rep in result.items():
        lines.append(f"| {name} | {rep['n']} | {rep['articles']} | {interval(rep['macro_f1'], rep['macro_f1_ci'])} | "
                     f"{gain_cell(rep.get('vs_rules'))} | "
                     + " | ".join(f"{rep['per_theme_recall'][l]:.2f}" for l in labels) + " |")
    return lines


def mlflow_metrics(result: dict[str, Any], labels: list[str]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for name, rep in result.items():
        metrics |= {f"heldout_{name}_macro_f1": rep["macro_f1"], f"heldout_{name}_macro_f1_lo": rep["macro_f1_ci"][0],
                    f"heldout_{name}_macro_f1_hi": rep["macro_f1_ci"][1]}
        metrics |= {f"heldout_{name}_recall_{l}": rep["per_theme_recall"][l] for l in labels}
        if gain := rep.get("vs_rules"):
            metrics |= {f"heldout_{name}_vs_rules": gain["macro_f1"], f"heldout_{name}_vs_rules_lo": gain["ci"][0],
                        f"heldout_{name}_vs_rules_hi": gain["ci"][1]}
    return metrics
