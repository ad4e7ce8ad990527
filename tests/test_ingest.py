from collections import Counter
from pathlib import Path

import pytest

from pipeline.ingest import split_article
from pipeline.readers import Article

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
    from pipeline.ingest import ingest

    synthetic = ingest([(ROOT / "data" / "synthetic" / "articles.jsonl", "synthetic")], furniture)
    assert not synthetic.failures
    ids = {p["paragraph_id"] for p in seed_result.paragraphs + synthetic.paragraphs}
    for file in sorted((ROOT / "data" / "annotations").glob("*.jsonl")):
        missing = [a["text"] for a in read_jsonl(file) if a["paragraph_id"] not in ids]
        assert not missing, f"{file.name}: {len(missing)} annotated paragraph(s) not ingested, e.g. {missing[:3]}"
