import json
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import ingest_inputs
from pipeline.data.ingest import split_article
from pipeline.data.readers import Article

# Per seed file: paragraphs kept, and exactly the lines that must be dropped (by rule).
SEED_EXPECTATIONS = {
    "000_21ababb0f1663ce7": (7, {}),
    "001_c45da1ff7897e1ef": (8, {"dateline": 1, "desk_credit": 1, "duplicate_in_article": 1,
                                 "lone_punctuation": 2, "byline": 1}),
    "002_0a067d2297b3aeb2": (12, {"byline": 1}),
    "003_9c2018fcc353a387": (6, {"dateline": 1, "photo_credit_suffix": 1, "byline": 1, "comments": 1,
                                 "navigation": 1}),
    "004_4b12d34416c25f2a": (8, {"trailing_timestamp": 1, "byline": 1, "navigation": 3,
                                 "comments": 1, "comment_form": 5}),
}
ROOT = Path(__file__).resolve().parent.parent
FURNITURE_WORDS = ["Bình luận", "Back To Top", "Họ tên:", "Mã xác nhận", "Lượt xem", "In bài viết",
                   "Các bài mới đăng", "Các bài đã đăng", "GMT+7", "Ảnh: Lan Anh", "(15:18 15/01/2020)"]


@pytest.mark.parametrize("article_id", sorted(SEED_EXPECTATIONS))
def test_seed_article_keeps_text_and_drops_exactly_the_furniture(seed_result, article_id):
    kept = [p for p in seed_result.paragraphs if p["article_id"] == article_id]
    dropped = [d for d in seed_result.dropped if d["article_id"] == article_id]
    n_paragraphs, rules = SEED_EXPECTATIONS[article_id]
    assert len(kept) == n_paragraphs
    assert Counter(d["rule"] for d in dropped) == Counter(rules)
    for paragraph in kept:
        assert not any(word in paragraph["text"] for word in FURNITURE_WORDS), paragraph["text"]


def test_every_nonblank_seed_line_is_kept_or_dropped(seed_result, furniture):
    strip_rules = {rule.name for rule in furniture.strip}
    for file in sorted((ROOT / "data" / "raw").glob("*.txt")):
        lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        kept = [p for p in seed_result.paragraphs if p["file"] == str(file)]
        dropped = [d for d in seed_result.dropped if d["file"] == str(file) and d["rule"] not in strip_rules]
        assert len(kept) + len(dropped) == len(lines), file.name


def test_short_content_lines_stay(furniture):
    article = Article("a", ["Một vụ án ma túy được khám phá nhờ nguồn tin nhân dân tố giác", "",
                            "Các tập thể được UBND TP tặng Bằng khen", "", "Mai Hương"], "a.txt")
    kept, dropped = split_article(article, furniture, "seed")
    assert [p["text"][:6] for p in kept] == ["Một vụ", "Các tậ"]
    assert [d["rule"] for d in dropped] == ["byline"]


def test_article_text_starting_with_furniture_words_stays(furniture):
    lines = ["Bình luận về kết quả này, Đại tá Nguyễn Văn A cho biết công an đã bắt 5 đối tượng.",
             "15/01/2020, Công an huyện đã khám phá 3 vụ án trộm cắp."]
    kept, dropped = split_article(Article("a", lines, "a.txt"), furniture, "seed")
    assert len(kept) == 2 and not dropped


def test_duplicates_are_kept_once_with_a_count(furniture):
    lines = ["Cán bộ tuyên truyền pháp luật", "Cán bộ  tuyên truyền pháp luật", "Cán bộ tuyên truyền pháp luật"]
    kept, dropped = split_article(Article("a", lines, "a.txt"), furniture, "seed")
    assert len(kept) == 1 and kept[0]["duplicates"] == 2
    assert [d["rule"] for d in dropped] == ["duplicate_in_article"] * 2


def test_hard_wrapped_lines_join_into_one_paragraph(furniture):
    lines = ["Công an xã đã phối hợp với các đoàn thể tổ chức", "tuyên truyền cho 300 lượt người dân.",
             "Đồng thời ra mắt tổ an ninh nhân dân."]
    kept, _ = split_article(Article("a", lines, "a.txt"), furniture, "seed")
    assert [p["text"] for p in kept] == [
        "Công an xã đã phối hợp với các đoàn thể tổ chức tuyên truyền cho 300 lượt người dân.",
        "Đồng thời ra mắt tổ an ninh nhân dân."]


