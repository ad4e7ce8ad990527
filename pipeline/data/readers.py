"""Turn whatever users collect (text, HTML, JSONL/CSV collections, any encoding) into
articles: raw lines plus metadata. Paragraph logic lives in `ingest`."""
from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from pipeline.data.encoding import ReadError, decode, repair_mojibake
from pipeline.data.webpage import HtmlRules, parse_page

ARTICLE_SUFFIXES = {".txt", ".html", ".htm"}
COLLECTION_SUFFIXES = {".jsonl", ".csv"}
META_KEYS = ("title", "url", "published", "outlet")
__all__ = ["Article", "ReadError", "decode", "discover", "read_any", "read_file"]


@dataclass
class Article:
    article_id: str
    lines: list[str]
    file: str
    line_offset: int = 0
    meta: dict[str, str] = field(default_factory=dict)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (rule, text) removed before splitting


def _jsonl_lines(path: Path) -> Iterator[tuple[int, str | ReadError]]:
    """A JSONL file line by line, each line decoded on its own, so a collection of any size
    costs one record's memory. Only "\n" ends a line: a raw U+2028 inside a string is valid
    JSON. A UTF-16/32 file (BOM) cannot be split on bytes and is decoded whole."""
    with open(path, "rb") as handle:
        if handle.read(4).startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)):
            yield from enumerate(decode(path.read_bytes(), str(path)).split("\n"), 1)
            return
        handle.seek(0)
        seen = False
        for number, raw in enumerate(handle, 1):
            raw = raw.removeprefix(codecs.BOM_UTF8) if number == 1 else raw
            if not raw.strip():
                continue
            seen = True
            try:
                yield number, decode(raw.rstrip(b"\r\n"), f"{path}:{number}")
            except ReadError as err:
                yield number, err
        if not seen:
            raise ReadError(f"{path}: file is empty; remove it or add article records")


def _records(path: Path) -> Iterator[tuple[int, dict | ReadError]]:
    """(line number, record or the error for that record): one bad record does not cost the
    thousands of good ones around it."""
    if path.suffix.lower() == ".jsonl":
        for number, line in _jsonl_lines(path):
            if isinstance(line, ReadError):
                yield number, line
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError) as err:
                yield number, ReadError(f"{path}:{number}: not valid JSON ({err}); fix or remove the line")
                continue
            if not isinstance(record, dict):
                record = ReadError(f"{path}:{number}: expected a JSON object with 'id' and 'text'")
            yield number, record
        return
    text = decode(path.read_bytes(), str(path))  # CSV quoting spans lines: decoded whole
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if "text" not in (reader.fieldnames or []):
            raise ReadError(f"{path}: no 'text' column (columns: {reader.fieldnames}); "
                            "a CSV collection needs a header with at least id,text")
        for record in reader:
            yield reader.line_num, record
    except csv.Error as err:
        raise ReadError(f"{path}:{reader.line_num}: malformed CSV ({err}); fix the quoting or save as JSONL") from err


def _record_article(path: Path, number: int, record: dict) -> Article:
    where = f"{path}:{number}"
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ReadError(f"{where}: record has no 'text' string; every article needs its text")
    meta = {k: repair_mojibake(str(record[k]), where) for k in META_KEYS if record.get(k) not in (None, "")}
    article_id = str(record.get("id") or f"{path.stem}-{number}")
    return Article(article_id, repair_mojibake(text, where).splitlines(), where, 0, meta)


def read_collection(path: Path) -> Iterator[Article | ReadError]:
    """One article per record (`id`, `text`, optional `title`, `url`, `published`, `outlet`)."""
    for number, record in _records(path):
        try:
            yield record if isinstance(record, ReadError) else _record_article(path, number, record)
        except ReadError as err:
            yield err


def read_article(path: Path, html_rules: HtmlRules) -> Article:
    text = decode(path.read_bytes(), str(path))
    if path.suffix.lower() in {".html", ".htm"}:
        page = parse_page(text, html_rules)
        return Article(path.stem, page.lines, str(path), 0, page.meta, page.dropped)
    return Article(path.stem, text.splitlines(), str(path))


def discover(paths: list[Path]) -> list[Path]:
    """Expand folders into article and collection files, sorted for a stable order."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if f.is_file()
                            and f.suffix.lower() in ARTICLE_SUFFIXES | COLLECTION_SUFFIXES)
        elif p.exists():
            found.append(p)
        else:
            raise ReadError(f"{p}: no such file or folder")
    return found


def read_file(path: Path, html_rules: HtmlRules = HtmlRules()) -> Iterator[Article | ReadError]:
    """Every article of a file, and a ReadError (yielded, not raised) for each record or file
    that cannot be read, so one bad input never stops a run and none is skipped silently."""
    try:
        if path.suffix.lower() in COLLECTION_SUFFIXES:
            yield from read_collection(path)
        else:
            yield read_article(path, html_rules)
    except ReadError as err:
        yield err
    except OSError as err:
        yield ReadError(f"{path}: cannot read ({err.strerror or err}); check the path and permissions")


def read_any(path: Path, html_rules: HtmlRules = HtmlRules()) -> Iterator[Article]:
    """The articles of a file; the first unreadable file or record raises its ReadError."""
    for item in read_file(path, html_rules):
        if isinstance(item, ReadError):
            raise item
        yield item
