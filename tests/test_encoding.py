import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.data.encoding import MOJIBAKE, ReadError, decode, looks_vietnamese, repair_mojibake

TEXT = "Công an xã Hòa Bình đã bắt 3 đối tượng trộm cắp tài sản. ĐẢM BẢO AN NINH TRẬT TỰ Ở CƠ SỞ"


def mis_decoded(text: str, rounds: int = 1) -> str:
    """What a Windows-1252/Latin-1 reader makes of UTF-8, as browsers and CMSs do."""
    for _ in range(rounds):
        text = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in text.encode("utf-8"))
    return text


@pytest.mark.parametrize("rounds", [1, 2])
def test_mojibake_is_repaired_exactly(rounds):
    damaged = mis_decoded(TEXT, rounds)
    assert MOJIBAKE.search(damaged)
    assert repair_mojibake(damaged, "x.txt") == TEXT
    assert decode(damaged.encode("utf-8"), "x.txt") == TEXT


def test_mixed_lines_are_repaired_one_by_one():
    assert repair_mojibake(f"{TEXT}\n{mis_decoded(TEXT)}", "x.txt") == f"{TEXT}\n{TEXT}"


def test_irreparable_mojibake_is_refused_naming_file_and_line():
    lossy = mis_decoded(TEXT).replace("Ä‘", "Ä\ufffd")
    with pytest.raises(ReadError, match=r"x\.txt:2: damaged text"):
        repair_mojibake(f"{TEXT}\n{lossy}", "x.txt")


@pytest.mark.parametrize("raw", [
    codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"),
    TEXT.encode("utf-16-le"),  # no BOM: recognised by its NUL pattern, not refused as binary
    TEXT.encode("utf-16-be"),
])
def test_utf32_and_bomless_utf16(raw):
    assert decode(raw, "x.txt") == TEXT


@pytest.mark.parametrize("raw, reason", [
    ("C«ng an x· ®· b¾t 3 ®èi t­îng".encode("cp1252"), "neither UTF-8 nor Windows-1258"),  # TCVN3
    ("Façade, garçon, señor".encode("cp1252"), "neither UTF-8 nor Windows-1258"),  # another language
    (bytes(range(128, 256)) * 4, "neither UTF-8 nor Windows-1258"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
])
def test_bytes_that_are_neither_are_refused_naming_the_file(raw, reason):
    with pytest.raises(ReadError, match=rf"^bad\.txt: .*{reason}.*re-save it as UTF-8|^bad\.txt: .*{reason}"):
        decode(raw, "bad.txt")


def test_legitimate_text_that_resembles_mojibake_is_left_alone():
    text = "THỦ ĐÔ” và “NGÃ BA” — Ô tô, Ã"
    assert repair_mojibake(text, "x.txt") == text and looks_vietnamese(text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda t: t.encode("utf-8")),
                 st.text(max_size=100).map(lambda t: mis_decoded(t).encode("utf-8"))))
def test_decode_returns_text_without_mojibake_or_raises_read_error(raw):
    try:
        text = decode(raw, "x.txt")
    except ReadError as err:
        assert str(err).startswith("x.txt")
        return
    assert not MOJIBAKE.search(text) and "\ufffd" not in text


VIETNAMESE_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
vietnamese_text = st.text(alphabet=VIETNAMESE_ALPHABET + VIETNAMESE_ALPHABET.upper() + " ,.0123456789“”–", max_size=80)


@settings(max_examples=200, deadline=None)
@given(vietnamese_text.filter(lambda t: any(ch in "đươĐƯƠ" or "\u1ea0" <= ch <= "\u1ef9" for ch in t)))
def test_any_vietnamese_line_survives_a_mojibake_round_trip(text):
    assert repair_mojibake(mis_decoded(text), "x.txt") == text


def test_uppercase_a_tilde_before_punctuation_is_real_text_not_mojibake():
    text = "“NGÃ” ĐÃ… Công an xã ĐÃ– bắt 2 đối tượng"
    assert decode(text.encode("utf-8"), "x.txt") == text