def test_paragraph_ids_do_not_depend_on_file_or_order(furniture):
    lines = ["Đoạn một về tuyên truyền.", "", "Đoạn hai về khen thưởng."]
    a, _ = split_article(Article("x", lines, "x.txt"), furniture, "seed")
    b, _ = split_article(Article("y", list(reversed(lines)), "other/y.html"), furniture, "seed")
    assert {p["paragraph_id"] for p in a} == {p["paragraph_id"] for p in b}


def test_every_annotation_matches_an_ingested_paragraph(seed_result, furniture):
    """Labels are keyed by paragraph id: a change of splitting, normalising or furniture that
    loses or alters an annotated paragraph would silently drop its label from the corpus."""
    from pipeline.files import read_jsonl
    from pipeline.data.ingest import ingest

    synthetic = ingest([i for i in ingest_inputs() if i[1] != "seed"], furniture)
    assert not synthetic.failures
    ids = {p["paragraph_id"] for p in seed_result.paragraphs + synthetic.paragraphs}
    for file in sorted((ROOT / "data" / "annotations").glob("*.jsonl")):
        missing = [a["text"] for a in read_jsonl(file) if a["paragraph_id"] not in ids]
        assert not missing, f"{file.name}: {len(missing)} annotated paragraph(s) not ingested, e.g. {missing[:3]}"


FIXTURES = ROOT / "tests" / "fixtures" / "ingest"
REFERENCE = ["Công an xã Hòa Bình bắt 3 đối tượng trộm cắp", "Ngày 12/3, Công an xã Hòa Bình phối hợp",
             "Tang vật vụ trộm cắp bị thu giữ", "Nhờ tin báo kịp thời", "Dịp này, UBND huyện tặng Giấy khen"]
REFERENCE_DROPS = ["dateline", "share_print", "source_credit", "related_link"]
FAILURES = {"empty.txt": "file is empty", "zeros.txt": "binary data", "tcvn3.txt": "neither UTF-8 nor Windows-1258",
            "mojibake_lossy.txt:5": "damaged text", "collection.jsonl:4": "no 'text'",
            "collection.jsonl:5": "not valid JSON"}


@pytest.fixture(scope="module")
def fixture_result(furniture):
    from pipeline.data.ingest import ingest

    return ingest([(FIXTURES, "fixture")], furniture)


def _of(records: list[dict], name: str) -> list[dict]:
    return [r for r in records if Path(r["file"]).name == name]


@pytest.mark.parametrize("name", ["article.txt", "crlf.txt", "cr.txt", "bom.txt", "utf16.txt", "nfd.txt",
                                  "cp1258.txt", "mojibake.txt", "wrapped.txt", "one_per_line.txt", "page.html"])
def test_every_form_of_the_article_gives_the_same_paragraphs_and_ids(fixture_result, name):
    kept = _of(fixture_result.paragraphs, name)
    reference = _of(fixture_result.paragraphs, "article.txt")
    assert [p["text"][: len(start)] for p, start in zip(kept, REFERENCE)] == REFERENCE and len(kept) == 5
    assert [p["paragraph_id"] for p in kept] == [p["paragraph_id"] for p in reference]
    assert all(p["title"] == REFERENCE[0] for p in kept)
    if name.endswith(".txt") and name not in ("wrapped.txt", "one_per_line.txt"):
        assert [d["rule"] for d in _of(fixture_result.dropped, name)] == REFERENCE_DROPS


def test_unreadable_files_and_records_are_reported_with_the_reason(fixture_result):
    reasons = {f["reason"].split(": ")[0].replace(str(FIXTURES) + "/", ""): f["reason"] for f in fixture_result.failures}
    assert set(reasons) == set(FAILURES)
    for where, reason in FAILURES.items():
        assert reason in reasons[where] and "; " in reasons[where], reasons[where]  # says what to do


def test_html_page_keeps_article_and_caption_and_accounts_for_the_rest(fixture_result):
    kept = _of(fixture_result.paragraphs, "page.html")
    assert {k: kept[-1][k] for k in ("url", "published", "outlet")} == {
        "url": "https://anninhthudo.example.vn/cong-an-xa-hoa-binh-bat-3-doi-tuong.html",
        "published": "2024-03-14T08:30:00+07:00", "outlet": "Báo An ninh Thủ đô"}
    rules = Counter(d["rule"] for d in _of(fixture_result.dropped, "page.html"))
    assert {"html_related", "html_tags", "html_aside", "html_outside_article", "byline"} <= set(rules)
    dropped_text = " ".join(d["text"] for d in _of(fixture_result.dropped, "page.html"))
    for furniture_text in ("Trang chủ", "Tin liên quan", "Bắt đối tượng trộm xe máy", "Quảng cáo", "Họ tên:(*)",
                           "Bản quyền", "Phá đường dây đánh bạc", "Minh Anh", "Chia sẻ"):
        assert furniture_text in dropped_text
        assert not any(furniture_text in p["text"] for p in kept)
    assert not any(word in p["text"] for p in kept for word in ("dataLayer", "loadAd", "font-weight", "&"))


