"""`antq evaluate --gold FILE`: scores on the user's own labels. A tagger earns trust on their pages only when
scored on their labels, against the keyword rules, with intervals that say how much a few hundred paragraphs
can tell; the learning curve says whether labelling more would still pay."""
from __future__ import annotations

import csv
import html
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
from rich.table import Table

from pipeline.evaluation import metrics as ev
from pipeline.evaluation.compare import gain_cell
from pipeline.text import normalize_text

NONE = "none"  # the CSV word for "no theme", as in `antq annotate export`
EXAMPLE = '{"text": "...", "labels": ["propaganda"], "group": "article-1"}'
MAX_SHOWN = 20
CURVE_DEFAULTS: dict[str, Any] = {"kind": "tfidf", "test_share": 0.3, "repeats": 5, "start": 5, "sizes": None}


class GoldError(Exception):
    """The gold file (or a model) is unusable; the message names file:line and what to do."""


@dataclass(frozen=True)
class Gold:
    """Validated, normalised paragraphs with their gold themes (y: rows x labels, bool)."""

    file: str
    texts: list[str]
    y: np.ndarray
    ids: list[str | None]
    groups: list[str | None]
    lines: list[int]

    def bootstrap_groups(self) -> np.ndarray:
        """Resampling units: groups (one article's paragraphs are not independent), else paragraphs."""
        return np.array([g if g is not None else f"\0row{i}" for i, g in enumerate(self.groups)])

    def curve_groups(self) -> np.ndarray:
        """Units of the learning curve: group, else id, else the paragraph alone."""
        return np.array([g if g is not None else f"\0id{d}" if d is not None else f"\0row{i}"
                         for i, (g, d) in enumerate(zip(self.groups, self.ids))])


def _jsonl_records(text: str) -> Iterator[tuple[int, Any, str | None]]:
    for number, line in enumerate(text.splitlines(), 1):
        try:
            if line.strip():
                yield number, json.loads(line), None
        except json.JSONDecodeError as err:
            yield number, None, f"not valid JSON ({err.msg}, column {err.colno}); write one object a line: {EXAMPLE}"


