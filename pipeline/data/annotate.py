"""The labelling round trip: unlabelled paragraphs out as a CSV and Label Studio tasks (with
pre-annotations), labels back into data/annotations/ — validated in full before anything is
written, because a half-imported file is worse than none."""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from pipeline.data import labelstudio
from pipeline.data.annotations import Annotation, AnnotationError, annotation_files, read_annotations
from pipeline.config import path
from pipeline.files import atomic_write, read_jsonl, write_json
from pipeline.data.ingest import Furniture, split_article
from pipeline.data.readers import discover, read_any
from pipeline.text import paragraph_id

NONE = labelstudio.NONE
CSV_COLUMNS = ["paragraph_id", "article_id", "text", "suggested", "labels"]
_SPLIT = re.compile(r"[;,|]")


def _is_paragraph_file(file: Path) -> bool:
    """JSONL/CSV files of paragraph records (`antq suggest`, `antq tag` output, an export)."""
    if file.suffix.lower() not in {".jsonl", ".csv"}:
        return False
    with open(file, encoding="utf-8-sig") as handle:
        first = handle.readline()
    if file.suffix.lower() == ".csv":
        return "paragraph_id" in next(csv.reader([first]), [])
    try:
        return "paragraph_id" in json.loads(first)
    except (json.JSONDecodeError, TypeError):
        return False