def test_collections_carry_metadata_and_count_duplicates(fixture_result):
    first = _of(fixture_result.paragraphs, "collection.jsonl:1")
    assert [p["text"][:20] for p in first] == ["Ngày 12/3, Công an x", "Tang vật vụ trộm cắp"]
    assert all(p["outlet"] == "Báo Hòa Bình" and p["published"] == "2024-03-14" and p["article_id"] == "c-1"
               for p in first)
    (award,) = _of(fixture_result.paragraphs, "collection.jsonl:2")
    assert award["duplicates"] == 1 and award["title"] == "Khen thưởng tổ an ninh tự quản"
    (repaired,) = _of(fixture_result.paragraphs, "collection.jsonl:6")
    assert repaired["text"] == "Công an xã đã bắt 2 đối tượng."
    csv_rows = _of(fixture_result.paragraphs, "collection.csv:6") + _of(fixture_result.paragraphs, "collection.csv:8")
    assert [p["article_id"] for p in csv_rows] == ["r-1", "r-1", "r-2"] and csv_rows[0]["url"] == "https://example.vn/r-1"
    assert [d["rule"] for d in fixture_result.dropped if "collection.csv" in d["file"]] == [
        "illustration_label", "related_link"]


def test_summary_counts_articles_paragraphs_rules_and_failures(fixture_result):
    summary = fixture_result.summary()
    assert summary["files_failed"] == len(FAILURES)
    assert summary["paragraphs"] == len(fixture_result.paragraphs)
    assert sum(summary["dropped_by_rule"].values()) == summary["dropped_lines"] == len(fixture_result.dropped)
    assert summary["articles"] == 11 + 3 + 2  # text/html files, good JSONL records, CSV records


def test_a_paragraph_longer_than_the_model_window_is_kept_whole(furniture):
    long = " ".join(["Công an xã đã phối hợp với các đoàn thể tuyên truyền pháp luật cho người dân."] * 80)
    kept, dropped = split_article(Article("a", ["Tiêu đề bài viết", "", long], "a.txt"), furniture, "seed")
    assert kept[1]["text"] == long and len(long.split()) > 1000 and not dropped


@pytest.mark.parametrize("line, rule", [
    ("Chia sẻ", "share_print"), ("Chia sẻ bài viết lên Facebook | Zalo", "share_print"), ("Thích 12", "share_print"),
    ("Tin liên quan", "navigation"), ("Tin liên quan:", "navigation"), ("Xem thêm", "navigation"),
    ("Tin mới nhất", "navigation"), ("Từ khóa: công an, an ninh trật tự", "navigation"),
    ("Xem thêm: Bắt đối tượng trộm xe máy", "related_link"), ("» Phá đường dây đánh bạc qua mạng", "related_link"),
    ("Theo VnExpress", "source_credit"), ("Theo Báo Công an nhân dân (Vũ Hà)", "source_credit"),
    ("Nguồn: TTXVN", "photo_credit"),
    ("© 2024 Báo An ninh Thủ đô. All rights reserved.", "copyright"),
    ("Bản quyền thuộc Báo Công an nhân dân", "copyright"),
    ("Tổng biên tập: Nguyễn Văn X", "site_footer"), ("Giấy phép số 123/GP-BTTTT", "site_footer"),
    ("(Ảnh minh họa)", "illustration_label"), ("Ảnh minh hoạ", "illustration_label"),
    ("Cập nhật: 10:20 15/01/2020", "posted_at"), ("Quảng cáo", "page_chrome"), ("Đăng nhập", "page_chrome"),
])
def test_furniture_of_vietnamese_outlets_is_dropped_by_its_rule(furniture, line, rule):
    kept, dropped = split_article(Article("a", ["Công an xã đã bắt 3 đối tượng.", line], "a.txt"), furniture, "seed")
    assert len(kept) == 1 and [d["rule"] for d in dropped] == [rule]


