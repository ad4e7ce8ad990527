import codecs
import re
import json
import unicodedata

import pytest

from pipeline.data.readers import ReadError, decode, discover, read_any, read_file
from pipeline.data.webpage import HtmlRules, parse_page

TEXT = "Công an xã Hòa Bình đã bắt 3 đối tượng trộm cắp tài sản."
TONES = "\u0300\u0301\u0303\u0309\u0323"


def windows_1258(text: str) -> bytes:
    """Bytes as legacy Vietnamese Windows software writes them: base letters precomposed,
    tone marks as separate combining characters."""
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in TONES)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES)) + tones)
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize("raw", [
    TEXT.encode("utf-8"),
    codecs.BOM_UTF8 + TEXT.encode("utf-8"),
    TEXT.encode("utf-16"),
    windows_1258(TEXT),
])
def test_encodings_decode_to_the_same_text(raw):
    from pipeline.text import normalize_text

    assert normalize_text(decode(raw, "x.txt")) == TEXT


@pytest.mark.parametrize("raw, reason", [(b"", "empty"), (b"  \n ", "empty"), (b"\x00" * 64, "binary")])
def test_empty_and_binary_files_are_refused_with_the_file_name(raw, reason):
    with pytest.raises(ReadError, match=rf"bad\.txt: .*{reason}"):
        decode(raw, "bad.txt")


def test_html_keeps_the_body_and_drops_scripts_menus_and_entities():
    page = """<html><head><title>Tin an ninh</title><script>var x = "Bình luận";</script>
    <meta property="og:url" content="https://example.vn/a"></head>
    <body><nav><a>Trang chủ</a><a>Thời sự</a></nav>
    <article><h1>Ra mắt tổ tự quản</h1><p>C&ocirc;ng an x&atilde; &#273;&#227; b&#7855;t 3 &#273;&#7889;i t&#432;&#7907;ng.</p>
    <p>Đoạn&nbsp;hai.</p></article><footer>Bản quyền</footer></body></html>"""
    parsed = parse_page(page, HtmlRules())
    text = [l.strip() for l in parsed.lines if l.strip()]
    assert text == ["Ra mắt tổ tự quản", "Công an xã đã bắt 3 đối tượng.", "Đoạn\u00a0hai."]
    assert parsed.meta == {"title": "Tin an ninh", "url": "https://example.vn/a"}
    assert ("html_outside_article", "Bản quyền") in parsed.dropped


def test_crlf_and_cr_files_split_into_lines(tmp_path):
    (tmp_path / "a.txt").write_bytes("Dòng một\r\nDòng hai\rDòng ba".encode())
    (article,) = read_any(tmp_path / "a.txt")
    assert article.lines == ["Dòng một", "Dòng hai", "Dòng ba"]


def test_jsonl_collection_carries_metadata(tmp_path):
    file = tmp_path / "c.jsonl"
    file.write_text(json.dumps({"id": "x1", "title": "T", "url": "u", "text": "A\n\nB"}, ensure_ascii=False)
                    + "\n\n" + json.dumps({"id": "x2", "text": "C"}) + "\n", encoding="utf-8")
    articles = list(read_any(file))
    assert [a.article_id for a in articles] == ["x1", "x2"]
    assert articles[0].meta == {"title": "T", "url": "u"} and articles[0].file.endswith("c.jsonl:1")


def test_bad_jsonl_line_names_file_and_line(tmp_path):
    file = tmp_path / "c.jsonl"
    file.write_text('{"id": "x1", "text": "A"}\n{broken\n', encoding="utf-8")
    good, bad = read_file(file)
    assert good.article_id == "x1"
    assert isinstance(bad, ReadError) and re.search(r"c\.jsonl:2: not valid JSON", str(bad))
    with pytest.raises(ReadError, match=r"c\.jsonl:2: not valid JSON"):
        list(read_any(file))


def test_csv_collection(tmp_path):
    file = tmp_path / "c.csv"
    file.write_text('id,text\nr1,"Đoạn một.\n\nĐoạn hai."\n', encoding="utf-8")
    (article,) = read_any(file)
    assert article.article_id == "r1" and "Đoạn hai." in article.lines


def test_discover_walks_folders_and_names_missing_paths(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.txt", "a.html", "sub/c.jsonl", "skip.png"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in discover([tmp_path])] == ["a.html", "b.txt", "c.jsonl"]
    with pytest.raises(ReadError, match="no such file"):
        discover([tmp_path / "missing"])


def test_jsonl_string_with_a_raw_line_separator_is_one_record(tmp_path):
    file = tmp_path / "c.jsonl"
    file.write_text(json.dumps({"id": "x", "text": "Đoạn một.\u2028Đoạn hai."}, ensure_ascii=False) + "\r\n",
                    encoding="utf-8")
    (article,) = read_any(file)
    assert article.lines == ["Đoạn một.", "Đoạn hai."]


def test_jsonl_collections_stream_instead_of_reading_the_whole_file(tmp_path, monkeypatch):
    file = tmp_path / "big.jsonl"
    records = [{"id": f"a{i}", "text": f"Công an xã đã bắt {i} đối tượng."} for i in range(50)]
    file.write_bytes(codecs.BOM_UTF8 + "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
                     + b"\n\xff\xfe broken\n")
    monkeypatch.setattr(type(file), "read_bytes", lambda self: pytest.fail("read the whole file"))
    items = list(read_file(file))
    assert [a.article_id for a in items[:50]] == [r["id"] for r in records]
    assert isinstance(items[50], ReadError) and "big.jsonl:51" in str(items[50])