def _read_paragraph_file(file: Path) -> list[dict[str, Any]]:
    if file.suffix.lower() == ".jsonl":
        return read_jsonl(file)
    with open(file, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def read_paragraphs(paths: list[Path], furniture: Furniture) -> list[dict[str, Any]]:
    """Paragraph records from paragraph files as they are, from anything else as `antq tag`
    splits it (articles, folders, JSONL/CSV article collections)."""
    rows: list[dict[str, Any]] = []
    for file in discover(paths):
        if _is_paragraph_file(file):
            rows += _read_paragraph_file(file)
            continue
        for article in read_any(file, furniture.html):
            rows += split_article(article, furniture, source="input")[0]
    return rows


def unlabelled(rows: Iterable[dict[str, Any]], annotated: set[str]) -> list[dict[str, Any]]:
    """Rows nobody labelled yet, each paragraph once."""
    seen = set(annotated)
    out = []
    for row in rows:
        if row["paragraph_id"] not in seen:
            seen.add(row["paragraph_id"])
            out.append(row)
    return out


def unlabelled_pool(paths: list[Path], params: dict[str, Any], labels: list[str], furniture: Furniture
                    ) -> tuple[list[dict[str, Any]], int]:
    """(paragraphs to label, how many were read): from `paths`, or the ingested paragraphs;
    those already in data/annotations/ left out."""
    if paths:
        rows = read_paragraphs(paths, furniture)
    else:
        ingested = path(params["ingest"]["out_dir"]) / "paragraphs.jsonl"
        if not ingested.exists():
            raise FileNotFoundError(f"{ingested} is missing: run `dvc repro ingest` or pass files")
        rows = read_jsonl(ingested)
    gold = existing_annotations(path(params["corpus"]["annotations_dir"]), labels)
    return unlabelled(rows, set(gold)), len(rows)


def existing_annotations(folder: Path, labels: list[str]) -> dict[str, Annotation]:
    return read_annotations(annotation_files(folder), labels) if any(folder.glob("*.jsonl")) else {}


def predict(rows: list[dict[str, Any]], predictor: Any, labels: list[str]) -> list[dict[str, Any]]:
    """Rows with the model's `scores` and `suggested` labels added."""
    if not rows:
        return []
    frame = predictor.predict(pd.DataFrame({"text": [r["text"] for r in rows]}))
    return [{**r, "suggested": list(out["labels"]), "scores": {l: round(float(out[l]), 4) for l in labels}}
            for r, (_, out) in zip(rows, frame.iterrows())]


def csv_text(rows: list[dict[str, Any]]) -> str:
    """Spreadsheet form: `labels` is left empty for the labeller (`;`-separated themes, or
    `none`); `suggested` holds the pre-annotation to copy when it is right."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        suggested = (";".join(row["suggested"]) or NONE) if "suggested" in row else ""
        writer.writerow({**row, "suggested": suggested, "labels": ""})
    return buffer.getvalue()


def export(rows: list[dict[str, Any]], stem: Path, labels: list[str], model_version: str | None) -> list[Path]:
    """STEM.csv, STEM.labelstudio.json (import tasks) and STEM.labelstudio.xml (the config)."""
    files = [stem.with_name(stem.name + suffix) for suffix in (".csv", ".labelstudio.json", ".labelstudio.xml")]
    atomic_write(files[0], [csv_text(rows)])
    write_json(files[1], [labelstudio.task(r, model_version) for r in rows])
    atomic_write(files[2], [labelstudio.labelling_config(labels)])
    return files


@dataclass(frozen=True)
class Label:
    paragraph_id: str
    labels: tuple[str, ...] | None  # None: not labelled yet
    where: str


def parse_labels(cell: Iterable[str] | None, where: str, labels: list[str]) -> tuple[str, ...] | None:
    if cell is None:
        return None
    chosen = {c.strip().lower() for c in cell if c.strip()}
    if not chosen:
        raise ValueError(f"{where}: no theme chosen; write '{NONE}' for a paragraph with no theme")
    unknown = sorted(chosen - set(labels) - {NONE})
    if unknown:
        raise ValueError(f"{where}: unknown label(s) {unknown}; allowed: {labels} or '{NONE}'")
    if NONE in chosen and len(chosen) > 1:
        raise ValueError(f"{where}: '{NONE}' together with themes {sorted(chosen - {NONE})}; keep one")
    return tuple(label for label in labels if label in chosen)


def _csv_items(file: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    with open(file, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"paragraph_id", "labels"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{file}:1: missing column(s) {sorted(missing)}; expected {CSV_COLUMNS}")
        start = 2
        for row in reader:
            yield f"{file}:{start}", row
            start = reader.line_num + 1


def _csv_row(row: dict[str, Any], where: str) -> tuple[dict[str, Any], list[str] | None]:
    cell = (row.get("labels") or "").strip()
    return row, (_SPLIT.split(cell) if cell else None)


def _labelstudio_items(file: Path) -> Iterable[tuple[str, Any]]:
    for line, item in labelstudio.json_array_items(file.read_text(encoding="utf-8-sig"), str(file)):
        yield f"{file}:{line}", item


def _labelstudio_row(item: Any, where: str) -> tuple[dict[str, Any], list[str] | None]:
    pid, text, chosen = labelstudio.annotated_choices(item, where)
    return {"paragraph_id": pid, "text": text}, chosen


def _label(row: dict[str, Any], cell: list[str] | None, where: str, labels: list[str]) -> Label:
    text = row.get("text") or None
    pid = str(row.get("paragraph_id") or "").strip() or (paragraph_id(text) if text else "")
    if not pid:
        raise ValueError(f"{where}: no paragraph_id and no text")
    if text and paragraph_id(text) != pid:
        raise ValueError(f"{where}: text does not match paragraph {pid} (edited?); "
                         "restore the exported text — labels are keyed by it")
    return Label(pid, parse_labels(cell, where, labels), where)


def read_labels(files: list[Path], labels: list[str]) -> tuple[list[Label], list[str]]:
    """Every labelled row of CSV and Label Studio files, and every problem found (all of them)."""
    found, errors = [], []
    for file in files:
        csv_file = file.suffix.lower() == ".csv"
        items, row_of = (_csv_items, _csv_row) if csv_file else (_labelstudio_items, _labelstudio_row)
        try:
            for where, item in items(file):
                try:
                    found.append(_label(*row_of(item, where), where, labels))
                except ValueError as err:
                    errors.append(str(err))
        except (ValueError, OSError, UnicodeDecodeError) as err:
            errors.append(str(err))
    return found, errors


def validate(found: list[Label], known: dict[str, dict[str, Any]], existing: dict[str, Annotation]) -> list[str]:
    """Unknown paragraphs and labels that contradict each other or what is already annotated."""
    errors, first = [], {}
    for item in found:
        if item.labels is None:
            continue
        if item.paragraph_id not in known:
            errors.append(f"{item.where}: unknown paragraph {item.paragraph_id}; it is not in the ingested "
                          "paragraphs — add its article to ingest.inputs and run `dvc repro ingest`")
        before = first.setdefault(item.paragraph_id, item)
        if before.labels != item.labels:
            errors.append(f"{item.where}: paragraph {item.paragraph_id} labelled {list(item.labels)} "
                          f"but {before.where} says {list(before.labels)}; keep one")
        old = existing.get(item.paragraph_id)
        if old and old.labels != item.labels:
            errors.append(f"{item.where}: paragraph {item.paragraph_id} labelled {list(item.labels)} "
                          f"but {old.where} already says {list(old.labels)}; change one of them by hand")
    return errors


def import_labels(files: list[Path], target: Path, known: dict[str, dict[str, Any]],
                  existing: dict[str, Annotation], labels: list[str]) -> dict[str, int]:
    """Append the new labels to `target`, or raise with every problem and write nothing."""
    found, errors = read_labels(files, labels)
    errors += validate(found, known, existing)
    if errors:
        shown = errors[:50] + ([f"... and {len(errors) - 50} more"] if len(errors) > 50 else [])
        raise AnnotationError(f"{len(errors)} problem(s), nothing imported:\n  " + "\n  ".join(shown))
    new: dict[str, Label] = {}
    for item in found:
        if item.labels is not None and item.paragraph_id not in existing:
            new.setdefault(item.paragraph_id, item)
    kept = target.read_text(encoding="utf-8").splitlines(keepends=True) if target.exists() else []
    kept = [line if line.endswith("\n") else line + "\n" for line in kept if line.strip()]
    records = [{"paragraph_id": pid, "labels": list(item.labels), "source": known[pid].get("source", "input"),
                "article_id": known[pid].get("article_id", ""), "text": known[pid]["text"][:80]}
               for pid, item in new.items()]
    atomic_write(target, kept + [json.dumps(r, ensure_ascii=False) + "\n" for r in records])
    return {"imported": len(records),
            "already_annotated": sum(i.labels is not None and i.paragraph_id in existing for i in found),
            "not_labelled": sum(i.labels is None for i in found)}
