"""Batch tagging never loses a paragraph: accounting with bad files, atomic output on a crash,
resume equal to a clean run, CSV output and label options. Real files, a real pyfunc model."""
from __future__ import annotations

import csv

import mlflow.pyfunc
import numpy as np
import pytest

from pipeline.config import LABELS
from pipeline.files import read_jsonl
from pipeline.data.ingest import ingest
from pipeline.tagging.tag import TagOptions, choose_labels, parts_dir, tag


@pytest.fixture(scope="module")
def model(tfidf_pyfunc):
    return mlflow.pyfunc.load_model(str(tfidf_pyfunc))


@pytest.fixture(scope="module")
def paths(tag_inputs):
    return [tag_inputs, tag_inputs.parent / "gone.txt"]


@pytest.fixture(scope="module")
def expected(tag_inputs, furniture):
    return ingest([(tag_inputs, "input")], furniture)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, paths, model, furniture):
    out = tmp_path_factory.mktemp("clean") / "out.jsonl"
    report = tag(paths, out, model, LABELS, furniture, TagOptions(batch_size=8, chunk_size=40))
    return out, report


class Failing:
    """The real model, failing the way real runs do: on one paragraph, or interrupted."""

    def __init__(self, model, poison: str | None = None, interrupt_after: int | None = None):
        self.model, self.poison, self.interrupt_after, self.calls = model, poison, interrupt_after, 0

    def predict(self, frame):
        self.calls += 1
        if self.interrupt_after is not None and self.calls > self.interrupt_after:
            raise KeyboardInterrupt
        if self.poison and self.poison in frame["text"].tolist():
            raise RuntimeError("out of memory")
        return self.model.predict(frame)


def output(out):
    return [out.read_text(encoding="utf-8"), *(out.with_suffix(s).read_text(encoding="utf-8")
                                                for s in (".errors.jsonl", ".dropped.jsonl"))]


def test_every_paragraph_is_tagged_or_reported(clean_run, expected, paths):
    out, report = clean_run
    rows, errors = read_jsonl(out), read_jsonl(out.with_suffix(".errors.jsonl"))
    assert len(rows) == report.paragraphs == len(expected.paragraphs) > 100
    assert [(r["file"], r["paragraph_id"]) for r in rows] == [(p["file"], p["paragraph_id"]) for p in expected.paragraphs]
    assert {e["file"] for e in errors} == {f["file"] for f in expected.failures} | {str(paths[1])}
    assert len(errors) == report.errors == 4 and "no such file" in errors[0]["reason"]
    assert any("n_broken.jsonl:4" in e["reason"] for e in errors)
    assert report.dropped == len(read_jsonl(out.with_suffix(".dropped.jsonl"))) == len(expected.dropped)
    assert sum(report.theme_counts.values()) == sum(len(r["labels"]) for r in rows)
    assert not parts_dir(out).exists()


def test_model_failure_reports_each_paragraph_of_the_batch(tmp_path, tag_inputs, model, furniture, expected):
    poison = expected.paragraphs[50]["text"]
    out = tmp_path / "out.jsonl"
    report = tag([tag_inputs], out, Failing(model, poison=poison), LABELS, furniture,
                 TagOptions(batch_size=8, chunk_size=40))
    failed = [e for e in read_jsonl(out.with_suffix(".errors.jsonl")) if e["paragraph"] is not None]
    assert 1 <= len(failed) <= 8 and poison in {e["text"] for e in failed}
    assert all(e["file"] and "out of memory" in e["reason"] for e in failed)
    assert report.paragraphs + len(failed) == len(expected.paragraphs)
    assert report.errors == len(failed) + 3


def test_interrupted_run_leaves_no_output_and_resume_equals_a_clean_run(tmp_path, paths, model, furniture, clean_run):
    out = tmp_path / "out.jsonl"
    options = TagOptions(batch_size=8, chunk_size=40)
    with pytest.raises(KeyboardInterrupt):
        tag(paths, out, Failing(model, interrupt_after=12), LABELS, furniture, options)
    assert sorted(p.name for p in tmp_path.iterdir()) == [parts_dir(out).name]
    finished = sorted(parts_dir(out).glob("*.done.jsonl"))
    assert 1 <= len(finished) and not list(parts_dir(out).glob("*.part"))
    resumed = Failing(model)
    report = tag(paths, out, resumed, LABELS, furniture, TagOptions(batch_size=8, chunk_size=40, resume=True))
    assert report.resumed_articles > 0 and resumed.calls < 12 + 5
    assert output(out) == output(clean_run[0])
    assert report.paragraphs == clean_run[1].paragraphs and report.errors == clean_run[1].errors


