"""The DVC stages: each reads configs/params.yaml, does one step, writes its outputs.
Side effects (files, MLflow) live here; the modules they call are pure where they can be."""
from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import LABELS, load_params, load_yaml, path
from pipeline.files import read_jsonl, write_json, write_jsonl

log = logging.getLogger(__name__)
RUN_FILE = "mlflow_run.json"
EXAMPLE = ["Công an huyện đã khám phá 12 vụ án, bắt 20 đối tượng.", ""]


def mlflow_run(params: dict[str, Any], run_id: str | None = None):
    import mlflow

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{path('mlflow.db')}"))
    mlflow.set_experiment(params["register"]["experiment"])
    return mlflow.start_run(run_id=run_id)


def ingest() -> dict[str, Any]:
    from pipeline.ingest import Furniture, ingest as run_ingest

    params = load_params()["ingest"]
    furniture = Furniture.from_config(load_yaml(Path(params["furniture"]).name))
    result = run_ingest([(path(i["path"]), i["source"]) for i in params["inputs"]], furniture)
    out = path(params["out_dir"])
    write_jsonl(out / "paragraphs.jsonl", result.paragraphs)
    write_jsonl(out / "dropped.jsonl", result.dropped)
    write_jsonl(out / "failures.jsonl", result.failures)
    for failure in result.failures:
        log.error("skipped %s", failure["reason"])
    summary = result.summary()
    write_json(out / "summary.json", summary)
    return summary


def corpus() -> dict[str, Any]:
    from pipeline.annotations import annotation_files, read_annotations
    from pipeline.corpus import build

    params = load_params()
    paragraphs = read_jsonl(path(params["ingest"]["out_dir"]) / "paragraphs.jsonl")
    gold = read_annotations(annotation_files(path(params["corpus"]["annotations_dir"])), LABELS)
    data, stats = build(paragraphs, gold, LABELS)
    out = path(params["corpus"]["out_dir"])
    data.save_to_disk(str(out / "dataset"))
    write_json(out / "stats.json", stats)
    return stats


def check() -> dict[str, Any]:
    from pipeline.consistency import check as run_check, error_messages

    params = load_params()
    data, _ = _labelled(params)
    report = run_check(data.to_list(), LABELS, params["check"])
    write_json(path(params["check"]["out"]), report)
    for name, short in report["warnings"]["below_targets"].items():
        log.warning("corpus below target: %s has %d, want %d", name, short["have"], short["want"])
    if report["warnings"]["near_duplicates"]:
        log.warning("%d similar paragraph pair(s) across articles, see %s",
                    len(report["warnings"]["near_duplicates"]), params["check"]["out"])
    problems = error_messages(report)
    if problems:
        raise SystemExit("corpus check failed (fix data/annotations or the texts):\n  " + "\n  ".join(problems))
    return report["counts"]


def _labelled(params: dict[str, Any]):
    from datasets import load_from_disk

    splits = load_from_disk(str(path(params["corpus"]["out_dir"]) / "dataset"))
    if "labelled" not in splits:
        raise SystemExit("corpus has no labelled paragraphs: add annotations to data/annotations/")
    data = splits["labelled"]
    return data, np.array(data["targets"], dtype=np.float32)


