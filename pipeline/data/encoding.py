"""Bytes → text for files from anywhere (browsers, scrapers, old Vietnamese Windows software),
so that the corpus never holds mojibake: a file is decoded exactly, repaired when the damage
is provably reversible, or refused with a message naming the file and what to do."""
from __future__ import annotations

import codecs
import re
import unicodedata


class ReadError(Exception):
    """A file that cannot be read as articles; the message says which and what to do."""


_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_VIETNAMESE = set("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ")
_VIETNAMESE |= {ch.upper() for ch in _VIETNAMESE}
_PUNCTUATION = set("\u00a0“”‘’–—…•°")
# What a Windows-1252 (Latin-1 where it has no character) reader makes of UTF-8 continuation bytes.
_CONTINUATION = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(0x80, 0xC0))
# UTF-8 Vietnamese read that way: ạ..ỹ → "áº"/"á»", đ/ă/ĩ/ũ/ư/ơ → "Ä‘"/"Äƒ"/"Ä©"/"Å©"/"Æ°"/"Æ¡",
# ô/é/… → "Ã´"/"Ã©". Not "Ã" before a no-break space or typographic punctuation: uppercase
# Vietnamese has a real "Ã" there ("NGÃ”", "ĐÃ…"); damaged lines still show the other markers.
_REAL_AFTER_A_TILDE = "\u00a0“”‘’–—…•"
MOJIBAKE = re.compile(f"á[º»]|[ÄÅÆ][{_CONTINUATION}]|Ã[{''.join(c for c in _CONTINUATION if c not in _REAL_AFTER_A_TILDE)}]")


def _to_cp1252_bytes(text: str) -> bytes | None:
    """The bytes a Windows-1252 (or Latin-1, for its undefined slots) reader saw, if any."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1252")
        except UnicodeEncodeError:
            if ord(ch) > 0xFF:
                return None
            out.append(ord(ch))
    return bytes(out)


def repair_mojibake(text: str, name: str) -> str:
    """Undo UTF-8-read-as-Windows-1252 line by line when the round trip is exact; a line that
    still shows the pattern cannot be repaired safely and the file is refused."""
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        for _ in range(2):  # text damaged twice (re-saved twice) is common in CMS exports
            if not MOJIBAKE.search(line):
                break
            raw = _to_cp1252_bytes(line)
            try:
                line = raw.decode("utf-8") if raw is not None else line
            except UnicodeDecodeError:
                break
        if MOJIBAKE.search(line) or "\ufffd" in line:
            raise ReadError(f"{name}:{number}: damaged text (mojibake such as 'Ä‘' or '\ufffd' from a wrong "
                            "decoding upstream) that cannot be repaired; re-export it as UTF-8 from the source")
        lines[number - 1] = line
    return "\n".join(lines)


def looks_vietnamese(text: str) -> bool:
    """Whether a legacy-decoded text is plausible Vietnamese: TCVN3/VNI bytes or another
    language's code page decoded as Windows-1258 give letters and symbols Vietnamese lacks."""
    text = unicodedata.normalize("NFC", text)
    odd = sum(1 for ch in text if ord(ch) > 0x7F and ch not in _VIETNAMESE and ch not in _PUNCTUATION)
    odd += sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r")
    return odd * 200 <= len(text)


def _utf16_without_bom(raw: bytes) -> str | None:
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if looks_vietnamese(text):
            return text
    return None


def decode(raw: bytes, name: str) -> str:
    """BOM, else UTF-8, else Windows-1258 (old Vietnamese sites) when the result is plausible
    Vietnamese; binary data and unknown code pages are refused rather than let through."""
    if not raw.strip():
        raise ReadError(f"{name}: file is empty; remove it or add article text")
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return repair_mojibake(raw.decode(codec), name)
            except UnicodeDecodeError as err:
                raise ReadError(f"{name}: broken {codec} text ({err}); re-save it as UTF-8") from err
    if b"\x00" in raw:
        text = _utf16_without_bom(raw)
        if text is None:
            raise ReadError(f"{name}: binary data (NUL bytes), not text; convert it to UTF-8 text")
        return text
    try:
        return repair_mojibake(raw.decode("utf-8"), name)
    except UnicodeDecodeError as err:
        utf8_error = err
    try:
        text = raw.decode("cp1258")
    except UnicodeDecodeError:
        text = None
    if text is None or not looks_vietnamese(text):
        raise ReadError(f"{name}: neither UTF-8 nor Windows-1258 Vietnamese text (byte {raw[utf8_error.start]:#04x} "
                        f"at offset {utf8_error.start}; TCVN3/VNI or another code page?); re-save it as UTF-8")
    return text
