import json

import pytest

from pipeline.data.annotations import AnnotationError, annotation_files, read_annotations
from pipeline.config import LABELS


def write(path, *records):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_labels_are_read_in_canonical_order(tmp_path):
    file = write(tmp_path / "a.jsonl", {"paragraph_id": "p1", "labels": ["recognition", "propaganda"]},
                 {"paragraph_id": "p2", "labels": []})
    gold = read_annotations([file], LABELS)
    assert gold["p1"].labels == ("propaganda", "recognition") and gold["p2"].labels == ()


@pytest.mark.parametrize("line, message", [
    ('{"paragraph_id": "p1", "labels": ["crime"]}', r"a\.jsonl:2: unknown label\(s\) \['crime'\]"),
    ("{not json", r"a\.jsonl:2: not valid JSON"),
    ('{"labels": []}', r"a\.jsonl:2: missing string 'paragraph_id'"),
    ('{"paragraph_id": "p1", "labels": "propaganda"}', r"a\.jsonl:2: 'labels' must be a list"),
])
def test_bad_lines_stop_with_file_and_line(tmp_path, line, message):
    file = write(tmp_path / "a.jsonl", {"paragraph_id": "p0", "labels": []}, line)
    with pytest.raises(AnnotationError, match=message):
        read_annotations([file], LABELS)


def test_conflicting_duplicates_name_both_places(tmp_path):
    a = write(tmp_path / "a.jsonl", {"paragraph_id": "p1", "labels": ["propaganda"]})
    b = write(tmp_path / "b.jsonl", {"paragraph_id": "x", "labels": []}, {"paragraph_id": "p1", "labels": []})
    with pytest.raises(AnnotationError, match=r"b\.jsonl:2: .* but .*a\.jsonl:1 says \['propaganda'\]"):
        read_annotations([a, b], LABELS)


def test_identical_duplicates_merge(tmp_path):
    a = write(tmp_path / "a.jsonl", {"paragraph_id": "p1", "labels": ["propaganda"]})
    b = write(tmp_path / "b.jsonl", {"paragraph_id": "p1", "labels": ["propaganda"]})
    assert len(read_annotations([a, b], LABELS)) == 1


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(AnnotationError, match="no \\*.jsonl annotation files"):
        annotation_files(tmp_path)


def test_every_seed_paragraph_is_annotated(seed_paragraphs, seed_gold):
    assert {p["paragraph_id"] for p in seed_paragraphs} == set(seed_gold)
