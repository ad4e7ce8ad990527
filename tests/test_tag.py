import numpy as np
from rich.progress import Progress

from pipeline.config import LABELS, load_params
from pipeline.tag import TagReport, _batches, _paragraphs, _tagged
from pipeline.tagger import Tagger
from pipeline.tfidf import TfidfModel
from pipeline.text import segment
from tests.conftest import ROOT


class PyfuncLike:
    """The one method `antq tag` calls on a loaded MLflow pyfunc, over a real trained Tagger."""

    def __init__(self, tagger: Tagger):
        self.tagger = tagger

    def predict(self, frame):
        return self.tagger.predict_frame(frame["text"].tolist())


def test_tag_output_carries_article_metadata_and_line_spans(seed_paragraphs, seed_gold, furniture):
    texts = [segment(p["text"]) for p in seed_paragraphs]
    y = np.array([[label in seed_gold[p["paragraph_id"]].labels for label in LABELS] for p in seed_paragraphs])
    model = PyfuncLike(Tagger(TfidfModel.fit(texts, y, load_params()["tfidf"], seed=0), LABELS))
    report = TagReport()
    fixtures = ROOT / "tests" / "fixtures" / "ingest"
    with Progress(disable=True) as progress:
        paragraphs = _paragraphs([fixtures / "page.html", fixtures / "collection.jsonl"], furniture, report, progress)
        rows = list(_tagged(model, _batches(paragraphs, 4), LABELS, report))
    page = [r for r in rows if r["file"].endswith("page.html")]
    assert len(page) == 5 and all(r["outlet"] == "Báo An ninh Thủ đô" and r["url"].startswith("https://")
                                  and r["published"] == "2024-03-14T08:30:00+07:00" for r in page)
    first = next(r for r in rows if r["article_id"] == "c-1")
    assert {first[k] for k in ("title", "outlet", "published")} == {
        "Công an xã Hòa Bình bắt 3 đối tượng trộm cắp", "Báo Hòa Bình", "2024-03-14"}
    assert all(r["line"] <= r["line_end"] and set(r["scores"]) == set(LABELS) for r in rows)
    assert len(report.errors) == 2 and all("collection.jsonl:" in e["reason"] for e in report.errors)
