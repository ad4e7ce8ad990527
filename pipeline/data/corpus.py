"""Paragraphs + gold labels → a Hugging Face DatasetDict on disk (`labelled`, `unlabelled`),
with the word-segmented text computed once here for every later stage."""
from __future__ import annotations

import logging
from typing import Any

from datasets import Dataset, DatasetDict
from rich.progress import track

from pipeline.data.annotations import Annotation
from pipeline.text import segment

log = logging.getLogger(__name__)


def join(paragraphs: list[dict[str, Any]], gold: dict[str, Annotation], labels: list[str]
         ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Pure: split paragraphs into labelled and unlabelled rows and list annotation ids that
    match no paragraph (stale after an edit of the text, or from another collection)."""
    labelled, unlabelled, seen = [], [], set()
    for p in paragraphs:
        row = {k: p[k] for k in ("paragraph_id", "article_id", "paragraph_index", "text", "source")}
        ann = gold.get(p["paragraph_id"])
        if ann is None:
            unlabelled.append(row)
            continue
        seen.add(p["paragraph_id"])
        labelled.append({**row, "labels": list(ann.labels),
                         "targets": [float(label in ann.labels) for label in labels]})
    return labelled, unlabelled, sorted(set(gold) - seen)


def build(paragraphs: list[dict[str, Any]], gold: dict[str, Annotation], labels: list[str]
          ) -> tuple[DatasetDict, dict[str, Any]]:
    labelled, unlabelled, orphans = join(paragraphs, gold, labels)
    if orphans:
        log.warning("%d annotation(s) match no ingested paragraph (first: %s)", len(orphans), orphans[0])
    for row in track(labelled + unlabelled, description="Word-segmenting", transient=True):
        row["segmented"] = segment(row["text"])
    stats = {
        "labelled": len(labelled),
        "unlabelled": len(unlabelled),
        "unmatched_annotations": len(orphans),
        "by_source": {s: sum(r["source"] == s for r in labelled) for s in sorted({r["source"] for r in labelled})},
        "positives": {label: sum(label in r["labels"] for r in labelled) for label in labels},
        "no_theme": sum(not r["labels"] for r in labelled),
    }
    # Empty splits are left out: `datasets` cannot load back a split saved with no rows.
    splits = {"labelled": labelled, "unlabelled": unlabelled}
    data = DatasetDict({name: Dataset.from_list(rows) for name, rows in splits.items() if rows})
    return data, stats