@pytest.mark.parametrize("line", [
    "Tang vật vụ án ma túy bị thu giữ", "Bắt 3 đối tượng trộm cắp tài sản", "Khen thưởng Công an xã Hòa Bình",
    "Theo báo cáo, Công an huyện đã bắt 12 đối tượng trong quý I.", "Theo Đại tá Nguyễn Văn A, phong trào đã lan rộng.",
    "Ra mắt mô hình “Camera an ninh”", "Chia sẻ kinh nghiệm xây dựng tổ tự quản, Trưởng thôn cho biết thêm.",
    "Quần chúng nhân dân đã cung cấp 200 tin có giá trị", "Xử lý nghiêm các đối tượng vi phạm",
])
def test_short_real_content_lines_stay(furniture, line):
    kept, dropped = split_article(Article("a", [line], "a.txt"), furniture, "seed")
    assert [p["text"] for p in kept] == [line] and not dropped


def test_illustration_note_is_cut_from_a_caption(furniture):
    kept, dropped = split_article(Article("a", ["Lực lượng công an tuần tra ban đêm. (Ảnh minh họa)"], "a.txt"),
                                  furniture, "seed")
    assert kept[0]["text"] == "Lực lượng công an tuần tra ban đêm."
    assert [(d["rule"], d["text"]) for d in dropped] == [("illustration_suffix", "(Ảnh minh họa)")]


def test_furniture_patterns_are_written_in_normalised_text(furniture):
    """Rules match normalised lines: a pattern in NFD or with old tone placement never fires."""
    from pipeline.config import load_yaml
    from pipeline.text import normalize_text

    config = load_yaml("furniture.yaml")
    for rule in config["drop"] + config["strip"]:
        assert normalize_text(rule["pattern"]).replace(" ", "") == rule["pattern"].replace(" ", ""), rule["name"]


REAL_LINES = ["Công an xã đã bắt 3 đối tượng trộm cắp.", "Tang vật vụ án bị thu giữ", "Mai Hương", "Chia sẻ",
              "Bình luận", "Thứ Hai, 07/09/2020, 09:06 [GMT+7]", "tuyên truyền cho 300 lượt người dân.",
              "Lực lượng công an tuần tra. (Ảnh minh họa)", "Họ tên:(*)", "(15:18 15/01/2020)", "", "   ", "»",
              "Ngày 12/3, Công an xã Hòa Bình phối hợp với tổ an ninh tự quản thôn Đông đã bắt", "\u200b\u00ad"]
lines_strategy = st.lists(st.one_of(st.sampled_from(REAL_LINES), st.text(max_size=60)), max_size=25)


def _chars(texts) -> list[str]:
    return sorted(ch for text in texts for ch in text if not ch.isspace())


@settings(max_examples=150, deadline=None)
@given(lines_strategy)
def test_every_input_line_ends_up_in_a_paragraph_or_in_the_dropped_lines(furniture, lines):
    """Each record carries its span of input lines; the characters of those lines are exactly
    the characters of the paragraph and dropped records of that span, and no line is missed."""
    from pipeline.text import normalize_text

    kept, dropped = split_article(Article("a", lines, "a.txt"), furniture, "t")
    spans: dict[tuple[int, int], list[str]] = {}
    for record in kept + dropped:
        spans.setdefault((record["line"], record["line_end"]), []).append(record["text"])
    covered = [n for first, last in spans for n in range(first, last + 1)]
    assert len(covered) == len(set(covered))
    for number, line in enumerate(lines, 1):
        assert number in covered or not normalize_text(line), (number, line)
    for (first, last), texts in spans.items():
        assert _chars(texts) == _chars(normalize_text(line) for line in lines[first - 1:last])


@settings(max_examples=120, deadline=None)
@given(st.one_of(st.binary(max_size=400),
                 st.text(max_size=200).map(lambda t: t.encode("utf-8")),
                 st.text(max_size=200).map(lambda t: t.encode("utf-16")),
                 st.text(max_size=200).map(lambda t: t.encode("cp1258", errors="ignore")),
                 st.builds(lambda t: json.dumps({"id": 1, "text": t}).encode(), st.text(max_size=100))),
       st.sampled_from([".txt", ".html", ".jsonl", ".csv"]))
def test_ingestion_never_raises_on_arbitrary_bytes(furniture, raw, suffix):
    from pipeline.data.ingest import ingest

    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / f"input{suffix}"
        file.write_bytes(raw)
        result = ingest([(file, "t")], furniture)
    assert result.articles or result.failures or suffix in (".jsonl", ".csv")
    assert all(f["reason"].startswith(str(file)) for f in result.failures)
    assert all(p["text"] and p["text"] == p["text"].strip() for p in result.paragraphs)
