import csv
import json
import re

import pytest

from pipeline.data.annotate import export, import_labels, predict, read_paragraphs
from pipeline.data.annotations import AnnotationError, read_annotations
from pipeline.config import LABELS
from pipeline.data.labelstudio import labelling_config
from pipeline.tagging.tagger import rules_tagger
from pipeline.text import paragraph_id

TRICKY = 'Trưởng Công an xã nói: "Người dân, nhất là thanh niên, đã hưởng ứng; cảm ơn!" (ảnh: Hà)'


@pytest.fixture(scope="module")
def rows(seed_paragraphs):
    extra = {"paragraph_id": paragraph_id(TRICKY), "article_id": "extra", "paragraph_index": 0,
             "text": TRICKY, "source": "synthetic"}
    return predict([dict(p) for p in seed_paragraphs[:12]] + [extra], rules_tagger(LABELS), LABELS)


@pytest.fixture
def known(rows):
    return {r["paragraph_id"]: r for r in rows}


def read_csv(file):
    with open(file, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(file, records):
    with open(file, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return file


def gold_for(i):
    """A labelling that uses every theme, combinations and 'none'."""
    return [LABELS[i % 4]] + ([LABELS[(i + 1) % 4]] if i % 3 == 0 else []) if i % 5 else []


def test_csv_round_trip_loses_nothing(rows, known, tmp_path):
    csv_file, tasks_file, config_file = export(rows, tmp_path / "batch", LABELS, "rules")
    exported = read_csv(csv_file)
    assert [r["text"] for r in exported] == [r["text"] for r in rows]
    assert all(r["labels"] == "" for r in exported) and exported[-1]["suggested"]
    for i, record in enumerate(exported):
        record["labels"] = ";".join(gold_for(i)) or "none"
    target = tmp_path / "annotations" / "batch.jsonl"
    counts = import_labels([write_csv(csv_file, exported)], target, known, {}, LABELS)
    gold = read_annotations([target], LABELS)
    assert counts == {"imported": len(rows), "already_annotated": 0, "not_labelled": 0}
    assert {pid: list(a.labels) for pid, a in gold.items()} == {
        r["paragraph_id"]: [l for l in LABELS if l in gold_for(i)] for i, r in enumerate(rows)}
    written = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert written[-1]["source"] == "synthetic" and written[-1]["article_id"] == "extra"


def test_label_studio_round_trip_keeps_accepted_predictions(rows, known, tmp_path):
    _, tasks_file, config_file = export(rows, tmp_path / "batch", LABELS, "rules")
    tasks = json.loads(tasks_file.read_text(encoding="utf-8"))
    assert len(tasks) == len(rows) and all(t["predictions"][0]["model_version"] == "rules" for t in tasks)
    assert all(f'value="{label}"' in config_file.read_text() for label in [*LABELS, "none"])
    exported = [{"id": i, **t, "annotations": [{"result": t["predictions"][0]["result"], "was_cancelled": False}]}
                for i, t in enumerate(tasks)]
    exported[0]["annotations"] = []
    ls_export = tmp_path / "project-1.json"
    ls_export.write_text(json.dumps(exported, ensure_ascii=False, indent=2), encoding="utf-8")
    counts = import_labels([ls_export], tmp_path / "ls.jsonl", known, {}, LABELS)
    gold = read_annotations([tmp_path / "ls.jsonl"], LABELS)
    assert counts == {"imported": len(rows) - 1, "already_annotated": 0, "not_labelled": 1}
    assert all(list(gold[r["paragraph_id"]].labels) == r["suggested"] for r in rows[1:])


def test_labelling_config_offers_every_theme_once():
    config = labelling_config(LABELS)
    assert config.count("<Choice ") == len(LABELS) + 1 and 'choice="multiple"' in config


BAD_CSV = [
    ("crime", r"x\.csv:3: unknown label\(s\) \['crime'\]"),
    ("none;propaganda", r"x\.csv:3: 'none' together with themes \['propaganda'\]"),
    (" ; ", r"x\.csv:3: no theme chosen"),
]


@pytest.mark.parametrize("cell, message", BAD_CSV)
def test_bad_labels_name_file_and_line_and_write_nothing(rows, known, tmp_path, cell, message):
    target = tmp_path / "batch.jsonl"
    target.write_text('{"paragraph_id": "old", "labels": []}\n', encoding="utf-8")
    records = [{"paragraph_id": r["paragraph_id"], "text": r["text"], "labels": "propaganda"} for r in rows[:3]]
    records[1]["labels"] = cell
    with pytest.raises(AnnotationError, match=message):
        import_labels([write_csv(tmp_path / "x.csv", records)], target, known, {}, LABELS)
    assert target.read_text(encoding="utf-8") == '{"paragraph_id": "old", "labels": []}\n'


def test_every_problem_is_reported_with_its_line(rows, known, tmp_path):
    records = [{"paragraph_id": r["paragraph_id"], "text": r["text"], "labels": "propaganda"} for r in rows[:4]]
    records[0] |= {"paragraph_id": "feedfeedfeedfeed", "text": ""}
    records[1]["text"] = records[1]["text"] + " (sửa)"
    records.append({**records[2], "labels": "recognition"})
    with pytest.raises(AnnotationError) as err:
        import_labels([write_csv(tmp_path / "x.csv", records)], tmp_path / "out.jsonl", known, {}, LABELS)
    message = str(err.value)
    assert "3 problem(s), nothing imported" in message
    assert "x.csv:2: unknown paragraph feedfeedfeedfeed" in message
    assert "x.csv:3: text does not match paragraph" in message
    assert "x.csv:6: paragraph" in message and "but " in message and "x.csv:4 says ['propaganda']" in message
    assert not (tmp_path / "out.jsonl").exists()


def test_labels_contradicting_existing_annotations_are_refused(known, seed_gold, tmp_path):
    pid = next(p for p in known if p in seed_gold)
    other = next(l for l in LABELS if l not in seed_gold[pid].labels)
    file = write_csv(tmp_path / "x.csv", [{"paragraph_id": pid, "labels": other}])
    with pytest.raises(AnnotationError, match=rf"x\.csv:2: .* already says {re.escape(str(list(seed_gold[pid].labels)))}"):
        import_labels([file], tmp_path / "out.jsonl", known, seed_gold, LABELS)


def test_label_studio_errors_point_at_the_task_line(known, tmp_path):
    task = {"data": {"paragraph_id": next(iter(known)), "text": known[next(iter(known))]["text"]},
            "annotations": [{"result": [{"from_name": "themes", "value": {"choices": ["propaganda"]}}]},
                            {"result": [{"from_name": "themes", "value": {"choices": ["none"]}}]}]}
    file = tmp_path / "ls.json"
    file.write_text("[\n" + json.dumps({"data": task["data"]}) + ",\n" + json.dumps(task) + ",\n"
                    + json.dumps({"id": 7}) + "\n]", encoding="utf-8")
    with pytest.raises(AnnotationError) as err:
        import_labels([file], tmp_path / "out.jsonl", known, {}, LABELS)
    assert "ls.json:3: annotators disagree" in str(err.value) and "ls.json:4: not a Label Studio task" in str(err.value)
    file.write_text("[\n{\"data\": {}},\n{oops}\n]", encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"ls\.json:3: not valid JSON"):
        import_labels([file], tmp_path / "out.jsonl", known, {}, LABELS)


def test_paragraph_files_are_read_as_paragraphs_and_articles_are_split(tmp_path, furniture):
    paragraphs = tmp_path / "suggested.jsonl"
    paragraphs.write_text(json.dumps({"paragraph_id": "p1", "article_id": "a", "text": "Một. Hai."}) + "\n")
    articles = tmp_path / "articles.jsonl"
    articles.write_text(json.dumps({"id": "b", "text": "Công an xã bắt 2 đối tượng.\n\nHội nghị tổng kết."}) + "\n")
    rows = read_paragraphs([paragraphs, articles], furniture)
    assert [(r["article_id"], r["paragraph_id"]) for r in rows] == [
        ("a", "p1"), ("b", paragraph_id("Công an xã bắt 2 đối tượng.")), ("b", paragraph_id("Hội nghị tổng kết."))]


def test_cli_exports_unlabelled_paragraphs_and_imports_them_back(tmp_path, monkeypatch, seed_paragraphs):
    from typer.testing import CliRunner

    from pipeline import config
    from pipeline.cli import app
    from pipeline.files import write_jsonl

    monkeypatch.setattr(config, "ROOT", tmp_path)
    write_jsonl(tmp_path / "data" / "interim" / "paragraphs.jsonl", seed_paragraphs)
    labelled = {p["paragraph_id"] for p in seed_paragraphs[:30]}
    write_jsonl(tmp_path / "data" / "annotations" / "seed.jsonl",
                [{"paragraph_id": pid, "labels": [], "source": "seed"} for pid in labelled])
    runner = CliRunner()
    result = runner.invoke(app, ["annotate", "export", "-o", str(tmp_path / "round1"), "--model", "no-model"])
    assert result.exit_code == 0, result.output
    exported = read_csv(tmp_path / "round1.csv")
    assert len(exported) == len(seed_paragraphs) - 30 and not {r["paragraph_id"] for r in exported} & labelled
    for record in exported:
        record["labels"] = record["suggested"]
    write_csv(tmp_path / "round1.csv", exported)
    result = runner.invoke(app, ["annotate", "import", str(tmp_path / "round1.csv")])
    assert result.exit_code == 0, result.output
    gold = read_annotations([tmp_path / "data" / "annotations" / "round1.jsonl"], LABELS)
    assert len(gold) == len(exported)
    result = runner.invoke(app, ["annotate", "import", str(tmp_path / "round1.csv"), "--name", "again"])
    assert result.exit_code == 0 and "'already_annotated': " + str(len(exported)) in result.output
    exported[0]["labels"] = "nonsense"
    write_csv(tmp_path / "bad.csv", exported)
    result = runner.invoke(app, ["annotate", "import", str(tmp_path / "bad.csv")])
    assert result.exit_code == 1 and "bad.csv:2: unknown label(s) ['nonsense']" in result.output
    assert not (tmp_path / "data" / "annotations" / "bad.jsonl").exists()
