"""Honest scores: folds grouped by article, real and synthetic paragraphs reported apart,
thresholds tuned only on folds other than the one being scored."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from sklearn.metrics import precision_recall_curve, precision_recall_fscore_support

Fitter = Callable[[np.ndarray], Callable[[np.ndarray], np.ndarray]]


def assign_folds(articles: list[str], sources: list[str], k: int) -> np.ndarray:
    """Fold of every row. Whole articles go to one fold; each source is dealt round-robin on
    its own, so five real articles with k=5 is leave-one-real-article-out and synthetic
    articles never decide which real article is held out."""
    fold_of: dict[str, int] = {}
    for source in sorted(set(sources)):
        ids = sorted({a for a, s in zip(articles, sources) if s == source})
        fold_of.update({a: i % k for i, a in enumerate(ids)})
    return np.array([fold_of[a] for a in articles], dtype=int)


def cross_val_scores(folds: np.ndarray, fit_predict: Fitter, n_labels: int) -> np.ndarray:
    """Out-of-fold scores. `fit_predict(train_mask)` trains and returns a scorer of test rows."""
    scores = np.zeros((len(folds), n_labels), dtype=np.float32)
    for fold in np.unique(folds):
        test = folds == fold
        scorer = fit_predict(~test)
        scores[test] = scorer(test)
    return scores


def tune_thresholds(y: np.ndarray, scores: np.ndarray, grid: list[float]) -> np.ndarray:
    """Per theme, the grid threshold with the best F1 (ties: the one closest to 0.5)."""
    best = []
    for j in range(y.shape[1]):
        f1 = [(_f1(y[:, j], scores[:, j] >= t), -abs(t - 0.5), t) for t in grid]
        best.append(max(f1)[2])
    return np.array(best)


def cross_fitted_predictions(y: np.ndarray, scores: np.ndarray, folds: np.ndarray,
                             grid: list[float]) -> np.ndarray:
    """Decisions for each fold made with thresholds tuned on the other folds only."""
    decided = np.zeros_like(y, dtype=bool)
    for fold in np.unique(folds):
        test = folds == fold
        cut = tune_thresholds(y[~test], scores[~test], grid) if (~test).any() else np.full(y.shape[1], 0.5)
        decided[test] = scores[test] >= cut
    return decided


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float((y & pred).sum())
    return 2 * tp / max(float(y.sum() + pred.sum()), 1.0)


def report(y: np.ndarray, pred: np.ndarray, labels: list[str]) -> dict[str, Any]:
    if len(y) == 0:
        return {"n": 0}
    p, r, f, support = precision_recall_fscore_support(y, pred, average=None, zero_division=0)
    micro = precision_recall_fscore_support(y, pred, average="micro", zero_division=0)[2]
    per_theme = {label: {"precision": round(float(p[j]), 4), "recall": round(float(r[j]), 4),
                         "f1": round(float(f[j]), 4), "support": int(support[j])}
                 for j, label in enumerate(labels)}
    return {"n": int(len(y)), "micro_f1": round(float(micro), 4),
            "macro_f1": round(float(np.mean(f)), 4), "per_theme": per_theme}


def pr_curves(y: np.ndarray, scores: np.ndarray, labels: list[str]) -> dict[str, list[dict[str, float]]]:
    curves = {}
    for j, label in enumerate(labels):
        if y[:, j].any():
            p, r, t = precision_recall_curve(y[:, j], scores[:, j])
            curves[label] = [{"recall": float(rr), "precision": float(pp), "threshold": float(tt)}
                             for pp, rr, tt in zip(p, r, np.append(t, 1.0))]
    return curves
