"""Gold labels: read and validate `data/annotations/*.jsonl`. A bad line stops the stage
with file:line and what to fix; a silent mistake here would poison every score."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable


class AnnotationError(Exception):
    """An annotation file is wrong; the message names the file and line."""


@dataclass(frozen=True)
class Annotation:
    paragraph_id: str
    labels: tuple[str, ...]
    source: str
    where: str


def parse_line(line: str, where: str, labels: list[str]) -> Annotation:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise AnnotationError(f"{where}: not valid JSON ({err.msg}); "
                              'expected {"paragraph_id": "...", "labels": [...]}') from err
    if not isinstance(record, dict) or not isinstance(record.get("paragraph_id"), str):
        raise AnnotationError(f"{where}: missing string 'paragraph_id'")
    found = record.get("labels")
    if not isinstance(found, list) or not all(isinstance(x, str) for x in found):
        raise AnnotationError(f"{where}: 'labels' must be a list of theme names ([] for none)")
    unknown = sorted(set(found) - set(labels))
    if unknown:
        raise AnnotationError(f"{where}: unknown label(s) {unknown}; allowed: {labels}")
    ordered = tuple(label for label in labels if label in found)
    return Annotation(record["paragraph_id"], ordered, str(record.get("source", "seed")), where)


def read_annotations(files: Iterable[Path], labels: list[str]) -> dict[str, Annotation]:
    """All annotations by paragraph id. The same id twice with the same labels is fine
    (merged); with different labels it is a conflict someone must settle."""
    merged: dict[str, Annotation] = {}
    for file in files:
        with open(file, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                ann = parse_line(line, f"{file}:{number}", labels)
                previous = merged.get(ann.paragraph_id)
                if previous and previous.labels != ann.labels:
                    raise AnnotationError(
                        f"{ann.where}: paragraph {ann.paragraph_id} is labelled {list(ann.labels)} "
                        f"but {previous.where} says {list(previous.labels)}; keep one of them")
                merged.setdefault(ann.paragraph_id, ann)
    return merged


def annotation_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise AnnotationError(f"{folder}: no *.jsonl annotation files; see data/annotations/README.md")
    return files
