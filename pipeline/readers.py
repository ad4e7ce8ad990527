"""Turn whatever users collect (text, HTML, JSONL/CSV collections, any encoding) into
articles: raw lines plus metadata. Paragraph logic lives in `ingest`."""
from __future__ import annotations

import codecs
import csv
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

ARTICLE_SUFFIXES = {".txt", ".html", ".htm"}
COLLECTION_SUFFIXES = {".jsonl", ".csv"}
_DROP_TAGS = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form",
              "iframe", "svg", "button", "select", "template"]
_BLOCK_TAGS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "figcaption", "blockquote",
               "div", "section", "article", "br", "tr", "td", "caption"]


class ReadError(Exception):
    """A file that cannot be read as articles; the message says which and what to do."""


@dataclass
class Article:
    article_id: str
    lines: list[str]
    file: str
    line_offset: int = 0
    meta: dict[str, str] = field(default_factory=dict)


def decode(raw: bytes, name: str) -> str:
    """Decode bytes with a BOM, else UTF-8, else Windows-1258 (old Vietnamese sites).
    Binary data is refused rather than turned into mojibake."""
    if not raw.strip():
        raise ReadError(f"{name}: file is empty; remove it or add article text")
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16"), (codecs.BOM_UTF32_LE, "utf-32")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError as err:
                raise ReadError(f"{name}: broken {codec} text ({err}); re-save it as UTF-8") from err
    if b"\x00" in raw:
        raise ReadError(f"{name}: binary data (NUL bytes), not text; convert it to UTF-8 text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = raw.decode("cp1258", errors="replace")
    if text.count("\ufffd") > max(3, len(text) // 100):
        raise ReadError(f"{name}: neither UTF-8 nor Windows-1258 text; re-save it as UTF-8")
    return text


def html_to_lines(markup: str) -> tuple[list[str], dict[str, str]]:
    """Keep the article body of a saved web page as lines; drop scripts, menus and footers."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    meta: dict[str, str] = {}
    if soup.title and soup.title.get_text(strip=True):
        meta["title"] = soup.title.get_text(" ", strip=True)
    for tag in soup.find_all(["meta"]):
        prop = (tag.get("property") or tag.get("name") or "").lower()
        if prop in {"og:url", "article:published_time", "og:site_name"} and tag.get("content"):
            meta[{"og:url": "url", "article:published_time": "published",
                  "og:site_name": "outlet"}[prop]] = tag["content"]
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    body = soup.find("article") or soup.find("main") or soup.body or soup
    for tag in body.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = html.unescape(body.get_text())
    return text.split("\n"), meta


def _plain_utf8(path: Path) -> bool:
    """True when the file is non-blank UTF-8 without BOM or NUL bytes: checked in one streaming
    pass, so a big collection need not be held in memory. Anything else goes through `decode`."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    blank = True
    with open(path, "rb") as handle:
        first = True
        while block := handle.read(1 << 20):
            if (first and block.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))) \
                    or b"\x00" in block:
                return False
            first = False
            blank = blank and not block.strip()
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                return False
    return not blank


def _lines(path: Path) -> Iterator[str]:
    if _plain_utf8(path):
        with open(path, encoding="utf-8", newline="") as handle:
            yield from handle
    else:
        yield from io.StringIO(decode(path.read_bytes(), str(path)), newline="")


def _collection_records(path: Path, lines: Iterator[str]) -> Iterator[tuple[int, dict]]:
    if path.suffix == ".jsonl":
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ReadError(f"{path}:{number}: not valid JSON ({err.msg}); fix or remove the line") from err
            if not isinstance(record, dict):
                raise ReadError(f"{path}:{number}: expected a JSON object with 'id' and 'text'")
            yield number, record
    else:
        reader = csv.DictReader(lines)
        for record in reader:
            yield reader.line_num, record


def read_collection(path: Path) -> Iterator[Article]:
    """One article per record (`id`, `text`, optional `title`, `url`, `published`, `outlet`),
    streamed: memory does not grow with the collection."""
    for number, record in _collection_records(path, _lines(path)):
        if not str(record.get("text") or "").strip():
            raise ReadError(f"{path}:{number}: record has no 'text'; every article needs its text")
        article_id = str(record.get("id") or f"{path.stem}-{number}")
        meta = {k: str(record[k]) for k in ("title", "url", "published", "outlet") if record.get(k)}
        yield Article(article_id, str(record["text"]).splitlines(), f"{path}:{number}", 0, meta)


def read_article(path: Path) -> Article:
    text = decode(path.read_bytes(), str(path))
    if path.suffix.lower() in {".html", ".htm"}:
        lines, meta = html_to_lines(text)
    else:
        lines, meta = text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), {}
    return Article(path.stem, lines, str(path), 0, meta)


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


def read_any(path: Path) -> Iterator[Article]:
    if path.suffix.lower() in COLLECTION_SUFFIXES:
        yield from read_collection(path)
    else:
        yield read_article(path)
