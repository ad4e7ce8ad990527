"""Articles → clean paragraphs. Furniture rules come from configs/furniture.yaml; every line
that does not reach a paragraph is written down with the rule that removed it."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from pipeline.data.readers import Article, ReadError, discover, read_file
from pipeline.text import normalize_text, paragraph_id
from pipeline.data.webpage import HtmlRules

_SENTENCE_END = re.compile(r"[.!?:;…\"”')\]]$")
_WRAP_MAX = 100  # editors and mail clients wrap at 60-80 columns; web text has longer lines


@dataclass(frozen=True)
class Rule:
    name: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class Furniture:
    drop: tuple[Rule, ...]
    strip: tuple[Rule, ...]
    html: HtmlRules = HtmlRules()

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Furniture":
        def compile_all(key: str) -> tuple[Rule, ...]:
            return tuple(
                Rule(r["name"], re.compile(r["pattern"], 0 if r.get("case_sensitive") else re.IGNORECASE))
                for r in config.get(key, [])
            )
        return cls(compile_all("drop"), compile_all("strip"), HtmlRules.from_config(config.get("html", {})))

    def classify(self, line: str) -> str | None:
        """Name of the first drop rule matching the whole line, or None for article text."""
        return next((r.name for r in self.drop if r.regex.fullmatch(line)), None)

    def clean(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """(the paragraph's text once furniture is removed, "" when all of it is furniture;
        every removed piece with the rule that removed it)."""
        rule = self.classify(text)
        if rule:
            return "", [(rule, text)]
        removed = []
        for strip in self.strip:
            cut = strip.regex.search(text)
            if cut and cut.group().strip():
                removed.append((strip.name, cut.group().strip()))
                text = (text[: cut.start()] + text[cut.end():]).strip()
        return text, removed


@dataclass
class IngestResult:
    paragraphs: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    articles: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "paragraphs": len(self.paragraphs),
            "dropped_lines": len(self.dropped),
            "dropped_by_rule": dict(Counter(d["rule"] for d in self.dropped).most_common()),
            "files_failed": len(self.failures),
        }


def _blocks(lines: list[str]) -> Iterator[tuple[int, int, str]]:
    """Group raw lines into candidate paragraphs (first line, last line, text). A line is
    its own paragraph unless the one before it is hard-wrapped: it has no sentence end and
    the next line starts lowercase, or, in a file wrapped at a fixed width (no line over
    _WRAP_MAX characters, paragraphs separated by blank lines), it fills the width."""
    clean = [normalize_text(raw).replace("\n", " ") for raw in lines]
    width = max(map(len, clean), default=0)
    separated = "" in "\n".join(clean).strip("\n").split("\n")
    full = width * 3 // 4 if width <= _WRAP_MAX and separated else width + 1
    start, buffer, previous = 0, "", ""
    for number, line in enumerate(clean, 1):
        if not line:
            if buffer:
                yield start, number - 1, buffer
            buffer = ""
            continue
        if buffer and not _SENTENCE_END.search(buffer) and (line[0].islower() or len(previous) >= full):
            buffer, previous = f"{buffer} {line}", line
            continue
        if buffer:
            yield start, number - 1, buffer
        start, buffer, previous = number, line, line
    if buffer:
        yield start, len(lines), buffer


def split_article(article: Article, furniture: Furniture, source: str) -> tuple[list[dict], list[dict]]:
    """Pure: one article → (paragraph records, dropped-line records). Each record carries the
    span of input lines it came from (`line`..`line_end`), so every line can be accounted for."""
    paragraphs: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = [{"file": article.file, "line": None, "line_end": None,
                                      "article_id": article.article_id, "rule": rule, "text": text}
                                     for rule, text in article.dropped]
    seen: dict[str, dict[str, Any]] = {}
    for first, last, text in _blocks(article.lines):
        where = {"file": article.file, "line": article.line_offset + first, "line_end": article.line_offset + last,
                 "article_id": article.article_id}
        text, removed = furniture.clean(text)
        dropped += [{**where, "rule": rule, "text": part} for rule, part in removed]
        if not text:
            continue
        pid = paragraph_id(text)
        if pid in seen:
            seen[pid]["duplicates"] += 1
            dropped.append({**where, "rule": "duplicate_in_article", "text": text})
            continue
        record = {
            "article_id": article.article_id,
            "paragraph_index": len(paragraphs),
            "paragraph_id": pid,
            "text": text,
            "source": source,
            **where,
            "duplicates": 0,
            **article.meta,
        }
        seen[pid] = record
        paragraphs.append(record)
    if paragraphs and "title" not in article.meta:
        for record in paragraphs:
            record["title"] = paragraphs[0]["text"]
    return paragraphs, dropped


def ingest(inputs: Iterable[tuple[Path, str]], furniture: Furniture) -> IngestResult:
    """Read every input; a file that cannot be read is recorded and skipped, never fatal."""
    result = IngestResult()
    for location, source in inputs:
        try:
            files = discover([location])
        except ReadError as err:
            result.failures.append({"file": str(location), "reason": str(err)})
            continue
        for file in files:
            for article in read_file(file, furniture.html):
                if isinstance(article, ReadError):
                    result.failures.append({"file": str(file), "reason": str(article)})
                    continue
                paragraphs, dropped = split_article(article, furniture, source)
                result.articles += 1
                result.paragraphs += paragraphs
                result.dropped += dropped
    return result
