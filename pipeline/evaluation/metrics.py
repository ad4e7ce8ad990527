"""Honest scores: folds grouped by article, real and synthetic paragraphs reported apart,
thresholds tuned only on folds other than the one being scored."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from sklearn.metrics import precision_recall_curve, precision_recall_fscore_support

Fitter = Callable[[np.ndarray], Callable[[np.ndarray], np.ndarray]]


def assign_folds(articles: list[str], sources: list[str], k: int, seed: int | None = None) -> np.ndarray:
    """Fold of every row. Whole articles go to one fold; each source is dealt round-robin on
    its own, so five real articles with k=5 is leave-one-real-article-out and synthetic
    articles never decide which real article is held out. A seed shuffles the deal (repeats)."""
    rng = None if seed is None else np.random.default_rng(seed)
    fold_of: dict[str, int] = {}
    for source in sorted(set(sources)):
        ids = sorted({a for a, s in zip(articles, sources) if s == source})
        if rng is not None:
            ids = rng.permutation(ids).tolist()
        fold_of.update({a: i % k for i, a in enumerate(ids)})
    return np.array([fold_of[a] for a in articles], dtype=int)


def repeated_folds(articles: list[str], sources: list[str], k: int, repeats: int, seed: int) -> list[np.ndarray]:
    """Repeated grouped k-fold: the first repeat is the plain deal, later ones shuffle it."""
    return [assign_folds(articles, sources, k, None if r == 0 else seed + r) for r in range(repeats)]


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
                             grid: list[float], tune_rows: np.ndarray | None = None) -> np.ndarray:
    """Decisions for each fold made with thresholds tuned on the other folds only, and there
    only on `tune_rows` (real paragraphs: written text would pull thresholds its own way)."""
    decided = np.zeros_like(y, dtype=bool)
    tune_rows = np.ones(len(y), dtype=bool) if tune_rows is None else tune_rows
    for fold in np.unique(folds):
        test = folds == fold
        rows = ~test & tune_rows
        cut = tune_thresholds(y[rows], scores[rows], grid) if rows.any() else np.full(y.shape[1], 0.5)
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


def _counts(y: np.ndarray, pred: np.ndarray, groups: np.ndarray, ids: list[str]) -> np.ndarray:
    """(articles, 3, themes): true positives, predicted and gold counts per article."""
    return np.stack([np.stack([(y[m] & pred[m]).sum(0), pred[m].sum(0), y[m].sum(0)])
                     for m in (groups == a for a in ids)]).astype(float)


def _f1s(counts: np.ndarray) -> np.ndarray:
    """Per-theme F1 from summed counts (last axis themes); 0 where nothing is gold or predicted."""
    tp, predicted, gold = counts[..., 0, :], counts[..., 1, :], counts[..., 2, :]
    return 2 * tp / np.maximum(predicted + gold, 1.0)


def _boot_weights(n_articles: int, n_boot: int, seed: int) -> np.ndarray:
    """How often each article is drawn in each bootstrap sample; the same seed gives every
    model the same samples, which is what makes a paired comparison paired."""
    return np.random.default_rng(seed).multinomial(n_articles, np.full(n_articles, 1 / n_articles), size=n_boot)


def paired_difference(y: np.ndarray, preds: list[np.ndarray], baseline: list[np.ndarray], groups: np.ndarray,
                      n_boot: int, seed: int) -> dict[str, Any]:
    """Macro-F1 of `preds` minus that of `baseline` on the same paragraphs, with a 95% interval
    from resampling whole articles for both at once. Two models' own intervals overlap long
    before their difference is noise; a gain is clear only when this interval excludes 0."""
    ids = sorted(set(groups.tolist()))
    weights = _boot_weights(len(ids), n_boot, seed)
    counts = [[_counts(y, p, groups, ids) for p in ps] for ps in (preds, baseline)]
    boot = [_f1s(np.einsum("ba,akl->bkl", weights, sum(c))).mean(1) for c in counts]
    point = np.mean([_f1s(a.sum(0)).mean() - _f1s(b.sum(0)).mean() for a, b in zip(*counts)])
    low, high = np.percentile(boot[0] - boot[1], [2.5, 97.5])
    return {"macro_f1": round(float(point), 4), "ci": [round(float(low), 4), round(float(high), 4)]}


def summarize(y: np.ndarray, preds: list[np.ndarray], groups: np.ndarray, labels: list[str],
              n_boot: int, seed: int) -> dict[str, Any]:
    """Macro-F1 and per-theme F1 (mean over repeats) with 95% bootstrap intervals that
    resample whole articles, since paragraphs of one article are not independent. Each
    bootstrap sample pools the decisions of every repeat for the articles it draws."""
    if len(y) == 0:
        return {"n": 0}
    ids = sorted(set(groups.tolist()))
    counts = sum(_counts(y, p, groups, ids) for p in preds)
    per_repeat = np.array([_f1s(_counts(y, p, groups, ids).sum(0)) for p in preds])
    weights = _boot_weights(len(ids), n_boot, seed)
    boot = _f1s(np.einsum("ba,akl->bkl", weights, counts))
    low, high = np.percentile(boot, [2.5, 97.5], axis=0)
    macro_low, macro_high = np.percentile(boot.mean(1), [2.5, 97.5])
    return {"n": int(len(y)), "articles": len(ids), "repeats": len(preds),
            "macro_f1": round(float(per_repeat.mean(1).mean()), 4),
            "macro_f1_ci": [round(float(macro_low), 4), round(float(macro_high), 4)],
            "per_theme": {label: {"f1": round(float(per_repeat[:, j].mean()), 4),
                                  "ci": [round(float(low[j]), 4), round(float(high[j]), 4)],
                                  "support": int(y[:, j].sum())} for j, label in enumerate(labels)}}
