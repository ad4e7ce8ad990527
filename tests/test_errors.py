import re

import numpy as np

from pipeline.config import LABELS
from pipeline.evaluation.errors import error_rows, misclassified, render_html, sentences


def rows(n):
    return [{"paragraph_id": f"p{i}", "article_id": f"a{i // 2}", "source": "seed",
             "text": f"Câu một của đoạn {i}. Câu hai <b>{i}</b>."} for i in range(n)]


def test_report_lists_exactly_the_misclassified_paragraphs():
    rng = np.random.default_rng(0)
    y = rng.random((30, 4)) < 0.4
    pred = y.copy()
    wrong = [2, 5, 11, 17, 29]
    for i, j in zip(wrong, [0, 3, 1, 2, 0]):
        pred[i, j] = ~pred[i, j]
    scores = pred * 0.8 + 0.1
    found = [[("Câu một .", [0.9, 0.1, 0.2, 0.3]), ("Câu hai .", [0.2, 0.7, 0.8, 0.9])] for _ in range(30)]
    errors = error_rows(rows(30), y, pred, scores, found, LABELS)
    page = render_html(errors, LABELS, "errors", 30)
    assert misclassified(y, pred).tolist() == wrong
    assert re.findall(r"data-paragraph-id='([^']+)'", page) == [f"p{i}" for i in wrong]
    assert "&lt;b&gt;" in page and "<b>2</b>" not in page  # paragraph text is escaped
    for err in errors:
        assert set(err["extra"]) | set(err["missed"]) and set(err["drivers"]) == set(err["predicted"])
        for theme, driver in err["drivers"].items():
            best = max(s[1][LABELS.index(theme)] for s in found[0])
            assert driver["score"] == round(best, 3)


def test_nothing_wrong_gives_an_empty_report():
    y = np.eye(4, dtype=bool)
    assert error_rows(rows(4), y, y.copy(), y * 1.0, [[] for _ in range(4)], LABELS) == []


def test_sentences_split_after_end_punctuation():
    assert sentences("Công_an bắt 5 đối_tượng . Khen_thưởng 3 tập_thể ! Còn gì ?") == [
        "Công_an bắt 5 đối_tượng .", "Khen_thưởng 3 tập_thể !", "Còn gì ?"]
    assert sentences("") == [] and sentences("5.000 người") == ["5.000 người"]