def _flat(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        elif not isinstance(value, list):
            flat[f"{prefix}{key}"] = value
    return flat


def train() -> dict[str, Any]:
    from pipeline.tagger import Tagger
    from pipeline.train import fit, model_info, resolve_kind

    params = load_params()
    data, targets = _labelled(params)
    kind, reason = resolve_kind(params, LABELS)
    started = time.time()
    model = fit(kind, data["segmented"], targets, params, LABELS)
    info = model_info(kind, reason, params)
    out = path("models/trained")
    Tagger(model, LABELS, info=info).save(out)
    summary = {**info, "train_paragraphs": len(data), "train_seconds": round(time.time() - started, 1)}
    with mlflow_run(params) as run:
        import mlflow

        mlflow.log_params(_flat(params))
        mlflow.set_tags({"model_kind": kind, "fallback_reason": reason or "none"})
        mlflow.log_metrics({"train_paragraphs": len(data), "train_seconds": summary["train_seconds"]})
        write_json(out / RUN_FILE, {"run_id": run.info.run_id})
    write_json(path(params["evaluate"]["out_dir"]) / "train.json", summary)
    return summary


def evaluate() -> dict[str, Any]:
    from pipeline import evaluate as ev
    from pipeline.plots import write_pr_plots
    from pipeline.rules import RulesModel
    from pipeline.train import fit, resolve_kind

    params = load_params()
    data, targets = _labelled(params)
    y = targets.astype(bool)
    segmented = np.array(data["segmented"], dtype=object)
    sources = np.array(data["source"])
    folds = ev.assign_folds(data["article_id"], data["source"], params["evaluate"]["folds"])
    kind, reason = resolve_kind(params, LABELS)

    def fit_predict(train_mask: np.ndarray):
        model = fit(kind, segmented[train_mask].tolist(), targets[train_mask], params, LABELS)
        return lambda test_mask: model.predict_scores(segmented[test_mask].tolist())

    scores = ev.cross_val_scores(folds, fit_predict, len(LABELS))
    grid = params["evaluate"]["threshold_grid"]
    decided = ev.cross_fitted_predictions(y, scores, folds, grid)
    rules = RulesModel(load_yaml("rules.yaml"), LABELS).predict_scores(segmented.tolist()) >= 0.5
    metrics: dict[str, Any] = {"model_kind": kind, "fallback_reason": reason or "", "folds": int(len(np.unique(folds)))}
    for name, pred in (("model", decided), ("rules", rules)):
        metrics[name] = {s: ev.report(y[sources == s], pred[sources == s], LABELS) for s in sorted(set(sources))}
        metrics[name]["all"] = ev.report(y, pred, LABELS)
    thresholds = dict(zip(LABELS, map(float, ev.tune_thresholds(y, scores, grid))))
    out = path(params["evaluate"]["out_dir"])
    write_json(out / "metrics.json", metrics)
    write_json(out / "thresholds.json", thresholds)
    images = write_pr_plots(ev.pr_curves(y, scores, LABELS), out)
    run_id = json.loads((path("models/trained") / RUN_FILE).read_text())["run_id"]
    with mlflow_run(params, run_id):
        import mlflow

        for source, rep in metrics["model"].items():
            if rep.get("n"):
                mlflow.log_metrics({f"{source}_macro_f1": rep["macro_f1"], f"{source}_micro_f1": rep["micro_f1"]})
                mlflow.log_metrics({f"{source}_f1_{k}": v["f1"] for k, v in rep["per_theme"].items()})
        mlflow.log_metrics({f"rules_{s}_macro_f1": r["macro_f1"] for s, r in metrics["rules"].items() if r.get("n")})
        mlflow.log_artifact(str(out / "metrics.json"))
        mlflow.log_artifact(str(out / "thresholds.json"))
        for image in images:
            mlflow.log_artifact(str(image), "plots")
    return metrics


def register() -> str:
    import pandas as pd

    from pipeline.register import log_and_register, save_local
    from pipeline.tagger import Tagger

    params = load_params()
    tagger = Tagger.load(path("models/trained"))
    tagger.thresholds = json.loads((path(params["evaluate"]["out_dir"]) / "thresholds.json").read_text())
    example = pd.DataFrame({"text": EXAMPLE})
    run_id = json.loads((path("models/trained") / RUN_FILE).read_text())["run_id"]
    with tempfile.TemporaryDirectory() as scratch:
        final = tagger.save(Path(scratch) / "tagger")
        save_local(final, path(params["register"]["out_dir"]), tagger.model.kind, example)
        with mlflow_run(params, run_id):
            uri = log_and_register(final, tagger.model.kind, example, params["register"]["model_name"])
    write_json(path(params["evaluate"]["out_dir"]) / "registered.json", {"model_uri": uri, "run_id": run_id})
    log.info("registered %s (local copy: %s)", uri, params["register"]["out_dir"])
    return uri