def test_resume_refuses_different_label_options(tmp_path, tag_inputs, model, furniture):
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        tag([tag_inputs], out, Failing(model, interrupt_after=1), LABELS, furniture, TagOptions(batch_size=8))
    with pytest.raises(ValueError, match="--resume"):
        tag([tag_inputs], out, model, LABELS, furniture, TagOptions(batch_size=8, top_k=1, resume=True))


def test_csv_output_with_top_k_and_min_score(tmp_path, tag_inputs, model, furniture, clean_run):
    out = tmp_path / "out.csv"
    tag([tag_inputs], out, model, LABELS, furniture, TagOptions(fmt="csv", min_score=0.0, top_k=2))
    with open(out, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    clean = read_jsonl(clean_run[0])
    assert len(rows) == len(clean) and set(LABELS) <= set(rows[0])
    assert [r["paragraph_id"] for r in rows] == [r["paragraph_id"] for r in clean]
    for row, reference in zip(rows, clean):
        ranked = sorted(LABELS, key=lambda l: -reference["scores"][l])
        assert row["labels"].split(";")[0] in ranked[:2] and len(row["labels"].split(";")) == 2
        assert float(row[LABELS[0]]) == reference["scores"][LABELS[0]]


def test_choose_labels_ranks_filters_and_cuts():
    scores = np.array([[0.9, 0.2, 0.6, 0.4]])
    decided = [["propaganda", "grassroots_models"]]
    assert choose_labels(scores, LABELS, decided, None, None) == [["propaganda", "grassroots_models"]]
    assert choose_labels(scores, LABELS, decided, 0.3, None) == [["propaganda", "grassroots_models", "recognition"]]
    assert choose_labels(scores, LABELS, decided, 0.3, 1) == [["propaganda"]]
    assert choose_labels(scores, LABELS, decided, 0.95, None) == [[]]


def test_cli_writes_csv_counts_failures_and_exits_1_unless_keep_going(tmp_path, tag_inputs, tfidf_pyfunc, expected):
    from typer.testing import CliRunner

    from pipeline.cli import app

    out = tmp_path / "out.csv"
    args = ["tag", str(tag_inputs), "-o", str(out), "--model", str(tfidf_pyfunc), "--format", "csv", "--top-k", "1"]
    failed = CliRunner().invoke(app, args)
    assert failed.exit_code == 1 and "3 error(s)" in failed.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1 + len(expected.paragraphs)
    assert CliRunner().invoke(app, [*args, "--keep-going", "--resume"]).exit_code == 0


def test_tag_output_carries_article_metadata_and_line_spans(tmp_path, seed_paragraphs, seed_gold, furniture):
    from pipeline.config import load_params
    from pipeline.tagging.tagger import Tagger
    from pipeline.models.tfidf import TfidfModel
    from pipeline.text import segment
    from tests.conftest import ROOT

    texts = [segment(p["text"]) for p in seed_paragraphs]
    y = np.array([[label in seed_gold[p["paragraph_id"]].labels for label in LABELS] for p in seed_paragraphs])
    model = Tagger(TfidfModel.fit(texts, y, load_params()["tfidf"], 0, LABELS), LABELS)
    fixtures = ROOT / "tests" / "fixtures" / "ingest"
    out = tmp_path / "out.jsonl"
    report = tag([fixtures / "page.html", fixtures / "collection.jsonl"], out, model, LABELS, furniture,
                 TagOptions(batch_size=4))
    rows = read_jsonl(out)
    page = [r for r in rows if r["file"].endswith("page.html")]
    assert len(page) == 5 and all(r["outlet"] == "Báo An ninh Thủ đô" and r["url"].startswith("https://")
                                  and r["published"] == "2024-03-14T08:30:00+07:00" for r in page)
    first = next(r for r in rows if r["article_id"] == "c-1")
    assert {first[k] for k in ("title", "outlet", "published")} == {
        "Công an xã Hòa Bình bắt 3 đối tượng trộm cắp", "Báo Hòa Bình", "2024-03-14"}
    assert all(r["line"] <= r["line_end"] and set(r["scores"]) == set(LABELS) for r in rows)
    errors = read_jsonl(out.with_suffix(".errors.jsonl"))
    assert report.errors == len(errors) == 2 and all("collection.jsonl:" in e["reason"] for e in errors)
