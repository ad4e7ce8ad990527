"""Batch tagging: files, folders, JSONL/CSV collections → one record per paragraph.

Every paragraph ends up in OUT or in OUT.errors.jsonl; furniture lines in OUT.dropped.jsonl.
Work is done in chunks of whole articles; each chunk is checkpointed as atomically written part
files in `.OUT.parts/`, so memory stays flat in the input size and an interrupted run keeps
what it finished (`resume=True` skips those articles). The parts are merged into OUT — again
by temp file and rename — only at the end, so OUT is never half written."""
from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd
from rich.progress import Progress

from pipeline.files import write_jsonl
from pipeline.data.ingest import Furniture, split_article
from pipeline.tagging.output import FORMATS, merge_parts
from pipeline.data.readers import ReadError, discover, read_file

log = logging.getLogger(__name__)
KEEP = ("article_id", "paragraph_index", "paragraph_id", "text", "title", "url", "published", "outlet", "file", "line",
        "line_end")
PART_KINDS = ("rows", "errors", "dropped")


@dataclass
class TagOptions:
    batch_size: int = 256           # paragraphs per model call (encoders sort them by length)
    chunk_size: int = 2048          # paragraphs per checkpointed part
    min_score: float | None = None  # overrides the model's tuned thresholds
    top_k: int | None = None        # at most this many labels per paragraph, best first
    fmt: str = "jsonl"
    resume: bool = False


@dataclass
class TagReport:
    paragraphs: int = 0
    errors: int = 0
    dropped: int = 0
    articles: int = 0
    resumed_articles: int = 0
    theme_counts: dict[str, int] = field(default_factory=dict)

    def add(self, stats: dict[str, Any]) -> None:
        for name in ("paragraphs", "errors", "dropped"):
            setattr(self, name, getattr(self, name) + stats[name])
        self.articles += len(stats["keys"])
        for label, count in stats["themes"].items():
            self.theme_counts[label] = self.theme_counts.get(label, 0) + count


@dataclass
class Chunk:
    """Whole articles waiting for the model, with what they already produced."""
    paragraphs: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


def article_key(file: str, article_id: str) -> str:
    return f"{file}#{article_id}"


def _chunks(paths: list[Path], furniture: Furniture, done: set[str], size: int, progress: Progress) -> Iterator[Chunk]:
    """Articles not yet `done`, grouped into chunks of about `size` paragraphs. A file that
    cannot be read becomes one error record (keyed, so a resumed run does not repeat it)."""
    chunk = Chunk()
    files: list[Path] = []
    for path in paths:
        try:
            files += discover([path])
        except ReadError as err:
            if (key := article_key(str(path), "!error")) not in done:
                chunk.errors.append({"file": str(path), "paragraph": None, "reason": str(err)})
                chunk.keys.append(key)
    task = progress.add_task("Tagging files", total=len(files))
    for file in files:
        for article in read_file(file, furniture.html):
            if isinstance(article, ReadError):  # a file or one record of a collection
                if (key := article_key(str(file), f"!{article}")) not in done:
                    chunk.errors.append({"file": str(file), "paragraph": None, "reason": str(article)})
                    chunk.keys.append(key)
                continue
            key = article_key(article.file, article.article_id)
            if key in done:
                continue
            kept, dropped = split_article(article, furniture, source="input")
            chunk.paragraphs += kept
            chunk.dropped += dropped
            chunk.keys.append(key)
            if len(chunk.paragraphs) >= size:
                yield chunk
                chunk = Chunk()
        progress.advance(task)
    if chunk.paragraphs or chunk.errors or chunk.keys:
        yield chunk


def choose_labels(scores: np.ndarray, labels: list[str], decided: list[list[str]],
                  min_score: float | None, top_k: int | None) -> list[list[str]]:
    """The model's labels, or every theme scoring at least `min_score`; best first, cut to `top_k`."""
    chosen = []
    for row, model_labels in zip(scores, decided):
        keep = set(model_labels) if min_score is None else {l for l, s in zip(labels, row) if s >= min_score}
        ranked = [labels[j] for j in np.argsort(-row, kind="stable") if labels[j] in keep]
        chosen.append(ranked[:top_k] if top_k is not None else ranked)
    return chosen


def _tag_chunk(model, chunk: Chunk, labels: list[str], options: TagOptions) -> Iterator[dict]:
    for start in range(0, len(chunk.paragraphs), options.batch_size):
        batch = chunk.paragraphs[start : start + options.batch_size]
        try:
            result = model.predict(pd.DataFrame({"text": [p["text"] for p in batch]}))
        except Exception as err:  # a model failure must not lose the batch: report each paragraph
            log.exception("model failed on a batch of %d paragraphs", len(batch))
            chunk.errors += [{"file": p["file"], "paragraph": p["paragraph_index"], "article_id": p["article_id"],
                              "text": p["text"], "reason": f"model error: {err}"} for p in batch]
            continue
        scores = result[labels].to_numpy(dtype=float)
        chosen = choose_labels(scores, labels, [list(l) for l in result["labels"]], options.min_score, options.top_k)
        for p, row, picked in zip(batch, scores, chosen):
            record = {k: p[k] for k in KEEP if k in p}
            record["labels"] = picked
            record["scores"] = {label: round(float(s), 4) for label, s in zip(labels, row)}
            yield record


