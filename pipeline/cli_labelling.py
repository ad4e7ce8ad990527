"""`antq annotate ...` and `antq suggest`: labelling rounds — what to label next, export to a
spreadsheet or Label Studio, labels (and labelled pages) back into data/annotations/."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from pipeline.config import LABELS, load_params, load_yaml, path

annotate_app = typer.Typer(help="Labelling rounds: export paragraphs to label, import the labels.", no_args_is_help=True)
console = Console(stderr=True)


def pool(paths: Optional[list[Path]]) -> list[dict]:
    from pipeline.data.annotate import unlabelled_pool
    from pipeline.data.ingest import Furniture

    try:
        rows, total = unlabelled_pool(paths or [], load_params(), LABELS, Furniture.from_config(load_yaml("furniture.yaml")))
    except FileNotFoundError as err:
        raise typer.BadParameter(str(err)) from err
    console.print(f"{len(rows)} unlabelled paragraph(s) of {total}")
    return rows


PoolPaths = Annotated[Optional[list[Path]], typer.Argument(
    help="articles, folders, collections or paragraph JSONL/CSV (default: data/interim/paragraphs.jsonl)")]


@annotate_app.command("export")
def annotate_export(
    paths: PoolPaths = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="writes OUT.csv, OUT.labelstudio.json/.xml")] = Path("labelling/batch"),
    model: Annotated[str, typer.Option(help="model for pre-annotations; keyword rules when it does not exist")] = "models/tagger",
) -> None:
    """Unlabelled paragraphs as a CSV and as Label Studio tasks with pre-annotations."""
    from pipeline.data.annotate import export, predict
    from pipeline.tagging.predictor import load_predictor

    predictor, name = load_predictor(model, LABELS)
    rows = predict(pool(paths), predictor, LABELS)
    for file in export(rows, out, LABELS, name):
        console.print(f"wrote [bold]{file}[/]")


@annotate_app.command("import")
def annotate_import(
    files: Annotated[list[Path], typer.Argument(help="labelled CSV files and Label Studio JSON exports")],
    name: Annotated[Optional[str], typer.Option(help="writes data/annotations/NAME.jsonl (default: first file's name)")] = None,
    paragraphs: Annotated[Optional[list[Path]], typer.Option(help="known paragraphs (default: the ingested ones)")] = None,
) -> None:
    """Labels back into data/annotations/, all validated before anything is written."""
    from pipeline.data.annotate import existing_annotations, import_labels
    from pipeline.data.annotations import AnnotationError
    from pipeline.files import read_jsonl

    params = load_params()
    folder = path(params["corpus"]["annotations_dir"])
    sources = paragraphs or [path(params["ingest"]["out_dir"]) / "paragraphs.jsonl"]
    known = {r["paragraph_id"]: r for file in sources for r in read_jsonl(file)}
    target = folder / f"{name or files[0].name.split('.')[0]}.jsonl"
    try:
        counts = import_labels(files, target, known, existing_annotations(folder, LABELS), LABELS)
    except AnnotationError as err:
        console.print(str(err), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"{target}: {counts}")


@annotate_app.command("pages")
def annotate_pages(
    file: Annotated[Path, typer.Argument(help="labelled pages: one page a line with id, url, outlet, paragraphs[{text, labels}]")],
    name: Annotated[str, typer.Option(help="source name of the training side")] = "real_register",
    heldout_name: Annotated[str, typer.Option(help="source name of the held-out block")] = "real_heldout",
    heldout_outlets: Annotated[Optional[Path], typer.Option(help="held-out outlet domains, one a line "
                                                             "(default: heldout_outlets.txt beside FILE)")] = None,
) -> None:
    """Labelled pages into ingest collections (training side, held-out outlets) and an annotation file."""
    from pipeline.data import pages as labelled_pages
    from pipeline.files import read_jsonl, write_jsonl

    rows = read_jsonl(file)
    try:
        labelled_pages.validate(rows, LABELS, str(file))
    except labelled_pages.PageError as err:
        console.print(str(err), style="red", markup=False)
        raise typer.Exit(1)
    listed = heldout_outlets or file.parent / "heldout_outlets.txt"
    held_domains = labelled_pages.heldout_outlets(listed.read_text(encoding="utf-8").splitlines()) if listed.exists() else set()
    train, held = labelled_pages.split(rows, held_domains)
    write_jsonl(file.parent / f"{name}.jsonl", labelled_pages.collection(train))
    write_jsonl(file.parent / f"{heldout_name}.jsonl", labelled_pages.collection(held))
    from pipeline.data.ingest import Furniture

    furniture = Furniture.from_config(load_yaml("furniture.yaml"))
    clean = lambda text: furniture.clean(text)[0]  # noqa: E731
    annotations = labelled_pages.annotations(train, name, clean) + labelled_pages.annotations(held, heldout_name, clean)
    target = path(load_params()["corpus"]["annotations_dir"]) / f"{name}.jsonl"
    write_jsonl(target, annotations)
    console.print(f"{len(train)} page(s) → {file.parent / (name + '.jsonl')}, {len(held)} held out → "
                  f"{file.parent / (heldout_name + '.jsonl')}, {len(annotations)} labels → {target}")


def suggest(
    paths: PoolPaths = None,
    n: Annotated[int, typer.Option("--n", min=1, help="how many paragraphs to propose")] = 50,
    out: Annotated[Path, typer.Option("--out", "-o", help=".jsonl, or .csv ready to label")] = Path("labelling/suggested.jsonl"),
    model: Annotated[str, typer.Option(help="MLflow model URI or folder")] = "models/tagger",
    per_article: Annotated[int, typer.Option(min=1, help="at most this many from one article")] = 3,
    diversity: Annotated[float, typer.Option(min=0.0, max=1.0, help="0: uncertainty only; 1: variety only")] = 0.3,
) -> None:
    """The next paragraphs to label: where the model is least sure, spread over articles."""
    from pipeline.data.annotate import csv_text, predict
    from pipeline.files import atomic_write, write_jsonl
    from pipeline.tagging.predictor import load_predictor, thresholds_of
    from pipeline.data.suggest import suggest as rank

    try:
        predictor, _ = load_predictor(model, LABELS, rules_fallback=False)
    except FileNotFoundError as err:
        raise typer.BadParameter(str(err)) from err
    rows = predict(pool(paths), predictor, LABELS)
    chosen = rank(rows, thresholds_of(predictor, LABELS), LABELS, n, per_article, diversity)
    if out.suffix.lower() == ".csv":
        atomic_write(out, [csv_text(chosen)])
    else:
        write_jsonl(out, chosen)
    console.print(f"{len(chosen)} paragraph(s) from {len({r.get('article_id') for r in chosen})} article(s) → [bold]{out}[/]")
