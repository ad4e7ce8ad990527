import pytest

from pipeline.config import load_yaml
from pipeline.data.webpage import HtmlRules, parse_page


@pytest.fixture(scope="module")
def rules() -> HtmlRules:
    return HtmlRules.from_config(load_yaml("furniture.yaml")["html"])


def lines(page) -> list[str]:
    return [" ".join(line.split()) for line in page.lines if line.strip()]


def test_the_story_is_the_longest_article_not_a_related_teaser(rules):
    markup = """<body><article class="item"><h3>Tin khác: bắt cướp</h3></article>
    <article><p>Công an phường đã vận động người dân giao nộp 12 khẩu súng tự chế và 40 viên đạn.</p></article>
    <article class="item"><h3>Tin khác: phá ổ nhóm</h3></article></body>"""
    page = parse_page(markup, rules)
    assert lines(page) == ["Công an phường đã vận động người dân giao nộp 12 khẩu súng tự chế và 40 viên đạn."]
    assert [rule for rule, _ in page.dropped] == ["html_outside_article"] * 2


def test_common_content_class_wins_over_the_whole_page(rules):
    markup = """<body><div class="menu-top">Thời sự Pháp luật</div><div class="fck_detail">
    <p class="Normal">Đoạn một của bài.</p><p class="Image">Chú thích ảnh: lực lượng tuần tra</p></div>
    <div class="footer-info">Liên hệ tòa soạn</div></body>"""
    page = parse_page(markup, rules)
    assert lines(page) == ["Đoạn một của bài.", "Chú thích ảnh: lực lượng tuần tra"]


def test_entities_comments_and_line_breaks(rules):
    markup = """<article><p>Công an x&atilde; &amp;#273;&atilde; b&#7855;t<br>hai&nbsp;đối
    tượng <!-- Bình luận --> trộm cắp.</p></article>"""
    assert lines(parse_page(markup, rules)) == ["Công an xã đã bắt", "hai đối tượng trộm cắp."]


def test_json_ld_metadata_and_canonical_url(rules):
    markup = """<html><head><link rel="canonical" href="https://cand.example.vn/bai-1">
    <script type="application/ld+json">{"@type": "NewsArticle", "headline": "Ra mắt tổ tự quản",
    "datePublished": "2024-05-01T07:00:00+07:00", "publisher": {"name": "Báo Công an nhân dân"}}</script>
    </head><body><article><p>Nội dung.</p></article></body></html>"""
    assert parse_page(markup, rules).meta == {"title": "Ra mắt tổ tự quản", "published": "2024-05-01T07:00:00+07:00",
                                              "outlet": "Báo Công an nhân dân", "url": "https://cand.example.vn/bai-1"}


def test_page_without_article_markup_keeps_body_text_and_drops_menus(rules):
    markup = """<body><nav>Trang chủ | Thời sự</nav><p>Đoạn văn của bài viết.</p>
    <div class="social-share">Chia sẻ Facebook</div><footer>© Báo X</footer></body>"""
    page = parse_page(markup, rules)
    assert lines(page) == ["Đoạn văn của bài viết."]
    assert [rule for rule, _ in page.dropped] == ["html_menu", "html_share", "html_footer"]
