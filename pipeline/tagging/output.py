"""Merge checkpointed part files into the final outputs, streaming, in JSONL or CSV.
OUT is written last, so its presence means the error and dropped reports are complete."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Iterator

from pipeline.files import atomic_write

FORMATS = ("jsonl", "csv")
CSV_FIELDS = ("article_id", "paragraph_index", "paragraph_id", "text", "title", "url", "published", "outlet",
              "file", "line", "labels")


def _lines(files: list[Path]) -> Iterator[str]:
    for file in files:
        with open(file, encoding="utf-8") as handle:
            yield from handle


def _csv_lines(rows: Iterator[str], labels: list[str]) -> Iterator[str]:
    """One CSV row per paragraph: labels joined by `;`, one score column per theme."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CSV_FIELDS, *labels])
    for line in rows:
        row = json.loads(line)
        writer.writerow([";".join(row["labels"]) if f == "labels" else row.get(f, "") for f in CSV_FIELDS]
                        + [row["scores"][label] for label in labels])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def report_paths(out: Path) -> tuple[Path, Path]:
    return out.with_suffix(".errors.jsonl"), out.with_suffix(".dropped.jsonl")


def merge_parts(parts: Path, out: Path, labels: list[str], fmt: str) -> None:
    errors, dropped = report_paths(out)
    atomic_write(errors, _lines(sorted(parts.glob("part-*.errors.jsonl"))))
    atomic_write(dropped, _lines(sorted(parts.glob("part-*.dropped.jsonl"))))
    rows = _lines(sorted(parts.glob("part-*.rows.jsonl")))
    atomic_write(out, rows if fmt == "jsonl" else _csv_lines(rows, labels))
