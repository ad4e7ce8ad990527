"""Batch tagging: files, folders, JSONL/CSV collections → one JSON line per paragraph.
Every paragraph ends up in the output or in OUT.errors.jsonl; furniture in OUT.dropped.jsonl."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
from rich.progress import Progress

from pipeline.files import write_jsonl
from pipeline.ingest import Furniture, split_article
from pipeline.readers import ReadError, discover, read_file

log = logging.getLogger(__name__)
KEEP = ("article_id", "paragraph_index", "paragraph_id", "text", "title", "url", "published", "outlet", "file", "line",
        "line_end")


@dataclass
class TagReport:
    paragraphs: int = 0
    files: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    theme_counts: dict[str, int] = field(default_factory=dict)


def _paragraphs(paths: list[Path], furniture: Furniture, report: TagReport, progress: Progress) -> Iterator[dict]:
    try:
        files = discover(paths)
    except ReadError as err:
        report.errors.append({"file": "", "paragraph": None, "reason": str(err)})
        return
    task = progress.add_task("Tagging", total=len(files))
    for file in files:
        for article in read_file(file, furniture.html):
            if isinstance(article, ReadError):
                report.errors.append({"file": str(file), "paragraph": None, "reason": str(article)})
                continue
            kept, dropped = split_article(article, furniture, source="input")
            report.dropped += dropped
            yield from kept
        report.files += 1
        progress.advance(task)


def _batches(items: Iterator[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _tagged(model, batches: Iterator[list[dict]], labels: list[str], report: TagReport) -> Iterator[dict]:
    for batch in batches:
        try:
            result = model.predict(pd.DataFrame({"text": [p["text"] for p in batch]}))
        except Exception as err:  # a model failure must not lose the batch: report each paragraph
            log.exception("model failed on a batch of %d paragraphs", len(batch))
            report.errors += [{"file": p["file"], "paragraph": p["paragraph_index"], "text": p["text"],
                               "reason": f"model error: {err}"} for p in batch]
            continue
        for p, (_, row) in zip(batch, result.iterrows()):
            record = {k: p[k] for k in KEEP if k in p}
            record["labels"] = list(row["labels"])
            record["scores"] = {label: round(float(row[label]), 4) for label in labels}
            for label in record["labels"]:
                report.theme_counts[label] = report.theme_counts.get(label, 0) + 1
            report.paragraphs += 1
            yield record


def tag(paths: list[Path], out: Path, model: Any, labels: list[str], furniture: Furniture,
        batch_size: int = 64) -> TagReport:
    """`model` is an MLflow model URI or folder, or anything with the pyfunc `predict(frame)`."""
    if isinstance(model, str):
        import mlflow.pyfunc

        model = mlflow.pyfunc.load_model(model)
    report = TagReport(theme_counts={label: 0 for label in labels})
    with Progress() as progress:
        paragraphs = _paragraphs(paths, furniture, report, progress)
        write_jsonl(out, _tagged(model, _batches(paragraphs, batch_size), labels, report))
    write_jsonl(out.with_suffix(".errors.jsonl"), report.errors)
    write_jsonl(out.with_suffix(".dropped.jsonl"), report.dropped)
    return report
