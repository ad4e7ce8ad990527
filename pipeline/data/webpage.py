"""A saved news page → the article's lines, its metadata and the page text left out. Which
elements are the body, the headline, the lead and the furniture is configuration
(`html:` in configs/furniture.yaml), because every outlet lays its pages out differently."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

# Never text a reader sees: removed without a trace.
_INVISIBLE_TAGS = ["script", "style", "noscript", "iframe", "svg", "template", "head", "link", "meta"]
_BLOCK_TAGS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "figcaption", "blockquote", "div", "section",
               "article", "header", "tr", "td", "th", "caption", "table", "ul", "ol", "dd", "dt", "pre", "figure"]
_META = {  # meta tag (property or name or itemprop) → metadata key; the first found wins
    "og:title": "title", "twitter:title": "title", "headline": "title",
    "og:url": "url",
    "article:published_time": "published", "datepublished": "published", "pubdate": "published",
    "publishdate": "published", "dc.date.issued": "published", "date": "published",
    "og:site_name": "outlet", "application-name": "outlet", "publisher": "outlet",
}


@dataclass(frozen=True)
class HtmlRules:
    body: tuple[str, ...] = ("[itemprop=articleBody]", "article", "main")
    headline: tuple[str, ...] = ("h1",)
    lead: tuple[str, ...] = ()
    drop: tuple[tuple[str, str], ...] = ()  # (rule name, CSS selector)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "HtmlRules":
        return cls(tuple(config.get("body", cls.body)), tuple(config.get("headline", cls.headline)),
                   tuple(config.get("lead", ())), tuple((d["name"], d["selector"]) for d in config.get("drop", [])))


@dataclass
class Page:
    lines: list[str]
    meta: dict[str, str] = field(default_factory=dict)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (rule, text) of visible text left out


def _text(node) -> str:
    return " ".join(node.get_text(" ").split())


def _metadata(soup) -> dict[str, str]:
    meta: dict[str, str] = {}
    for ld in soup.find_all("script", type="application/ld+json"):
        try:
            data = json.loads(ld.string or "")
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and "Article" in str(item.get("@type", "")):
                publisher = item.get("publisher")
                found = {"title": item.get("headline"), "url": item.get("url") or item.get("mainEntityOfPage"),
                         "published": item.get("datePublished"),
                         "outlet": publisher.get("name") if isinstance(publisher, dict) else None}
                meta.update({k: v.strip() for k, v in found.items() if isinstance(v, str) and v.strip() and k not in meta})
    for tag in soup.find_all("meta"):
        key = _META.get(str(tag.get("property") or tag.get("name") or tag.get("itemprop") or "").lower())
        if key and key not in meta and str(tag.get("content") or "").strip():
            meta[key] = str(tag["content"]).strip()
    canonical = soup.find("link", rel="canonical")
    if "url" not in meta and canonical and canonical.get("href"):
        meta["url"] = canonical["href"]
    for tag in soup.find_all("time", datetime=True)[:1]:
        meta.setdefault("published", tag["datetime"])
    if "title" not in meta and soup.title and soup.title.get_text(strip=True):
        meta["title"] = soup.title.get_text(" ", strip=True)
    return meta


def _first(soup, selectors: tuple[str, ...]):
    """The longest non-empty match of the first selector that matches: a page lists related
    stories in <article> elements too, but the story itself is the longest."""
    for selector in selectors:
        found = [node for node in soup.select(selector) if _text(node)]
        if found:
            return max(found, key=lambda node: len(_text(node)))
    return None


def _lines(node) -> list[str]:
    """Block elements become paragraphs; a line break inside a block stays a line break and
    source-code wrapping inside text is only a space, as a browser shows it."""
    from bs4 import NavigableString

    for text in node.find_all(string=True):
        if type(text) is NavigableString and ("\n" in text or "\r" in text):
            text.replace_with(" ".join(text.split("\n")).replace("\r", " "))
    for tag in node.find_all("br"):
        tag.replace_with("\n")
    for tag in node.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    # Entities double-escaped by a CMS (`&amp;#7897;`) survive the parser once; decode them too.
    return html.unescape(node.get_text()).splitlines()


def parse_page(markup: str, rules: HtmlRules) -> Page:
    """Headline, lead and body of the article, in page order; menus, related-story lists and
    footers inside the body removed by the configured selectors and reported, as is any other
    visible text of the page, so that nothing is dropped unaccounted."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    page = Page([], _metadata(soup))
    for tag in soup.find_all(_INVISIBLE_TAGS):
        tag.decompose()
    root = soup.body or soup
    body = _first(root, rules.body) or root
    parts = [node for node in (_first(root, rules.headline), _first(root, rules.lead))
             if node is not None and node is not body and body not in node.parents and node not in body.parents]
    for name, selector in rules.drop:
        for node in body.select(selector):
            if not node.decomposed and _text(node):
                page.dropped.append((name, _text(node)))
            node.decompose()
    for node in [*parts, body]:
        page.lines += _lines(node.extract())
    if root is not body:
        page.dropped += [("html_outside_article", line) for line in
                         (" ".join(x.split()) for x in root.get_text("\n").splitlines()) if line]
    return page