def _csv_records(text: str, file: Path) -> Iterator[tuple[int, Any, str | None]]:
    """Rows as dicts with `labels` split on `;`; the line is where a (maybe multi-line) row starts."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if (missing := {"text", "labels"} - set(reader.fieldnames or [])) and text.strip():
        raise GoldError(f"{file}:1: the header lacks column(s) {sorted(missing)}; the first line must be "
                        "`text,labels` (optional `id`, `group`), labels `;`-separated, empty for no theme")
    end = 1
    for row in reader:
        start, end = end + 1, reader.line_num
        if None in row or None in row.values():
            yield start, None, (f"{'more' if None in row else 'fewer'} fields than the header ({','.join(reader.fieldnames or [])})"
                                "; put text containing commas or line breaks in double quotes")
        else:
            found = [x.strip() for x in (row["labels"] or "").split(";") if x.strip()]
            yield start, {**row, "labels": [] if [x.lower() for x in found] == [NONE] else found}, None


def _check(record: Any, labels: list[str]) -> tuple[tuple[str, list[str], str | None, str | None] | None, str | None]:
    """(text, labels, id, group) of a good record, else None and what is wrong with it."""
    if not isinstance(record, dict):
        return None, f"expected a JSON object like {EXAMPLE}, got {type(record).__name__}"
    text = record.get("text")
    if not isinstance(text, str) or not normalize_text(text):
        return None, "missing `text`: give the paragraph as a non-empty string"
    if "labels" not in record:
        return None, 'missing `labels`: list the paragraph\'s themes, [] (CSV: empty) for none'
    found = record["labels"]
    if not isinstance(found, list) or not all(isinstance(x, str) for x in found):
        return None, (f'`labels` must be a list of theme names like ["{labels[0]}"], [] for none; '
                      f"got {json.dumps(found, ensure_ascii=False)}")
    if unknown := sorted(set(found) - set(labels)):
        return None, f"unknown label(s) {unknown}; valid labels: {', '.join(labels)} ([] for none)"
    keys = []
    for key, alias in (("id", "paragraph_id"), ("group", "article_id")):  # aliases: `annotate export` CSVs
        value = record.get(key, record.get(alias))
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
            return None, f"`{key}` must be a string or a number, got {json.dumps(value, ensure_ascii=False)}"
        keys.append(str(value).strip() or None if value is not None else None)
    return (normalize_text(text), found, *keys), None


def read_gold(file: Path, labels: list[str]) -> Gold:
    """Every record validated before anything is scored, all problems reported at once:
    a half-scored file would give a number that silently means something else."""
    file = Path(file)
    if not file.is_file():
        raise GoldError(f"{file}: no such file; pass --gold a .jsonl or .csv file")
    if file.suffix.lower() not in {".jsonl", ".json", ".ndjson", ".csv"}:
        raise GoldError(f"{file}: unknown format {file.suffix!r}; use .jsonl (one JSON object a line) or .csv")
    try:
        text = file.read_text(encoding="utf-8-sig")  # -sig: spreadsheets save a byte-order mark
    except UnicodeDecodeError as err:
        raise GoldError(f"{file}: not UTF-8 text (byte {err.start}); save the file as UTF-8") from err
    is_csv, rows, problems = file.suffix.lower() == ".csv", [], []
    for number, record, problem in _csv_records(text, file) if is_csv else _jsonl_records(text):
        good, problem = (None, problem) if problem else _check(record, labels)
        problems += [f"{file}:{number}: {problem}"] if good is None else []
        rows += [(number, *good)] if good is not None else []
    if problems:
        more = [f"... and {len(problems) - MAX_SHOWN} more"] if len(problems) > MAX_SHOWN else []
        raise GoldError("\n".join([f"{file}: {len(problems)} bad record(s), nothing was scored; fix them and run again:",
                                   *problems[:MAX_SHOWN], *more]))
    if not rows:
        raise GoldError(f"{file}:1: empty file, no paragraphs to score; " + ("write a `text,labels` header, then one "
                        "row a paragraph" if is_csv else f"write one JSON object a line: {EXAMPLE}"))
    y = np.array([[label in found for label in labels] for _, _, found, _, _ in rows], dtype=bool)
    return Gold(str(file), [r[1] for r in rows], y, [r[3] for r in rows], [r[4] for r in rows], [r[0] for r in rows])


def load_models(specs: list[str], labels: list[str], required: bool = True) -> dict[str, Any]:
    """The keyword rules first (the baseline every model must beat), then each model: a Tagger
    folder (tagger.json), an MLflow pyfunc folder or URI. Missing ones are skipped unless `required`."""
    from pipeline.tagging.predictor import load_predictor, model_exists
    from pipeline.tagging.tagger import rules_tagger

    models: dict[str, Any] = {"rules": rules_tagger(labels)}
    for spec in specs:
        if not required and not model_exists(spec):
            continue
        name = spec if spec not in models else f"{spec} #{len(models)}"
        try:
            models[name] = load_predictor(spec, labels, rules_fallback=False)[0]
        except Exception as err:  # MLflow raises its own types for a folder that is no model
            raise GoldError(str(err) if isinstance(err, FileNotFoundError) else f"{spec}: cannot load it as a tagger or "
                            f"MLflow model folder ({err}); pass --model an MLflow model URI or folder") from err
    return models


def decisions(predictor: Any, texts: list[str], labels: list[str], name: str = "model") -> tuple[np.ndarray, np.ndarray]:
    """(decided bool, scores) from the model's own `labels` output, i.e. its tuned thresholds."""
    frame = predictor.predict(pd.DataFrame({"text": texts})).reset_index(drop=True)
    if missing := [label for label in labels if label not in frame.columns]:
        raise GoldError(f"{name} gives no score for {missing}: it was trained on other themes than {labels}")
    decided = np.array([[label in set(found if found is not None else []) for label in labels]
                        for found in frame["labels"]], dtype=bool).reshape(len(texts), len(labels))
    return decided, frame[labels].to_numpy(dtype=float)


def score(gold: Gold, decided: dict[str, tuple[np.ndarray, np.ndarray]], labels: list[str],
          n_boot: int, seed: int) -> dict[str, Any]:
    """Per model: per-theme P/R/F1, macro-F1 with a grouped 95% interval and, for all but the
    rules, the paired gain over the rules on the same bootstrap samples."""
    groups, models = gold.bootstrap_groups(), {}
    for name, (pred, _) in decided.items():
        summary, detail = ev.summarize(gold.y, [pred], groups, labels, n_boot, seed), ev.report(gold.y, pred, labels)
        models[name] = {"n": summary["n"], "groups": summary["articles"], "macro_f1": summary["macro_f1"], "macro_f1_ci":
                        summary["macro_f1_ci"], "micro_f1": detail["micro_f1"], "misclassified": int((pred != gold.y).any(axis=1).sum()),
                        "per_theme": {label: {**detail["per_theme"][label], "f1_ci": summary["per_theme"][label]["ci"]}
                                      for label in labels}}
        if name != "rules":
            models[name]["vs_rules"] = ev.paired_difference(gold.y, [pred], [decided["rules"][0]], groups, n_boot, seed)
    return {"file": gold.file, "n": len(gold.texts), "groups": len(set(groups.tolist())),
            "grouped_by": "group" if any(g is not None for g in gold.groups) else "paragraph",
            "labels": labels, "gold_support": {l: int(gold.y[:, j].sum()) for j, l in enumerate(labels)},
            "no_theme": int((~gold.y.any(axis=1)).sum()), "bootstrap": n_boot, "seed": seed,
            "decisions": "each model's own labels (its tuned thresholds)", "models": models}


