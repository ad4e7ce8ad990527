"""Corpus consistency: labels that contradict each other and paragraphs that leak between
articles. Both make cross-validated scores lie, so the check runs before training."""
from __future__ import annotations

import re
from collections import defaultdict
from itertools import combinations
from typing import Any

from pipeline.text import normalize_text

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-cased words of the normalised text, punctuation and segmentation marks dropped."""
    return _WORD.findall(normalize_text(text).replace("_", " ").lower())


def shingles(text: str, size: int) -> frozenset[str]:
    tokens = words(text)
    if len(tokens) <= size:
        return frozenset([" ".join(tokens)]) if tokens else frozenset()
    return frozenset(" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    return {"paragraph_id": row["paragraph_id"], "article_id": row["article_id"],
            "labels": list(row["labels"]), "text": row["text"][:100]}


def label_conflicts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups of paragraphs whose words are identical (case, punctuation and spacing aside)
    but whose labels differ: one of the labellings is wrong."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[" ".join(words(row["text"]))].append(row)
    return [{"paragraphs": [_brief(r) for r in group]} for group in groups.values()
            if len({tuple(sorted(r["labels"])) for r in group}) > 1]


def near_duplicates(rows: list[dict[str, Any]], size: int, minimum: float) -> list[dict[str, Any]]:
    """Pairs from different articles whose word-shingle Jaccard similarity is at least
    `minimum`, most similar first. Only pairs sharing a shingle are compared, so the cost
    follows the overlap, not the square of the corpus."""
    sets = [shingles(r["text"], size) for r in rows]
    index: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for shingle in s:
            index[shingle].append(i)
    candidates = {pair for ids in index.values() for pair in combinations(ids, 2)}
    pairs = []
    for i, j in sorted(candidates):
        if rows[i]["article_id"] == rows[j]["article_id"]:
            continue
        similarity = jaccard(sets[i], sets[j])
        if similarity >= minimum:
            pairs.append({"similarity": round(similarity, 4), "same_labels": sorted(rows[i]["labels"]) == sorted(rows[j]["labels"]),
                          "a": _brief(rows[i]), "b": _brief(rows[j])})
    return sorted(pairs, key=lambda p: (-p["similarity"], p["a"]["paragraph_id"], p["b"]["paragraph_id"]))


def label_counts(rows: list[dict[str, Any]], labels: list[str]) -> dict[str, dict[str, Any]]:
    counts: dict[str, dict[str, Any]] = {}
    for source in sorted({r["source"] for r in rows}) + ["all"]:
        chosen = [r for r in rows if source in ("all", r["source"])]
        counts[source] = {"paragraphs": len(chosen),
                          "articles": len({r["article_id"] for r in chosen}),
                          "positives": {label: sum(label in r["labels"] for r in chosen) for label in labels},
                          "no_theme": sum(not r["labels"] for r in chosen)}
    return counts


def check(rows: list[dict[str, Any]], labels: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """The report of the `check` stage. `errors` must be empty for training to go ahead."""
    similar = near_duplicates(rows, params["shingle_words"], params["near_duplicate_warning"])
    leaks = [p for p in similar if p["similarity"] >= params["near_duplicate_error"]]
    counts = label_counts(rows, labels)
    targets = params.get("targets", {})
    short = {name: {"want": want, "have": have} for name, want, have in [
        ("labelled", targets.get("labelled", 0), counts["all"]["paragraphs"]),
        ("no_theme", targets.get("no_theme", 0), counts["all"]["no_theme"]),
        *((f"positives.{label}", targets.get("positives_per_theme", 0), counts["all"]["positives"][label])
          for label in labels)] if have < want}
    return {
        "errors": {"label_conflicts": label_conflicts(rows), "near_duplicates": leaks},
        "warnings": {"near_duplicates": [p for p in similar if p["similarity"] < params["near_duplicate_error"]],
                     "below_targets": short},
        "counts": counts,
    }


def error_messages(report: dict[str, Any], limit: int = 20) -> list[str]:
    """One line per problem, naming the paragraphs, so the failing stage says what to fix."""
    lines = []
    for group in report["errors"]["label_conflicts"]:
        named = "; ".join(f"{p['paragraph_id']} ({p['article_id']}) {p['labels']}" for p in group["paragraphs"])
        lines.append(f"same text, different labels: {named} — {group['paragraphs'][0]['text']!r}")
    for pair in report["errors"]["near_duplicates"]:
        a, b = pair["a"], pair["b"]
        lines.append(f"near-duplicate across articles (Jaccard {pair['similarity']}): "
                     f"{a['paragraph_id']} ({a['article_id']}) {a['text'][:60]!r} ~ "
                     f"{b['paragraph_id']} ({b['article_id']}) {b['text'][:60]!r}")
    return lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else [])
