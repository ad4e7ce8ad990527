"""Active learning: which unlabelled paragraphs to label next. The model learns most from
paragraphs it is unsure about, but the most uncertain ones tend to come from one odd
article; a cap per article and maximal marginal relevance keep the batch varied."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer


def uncertainty(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per paragraph, 1 when some theme's score sits on its threshold, 0 when every score is
    a sure 0 or 1. Distances are scaled by the room on that side of the threshold, so a
    threshold of 0.2 does not make every low score look certain."""
    room = np.where(scores >= thresholds, 1.0 - thresholds, thresholds)
    closeness = 1.0 - np.abs(scores - thresholds) / np.maximum(room, 1e-9)
    return np.clip(closeness, 0.0, 1.0).max(axis=1) if scores.size else np.zeros(len(scores))


def pick(unsure: np.ndarray, articles: list[str], texts: list[str], n: int,
         per_article: int, diversity: float) -> list[int]:
    """Greedy MMR: each step takes the paragraph maximising
    (1 - diversity) * uncertainty - diversity * (max cosine similarity to those taken),
    never more than `per_article` from one article."""
    if not len(texts) or n <= 0:
        return []
    vectors = TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", sublinear_tf=True).fit_transform(texts)
    closest = np.zeros(len(texts))
    taken: list[int] = []
    per: dict[str, int] = {}
    available = np.ones(len(texts), dtype=bool)
    while len(taken) < n:
        value = (1.0 - diversity) * unsure - diversity * closest
        value[~available] = -np.inf
        best = int(np.argmax(value))
        if not np.isfinite(value[best]):
            break
        taken.append(best)
        available[best] = False
        per[articles[best]] = per.get(articles[best], 0) + 1
        if per[articles[best]] >= per_article:
            available &= np.array([a != articles[best] for a in articles])
        closest = np.maximum(closest, (vectors @ vectors[best].T).toarray().ravel())
    return taken


def suggest(rows: list[dict[str, Any]], thresholds: np.ndarray, labels: list[str], n: int,
            per_article: int, diversity: float) -> list[dict[str, Any]]:
    """`rows` carry the model's `scores`; the chosen ones come back in labelling order with
    their `uncertainty` and `rank`."""
    scores = np.array([[r["scores"][label] for label in labels] for r in rows], dtype=float).reshape(len(rows), len(labels))
    unsure = uncertainty(scores, thresholds)
    chosen = pick(unsure, [r.get("article_id", "") for r in rows], [r["text"] for r in rows], n, per_article, diversity)
    return [{**rows[i], "uncertainty": round(float(unsure[i]), 4), "rank": rank}
            for rank, i in enumerate(chosen, 1)]