def _names(labels: list[str], row: np.ndarray) -> str:
    return ", ".join(label for label, on in zip(labels, row) if on) or "(none)"


def errors_page(gold: Gold, decided: dict[str, tuple[np.ndarray, np.ndarray]], labels: list[str]) -> str:
    """One self-contained section per paragraph some model gets wrong, every model's decision
    and scores side by side: what one model misses and another catches is the useful part."""
    e, wrong = html.escape, {name: (pred != gold.y).any(axis=1) for name, (pred, _) in decided.items()}
    rows = np.flatnonzero(np.any(list(wrong.values()), axis=0))
    parts = [f"<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>Errors on {e(gold.file)}</title>"
             "<style>body{font-family:sans-serif;margin:2em;max-width:75em}table{border-collapse:collapse}td,th{border:1px "
             "solid #ccc;padding:.25em .5em}.wrong{background:#fdd}.miss{color:#b00}.extra{color:#b60}section{border-top:"
             "2px solid #444;margin-top:1.5em}.meta{color:#666}</style></head><body>"
             f"<h1>Errors on {e(gold.file)}</h1><p>{len(rows)} of {len(gold.texts)} paragraphs misclassified by at "
             "least one model (each model's own thresholds). " + "; ".join(f"{e(n)}: {int(w.sum())}" for n, w in wrong.items())
             + ". Red: missed gold theme; orange: extra theme.</p>"]
    for i in rows:
        parts.append(f"<section><p class='meta'>line {gold.lines[i]} · id {e(str(gold.ids[i] or '—'))} · group "
                     f"{e(str(gold.groups[i] or '—'))}</p><p>{e(gold.texts[i])}</p><p>gold: <b>{e(_names(labels, gold.y[i]))}"
                     "</b></p><table><tr><th>model</th><th>predicted</th>" + "".join(f"<th>{e(l)}</th>" for l in labels) + "</tr>")
        for name, (pred, scores) in decided.items():
            marks = [f"<span class='{'miss' if g else 'extra'}'>{'missed' if g else 'extra'} {e(l)}</span>"
                     for l, g, p in zip(labels, gold.y[i], pred[i]) if g != p]
            parts.append(f"<tr{' class=wrong' if wrong[name][i] else ''}><td>{e(name)}</td><td>{e(_names(labels, pred[i]))} "
                         + " ".join(marks) + "</td>" + "".join(f"<td>{v:.3f}</td>" for v in scores[i]) + "</tr>")
        parts.append("</table></section>")
    return "\n".join(parts + ["</body></html>"])


def summary_table(report: dict[str, Any]) -> Table:
    """model | n | macro-F1 [CI] | vs rules [CI] | F1 per theme."""
    table = Table("model", "n", "macro-F1 [95% CI]", "vs rules [95% CI]", *report["labels"],
                  title=f"{report['file']}: {report['n']} paragraphs, {report['groups']} bootstrap units "
                        f"({report['grouped_by']}); 95% intervals")
    for name, r in report["models"].items():
        table.add_row(name, str(r["n"]), f"{r['macro_f1']:.3f} [{r['macro_f1_ci'][0]:.2f}, {r['macro_f1_ci'][1]:.2f}]",
                      gain_cell(r.get("vs_rules")), *(f"{r['per_theme'][l]['f1']:.2f}" for l in report["labels"]))
    return table


def curve_sizes(pool: int, start: int = 5, sizes: list[int] | None = None) -> list[int]:
    """Training sizes in groups: the given ones (else start, doubling) below the pool, then all of it."""
    wanted = sizes or [start * 2 ** k for k in range(32) if start * 2 ** k < pool]
    return sorted({int(s) for s in wanted if 0 < s < pool} | {pool})


