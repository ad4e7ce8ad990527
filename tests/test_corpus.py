from pipeline.data.annotations import Annotation
from pipeline.config import LABELS
from pipeline.data.corpus import build, join

PARAGRAPHS = [
    {"paragraph_id": "a", "article_id": "x", "paragraph_index": 0, "text": "Công an xã bắt 2 đối tượng.", "source": "seed"},
    {"paragraph_id": "b", "article_id": "x", "paragraph_index": 1, "text": "Thời gian tới tiếp tục.", "source": "seed"},
]


def gold(**labels):
    return {pid: Annotation(pid, tuple(l), "seed", f"f:{i}") for i, (pid, l) in enumerate(labels.items())}


def test_join_splits_labelled_unlabelled_and_reports_orphans():
    labelled, unlabelled, orphans = join(PARAGRAPHS, gold(a=["crime_outcomes"], zzz=[]), LABELS)
    assert [r["paragraph_id"] for r in labelled] == ["a"]
    assert labelled[0]["targets"] == [0.0, 1.0, 0.0, 0.0]
    assert [r["paragraph_id"] for r in unlabelled] == ["b"]
    assert orphans == ["zzz"]


def test_build_segments_text_and_counts():
    data, stats = build(PARAGRAPHS, gold(a=["crime_outcomes"], b=[]), LABELS)
    assert set(data) == {"labelled"}
    assert data["labelled"][0]["segmented"].startswith("Công_an")
    assert stats["positives"]["crime_outcomes"] == 1 and stats["no_theme"] == 1
