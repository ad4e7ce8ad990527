"""Labelled pages (one page a line, its paragraphs with their labels and the page address) into
what the pipeline reads: a collection for ingest and an annotation file keyed on paragraph ids.

The held-out block is chosen by outlet, not by page (a listed set of domains): a model scored on
pages of outlets it has never read is closer to what a user meets with a new collection."""
from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlsplit

from pipeline.text import normalize_text, paragraph_id

REQUIRED = ("id", "url", "outlet", "paragraphs")
_SECOND_LEVEL = {"com", "gov", "org", "edu", "net", "ac", "co"}  # cand.com.vn, not com.vn


class PageError(ValueError):
    """A labelled page that cannot be used; the message names the line and what to fix."""


def validate(pages: list[dict[str, Any]], labels: list[str], file: str = "pages") -> None:
    seen_ids, seen_urls = set(), set()
    for line, page in enumerate(pages, 1):
        missing = [key for key in REQUIRED if not page.get(key)]
        if missing:
            raise PageError(f"{file}:{line}: missing {', '.join(missing)} (every page needs {', '.join(REQUIRED)})")
        if page["id"] in seen_ids or page["url"] in seen_urls:
            raise PageError(f"{file}:{line}: page {page['id']} ({page['url']}) appears twice; keep one")
        seen_ids.add(page["id"])
        seen_urls.add(page["url"])
        for number, para in enumerate(page["paragraphs"], 1):
            unknown = set(para.get("labels", [])) - set(labels)
            if unknown or not str(para.get("text", "")).strip():
                raise PageError(f"{file}:{line}: paragraph {number} of {page['id']}: "
                                + (f"unknown label(s) {sorted(unknown)}; use {labels}" if unknown else "empty text"))


def outlet_of(url: str) -> str:
    """The outlet as its registered domain (`cand.com.vn` for www., m. and vnca. pages alike):
    names are spelt many ways ("Công an nhân dân", "Báo CAND"), domains one way."""
    labels = (urlsplit(url).hostname or url).lower().split(".")
    keep = 3 if len(labels) > 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def heldout_outlets(lines: list[str]) -> set[str]:
    """The held-out list: one domain a line, `#` comments."""
    return {line.split("#")[0].strip().lower() for line in lines} - {""}


def split(pages: list[dict[str, Any]], heldout: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(training-side pages, held-out pages): a page is held out when its outlet is listed."""
    held = [outlet_of(p["url"]) in heldout for p in pages]
    return [p for p, h in zip(pages, held) if not h], [p for p, h in zip(pages, held) if h]


def collection(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ingest's collection records: the paragraphs joined by blank lines, the page's metadata."""
    return [{"id": p["id"], "title": p.get("title", ""), "url": p["url"], "outlet": p["outlet"],
             "published": p.get("published", ""), "text": "\n\n".join(para["text"] for para in p["paragraphs"])}
            for p in pages]


def annotations(pages: list[dict[str, Any]], source: str, clean: Callable[[str], str]) -> list[dict[str, Any]]:
    """One annotation per paragraph, keyed on the id ingestion will give it once `clean` has
    removed its furniture (a caption's photo credit, say); a paragraph that is all furniture
    (a bare byline) is not ingested, so it gets no annotation."""
    rows = []
    for page in pages:
        for para in page["paragraphs"]:
            text = clean(normalize_text(para["text"]))
            if text:
                rows.append({"paragraph_id": paragraph_id(text), "labels": list(para["labels"]), "source": source,
                             "article_id": page["id"], "url": page["url"]})
    return rows