def learning_curve(gold: Gold, labels: list[str], params: dict[str, Any], seed: int,
                   baseline: np.ndarray | None = None) -> dict[str, Any]:
    """Macro-F1 (thresholds 0.5) on held-out groups against the number of labelled groups
    trained on, over repeats that redraw the test share; nested training sets within a repeat,
    so each step adds groups. `baseline` (the rules' decisions) is scored on the same test parts."""
    from pipeline.models.base import Texts
    from pipeline.models.train import fit
    from pipeline.text import segment

    settings = CURVE_DEFAULTS | (params.get("learning_curve") or {})
    groups = gold.curve_groups()
    ids = sorted(set(groups.tolist()))
    n_test = max(1, round(settings["test_share"] * len(ids)))
    if len(ids) - n_test < 2:
        raise GoldError(f"{gold.file}: {len(ids)} group(s) are too few for a learning curve; label at least 4")
    sizes = curve_sizes(len(ids) - n_test, settings["start"], settings["sizes"])
    texts = Texts(list(gold.texts), [segment(t) for t in gold.texts])
    f1s, counts, rules = {n: [] for n in sizes}, {n: [] for n in sizes}, []
    for repeat in range(settings["repeats"]):
        order = [ids[i] for i in np.random.default_rng(seed + repeat).permutation(len(ids))]
        test = np.isin(groups, order[:n_test])
        if baseline is not None:
            rules.append(ev.report(gold.y[test], baseline[test], labels)["macro_f1"])
        for n in sizes:
            train = np.isin(groups, order[n_test:n_test + n])
            with warnings.catch_warnings(action="ignore"):  # a theme missing from a small training set is expected
                model = fit(settings["kind"], texts.take(train), gold.y[train].astype(int), params, labels)
            pred = model.predict_scores(texts.take(test).read_by(model)) >= 0.5
            f1s[n].append(ev.report(gold.y[test], pred, labels)["macro_f1"])
            counts[n].append(int(train.sum()))
    points = [{"groups": n, "paragraphs": round(float(np.mean(counts[n])), 1), "macro_f1_mean": round(float(np.mean(f1s[n])), 4),
               "macro_f1_min": min(f1s[n]), "macro_f1_max": max(f1s[n]), "macro_f1_runs": f1s[n]} for n in sizes]
    return {"file": gold.file, "kind": settings["kind"], "threshold": 0.5, "groups": len(ids), "test_groups": n_test,
            "test_share": settings["test_share"], "repeats": settings["repeats"], "seed": seed,
            "rules_macro_f1": round(float(np.mean(rules)), 4) if rules else None, "points": points}


def write_curve(curve: dict[str, Any], out: Path) -> list[Path]:
    """learning_curve.json, .csv (one row a size) and .png (mean, min-max band, rules line)."""
    import matplotlib
    matplotlib.use("Agg")  # no display on servers; must precede pyplot
    import matplotlib.pyplot as plt
    from pipeline.files import write_json
    files = [out / f"learning_curve.{ext}" for ext in ("json", "csv", "png")]
    write_json(files[0], curve)
    table = pd.DataFrame(curve["points"], columns=["groups", "paragraphs", "macro_f1_mean", "macro_f1_min", "macro_f1_max"])
    table.to_csv(files[1], index=False, lineterminator="\n")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.fill_between(table["groups"], table["macro_f1_min"], table["macro_f1_max"], alpha=0.25,
                    label=f"range over {curve['repeats']} repeats")
    ax.plot(table["groups"], table["macro_f1_mean"], marker="o", label=f"{curve['kind']} (mean)")
    if curve["rules_macro_f1"] is not None:
        ax.axhline(curve["rules_macro_f1"], linestyle="--", color="grey", label="keyword rules")
    ax.set(xlabel="labelled groups trained on", ylabel=f"macro-F1 on {curve['test_groups']} held-out groups",
           ylim=(0, 1), xticks=table["groups"], title="Learning curve")
    ax.legend(loc="lower right")
    fig.savefig(files[2], dpi=100, bbox_inches="tight")
    plt.close(fig)
    return files


def curve_table(curve: dict[str, Any]) -> Table:
    """groups | paragraphs | mean macro-F1 | range over repeats."""
    table = Table("groups", "paragraphs", "macro-F1 mean", "range",
                  title=f"Learning curve ({curve['kind']}, {curve['test_groups']} of {curve['groups']} groups held out, "
                        f"{curve['repeats']} repeats; rules on the same test parts: {curve['rules_macro_f1']})")
    for p in curve["points"]:
        table.add_row(str(p["groups"]), f"{p['paragraphs']:g}", f"{p['macro_f1_mean']:.3f}",
                      f"{p['macro_f1_min']:.2f}–{p['macro_f1_max']:.2f}")
    return table
