"""`antq`: the command line over the pipeline (typer + rich)."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from pipeline.config import LABELS, load_params, load_yaml, path, set_offline_env

app = typer.Typer(help="Tag Vietnamese public-security news paragraphs by theme.", no_args_is_help=True)
backbone_app = typer.Typer(help="The PhoBERT backbone.", no_args_is_help=True)
app.add_typer(backbone_app, name="backbone")
console = Console(stderr=True)


class Stage(str, Enum):
    ingest = "ingest"
    corpus = "corpus"
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
def stage(name: Stage) -> None:
    """Run one pipeline stage (what `dvc repro` calls)."""
    from pipeline import stages

    result = getattr(stages, name.value)()
    console.print_json(json.dumps(result, ensure_ascii=False, default=str))


@backbone_app.command("build")
def backbone_build(out: Annotated[Optional[Path], typer.Option(help="output folder")] = None) -> None:
    """Build the small PhoBERT-architecture backbone from the corpus (run `dvc repro corpus` first)."""
    from datasets import load_from_disk

    from pipeline.backbone import build_small_backbone

    params = load_params()
    dataset_dir = path(params["corpus"]["out_dir"]) / "dataset"
    if not dataset_dir.exists():
        raise typer.BadParameter(f"{dataset_dir} is missing: run `dvc repro corpus` first")
    data = load_from_disk(str(dataset_dir))
    texts = [t for split in data.values() for t in split["segmented"]]
    target = build_small_backbone(texts, out or path(params["backbone"]["out_dir"]), params["backbone"], params["seed"])
    console.print(f"backbone written to [bold]{target}[/]; set model.backbone to it in configs/params.yaml")


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
    int8: Annotated[bool, typer.Option(help="quantise PhoBERT's linear layers to int8 (faster)")] = False,
    threads: Annotated[Optional[int], typer.Option(min=1, help="torch threads (default: all cores)")] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 256,
    chunk_size: Annotated[int, typer.Option(min=1, help="paragraphs per checkpointed part")] = 2048,
    master: Annotated[Optional[str], typer.Option(help="spark master URL (default: spark-submit's or local[*])")] = None,
    keep_going: Annotated[bool, typer.Option(help="exit 0 even when some input failed")] = False,
) -> None:
    """Tag every paragraph of the inputs with its themes."""
    from pipeline.ingest import Furniture

    furniture = Furniture.from_config(load_yaml("furniture.yaml"))
    if engine is Engine.spark:
        from pipeline.spark import tag_spark

        counts = tag_spark([str(p) for p in paths], str(out), model, LABELS, furniture, master)
        console.print_json(json.dumps(counts))
        if counts["errors"] and not keep_going:
            console.print(f"[red]{counts['errors']} bad record(s)[/], see {out}.errors")
            raise typer.Exit(1)
        return
    from pipeline.tag import TagOptions, load_model
    from pipeline.tag import tag as run_tag

    options = TagOptions(batch_size, chunk_size, min_score, top_k, fmt.value, resume)
    report = run_tag(paths, out, load_model(model, int8, threads), LABELS, furniture, options)
    print_summary(report, out)
    if report.errors:
        console.print(f"[red]{report.errors} error(s)[/], see {out.with_suffix('.errors.jsonl')}")
        if not keep_going:
            raise typer.Exit(1)


@app.command()
def run(repro: Annotated[bool, typer.Option(help="run `dvc repro` first")] = True) -> None:
    """The main job: `dvc repro`, then tag the raw articles and print the theme summary."""
    if repro:
        subprocess.run([sys.executable, "-m", "dvc", "repro"], check=True, cwd=path("."))
    metrics = json.loads((path(load_params()["evaluate"]["out_dir"]) / "metrics.json").read_text())
    console.print(f"model: [bold]{metrics['model_kind']}[/] {metrics['fallback_reason'] and '(fallback: ' + metrics['fallback_reason'][:120] + '...)'}")
    for name in ("model", "rules"):
        scores = ", ".join(f"{s}={r['macro_f1']}" for s, r in metrics[name].items() if r.get("n"))
        console.print(f"{name} macro-F1 (grouped CV): {scores}")
    tag([path("data/raw")], path("data/tagged/raw.jsonl"))


if __name__ == "__main__":
    app()