def _write_part(parts: Path, number: int, model, chunk: Chunk, labels: list[str], options: TagOptions) -> dict:
    """Rows, errors and dropped lines of one chunk, then its manifest: a part without a
    manifest is unfinished and is thrown away on resume."""
    name = f"part-{number:06d}"
    themes = dict.fromkeys(labels, 0)

    def counted(rows: Iterable[dict]) -> Iterator[dict]:
        for row in rows:
            for label in row["labels"]:
                themes[label] += 1
            yield row

    rows = write_jsonl(parts / f"{name}.rows.jsonl", counted(_tag_chunk(model, chunk, labels, options)))
    write_jsonl(parts / f"{name}.errors.jsonl", chunk.errors)
    write_jsonl(parts / f"{name}.dropped.jsonl", chunk.dropped)
    stats = {"paragraphs": rows, "errors": len(chunk.errors), "dropped": len(chunk.dropped),
             "themes": themes, "keys": chunk.keys}
    write_jsonl(parts / f"{name}.done.jsonl", [stats])
    return stats


def parts_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.parts"


def _open_checkpoint(out: Path, settings: dict[str, Any], resume: bool) -> tuple[Path, list[dict]]:
    """The parts folder and the manifests of the parts already finished there."""
    parts = parts_dir(out)
    settings_file = parts / "settings.json"
    if parts.exists() and not resume:
        log.warning("%s holds an interrupted run; starting over (pass --resume to keep it)", parts)
        shutil.rmtree(parts)
    if parts.exists():
        previous = json.loads(settings_file.read_text(encoding="utf-8")) if settings_file.exists() else {}
        if previous != settings:
            raise ValueError(f"--resume: {parts} was made with {previous}, not {settings}; "
                             f"rerun with those options or without --resume")
        for orphan in parts.glob("part-*.rows.jsonl"):
            if not orphan.with_name(orphan.name.replace(".rows.", ".done.")).exists():
                for kind in PART_KINDS:
                    orphan.with_name(orphan.name.replace(".rows.", f".{kind}.")).unlink(missing_ok=True)
        return parts, [json.loads(f.read_text(encoding="utf-8")) for f in sorted(parts.glob("part-*.done.jsonl"))]
    if resume and out.exists():
        log.warning("%s is complete: nothing to resume; tagging again", out)
    parts.mkdir(parents=True)
    settings_file.write_text(json.dumps(settings), encoding="utf-8")
    return parts, []


def load_model(model_uri: str, int8: bool = False, threads: int | None = None):
    """The registered pyfunc, optionally with the encoder's linear layers quantised to int8."""
    import mlflow.pyfunc
    import torch

    if threads:
        torch.set_num_threads(threads)
    model = mlflow.pyfunc.load_model(model_uri)
    if int8:
        scorer = model.unwrap_python_model().tagger.model
        if not hasattr(scorer, "quantize"):
            raise ValueError(f"--int8 needs an encoder model (encoder_head or finetune); {model_uri} is a "
                             f"{scorer.kind} model, which has nothing to quantise")
        scorer.quantize()
    return model


def tag(paths: list[Path], out: Path, model, labels: list[str], furniture: Furniture,
        options: TagOptions | None = None) -> TagReport:
    """Tag `paths` into `out` with `model`: an MLflow model URI or folder, or anything with the
    pyfunc `predict(frame)` (a loaded pyfunc, see `load_model`, or a Tagger)."""
    if isinstance(model, str):
        model = load_model(model)
    options = options or TagOptions()
    if options.fmt not in FORMATS:
        raise ValueError(f"unknown output format {options.fmt!r}; use one of {', '.join(FORMATS)}")
    settings = {"min_score": options.min_score, "top_k": options.top_k}
    parts, finished = _open_checkpoint(out, settings, options.resume)
    report = TagReport(theme_counts=dict.fromkeys(labels, 0))
    done: set[str] = set()
    for stats in finished:
        report.add(stats)
        done.update(stats["keys"])
    report.resumed_articles = report.articles
    with Progress() as progress:
        for number, chunk in enumerate(_chunks(paths, furniture, done, options.chunk_size, progress), len(finished)):
            report.add(_write_part(parts, number, model, chunk, labels, options))
    merge_parts(parts, out, labels, options.fmt)
    shutil.rmtree(parts)
    return report
