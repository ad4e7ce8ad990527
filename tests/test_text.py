import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.text import normalize_text, paragraph_id, segment, windows


def test_nfd_and_nfc_give_the_same_paragraph_and_id():
    text = "Công an huyện Điện Biên Đông tổ chức 17 diễn đàn “Công an lắng nghe ý kiến nhân dân”."
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert normalize_text(nfd) == normalize_text(text) == text
    assert paragraph_id(nfd) == paragraph_id(text)


@pytest.mark.parametrize("old, new", [("hoà giải", "hòa giải"), ("Thuỷ lợi", "Thủy lợi"),
                                      ("Uỷ ban", "Ủy ban"), ("quý", "quý"), ("ma tuý", "ma túy")])
def test_tone_marks_take_one_placement(old, new):
    assert normalize_text(old) == new


def test_invisible_characters_and_odd_spaces_are_removed():
    messy = "Công\u00a0an\u200b xã\u00ad  bắt\t2 đối tượng\r\n\r\n"
    assert normalize_text(messy) == "Công an xã bắt 2 đối tượng"


def test_id_ignores_whitespace_but_not_words():
    assert paragraph_id("bắt  2 đối\ntượng ") == paragraph_id("bắt 2 đối tượng")
    assert paragraph_id("bắt 2 đối tượng") != paragraph_id("bắt 3 đối tượng")


@given(st.text())
def test_normalisation_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


def test_segment_joins_vietnamese_words():
    assert segment("Công an thành phố Hà Nội") == "Công_an thành_phố Hà_Nội"
    assert segment("   ") == ""


@given(st.lists(st.integers(), max_size=600), st.integers(1, 64), st.data())
def test_windows_cover_every_token_in_order(ids, size, data):
    overlap = data.draw(st.integers(0, size - 1))
    parts = windows(ids, size, overlap)
    assert all(len(p) <= size for p in parts)
    rebuilt = list(parts[0])
    for part in parts[1:]:
        assert part[:overlap] == rebuilt[len(rebuilt) - overlap:] if overlap else True
        rebuilt += part[overlap:]
    assert rebuilt == ids


def test_windows_reject_bad_settings():
    with pytest.raises(ValueError):
        windows([1, 2, 3], 4, 4)


SYLLABLES = ["Công", "an", "xã", "Hòa", "hoà", "thuỷ", "thủy", "đối", "tượng", "Ủy", "Uỷ", "ban", "bắt", "12/3,",
             "“tổ", "tự", "quản”", "ĐẢM", "BẢO", "quý", "ma", "tuý."]
whitespace = st.text(alphabet=" \t\n\r\u00a0\u2009\u3000", min_size=1, max_size=3)


@given(st.lists(st.one_of(st.sampled_from(SYLLABLES), st.text(min_size=1, max_size=6).filter(lambda w: not any(
    c.isspace() or unicodedata.category(c)[0] == "C" for c in w))), min_size=1, max_size=20), st.data())
def test_ids_are_invariant_under_nfd_nfc_and_whitespace(words, data):
    text = " ".join(words)
    spaced = data.draw(whitespace) + "".join(w + data.draw(whitespace) for w in words)
    for form in ("NFC", "NFD"):
        assert paragraph_id(unicodedata.normalize(form, spaced)) == paragraph_id(text)
