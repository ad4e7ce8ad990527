"""Pure text functions shared by training and inference, so both see identical input."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from underthesea.pipeline.text_normalize import token_normalize

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_WORD = re.compile(r"\w+")


def _strip_controls(text: str) -> str:
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")


def normalize_text(text: str) -> str:
    """Canonical form of a paragraph: NFC, one tone-mark style (hòa, thủy), no invisible
    characters, single spaces. Users paste from macOS (NFD), Word (soft hyphens, nbsp) and
    old CMS exports (hoà/thuỷ); all of these must give the same paragraph and id."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = _strip_controls(text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    text = _WORD.sub(lambda m: token_normalize(m.group()), text)
    text = unicodedata.normalize("NFC", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def paragraph_id(text: str) -> str:
    """Stable id of a paragraph: a hash of its normalised text with whitespace folded, so
    labels survive re-ingestion, file renames and re-ordering."""
    canonical = " ".join(normalize_text(text).split())
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=8192)  # bounded: memory stays flat however large the input
def segment(text: str) -> str:
    """Word-segment for PhoBERT (`Công_an thành_phố`). underthesea is the single segmenter
    for training and inference: it is maintained and installs cleanly, where pyvi is not."""
    from underthesea import word_tokenize

    return word_tokenize(" ".join(text.split()), format="text") if text.strip() else ""


def windows(ids: list[int], size: int, overlap: int) -> list[list[int]]:
    """Split a token sequence into windows of at most `size` tokens sharing `overlap`
    tokens, so a long paragraph is read whole instead of being truncated."""
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError(f"window size {size} and overlap {overlap} must satisfy 0 <= overlap < size")
    if len(ids) <= size:
        return [list(ids)]
    step = size - overlap
    starts = range(0, max(len(ids) - overlap, 1), step)
    return [list(ids[s : s + size]) for s in starts if s < len(ids)]
