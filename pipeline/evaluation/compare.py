"""Every model on the same repeated, article-grouped folds: keyword rules, TF-IDF, the
frozen-encoder head, the fine-tuned encoder and its student, and variants of them
(`evaluate.variants`: other settings or training mixes). Same folds, same
fold-external threshold tuning, one table — so differences are the models', not the splits'."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.progress import track

from pipeline.evaluation import metrics as ev
from pipeline.evaluation.errors import sentences
from pipeline.models.base import ScoreModel, Texts
from pipeline.models.train import NEEDS_BACKBONE, distil_student, fit


@dataclass
class Data:
    texts: Texts
    targets: np.ndarray
    articles: np.ndarray
    sources: np.ndarray
    unlabelled: list[tuple[str, str, str]] = field(default_factory=list)  # (article_id, raw, segmented)

    @property
    def y(self) -> np.ndarray:
        return self.targets.astype(bool)


@dataclass
class Outcome:
    folds: list[np.ndarray]
    scores: dict[str, list[np.ndarray]]
    decisions: dict[str, list[np.ndarray]]
    seconds: dict[str, float]
    fold_models: dict[int, ScoreModel]  # the main model of each fold of the first repeat: explains its errors


def model_names(requested: list[str], main: str, variants: dict[str, Any] | None = None) -> tuple[list[str], list[str]]:
    """(names to run, names skipped). Encoder models (and variants of them) need a loadable
    backbone, which is the case exactly when the trained model is one of them; the main model
    always runs, and a student always comes right after the fine-tuned teacher it learns from."""
    kind_of = {name: _variant(spec)[0] for name, spec in (variants or {}).items()}
    wanted = [*requested, main, *(["finetune"] if main == "student" else [])]
    names = [n for n in dict.fromkeys(wanted) if main in NEEDS_BACKBONE or kind_of.get(n, n) not in NEEDS_BACKBONE]
    if "student" in names:
        names.remove("student")
        names.insert(names.index("finetune") + 1, "student")
    return names, [n for n in requested if n not in names]


def fit_one(name: str, data: Data, train: np.ndarray, params: dict[str, Any], labels: list[str],
            fitted: dict[str, ScoreModel]) -> ScoreModel:
    texts = data.texts.take(train)
    if name == "rules":
        from pipeline.config import load_yaml
        from pipeline.models.rules import RulesModel

        return RulesModel(load_yaml("rules.yaml"), labels)
    variants = params["evaluate"].get("variants", {})
    if name in variants:
        base, overrides = _variant(variants[name])
        return fit(base, texts, data.targets[train], _override(params, base, overrides), labels,
                   sources=data.sources[train].tolist())
    if name == "student":
        return distil_student(fitted["finetune"], texts, set(data.articles[train].tolist()), data.unlabelled,
                              params, labels)
    return fit(name, texts, data.targets[train], params, labels,
               articles=data.articles[train].tolist(), sources=data.sources[train].tolist())


def _variant(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A variant row: `{kind: encoder_head, C: 1}` or, without `kind`, TF-IDF overrides."""
    spec = dict(spec)
    return spec.pop("kind", "tfidf"), spec


def _override(params: dict[str, Any], kind: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Params with a variant's overrides: `source_weights` go to `model`, the rest to the kind's
    own section (`tfidf`, `encoder_head`, `finetune`)."""
    model = params["model"] | ({"source_weights": overrides.pop("source_weights")} if "source_weights" in overrides else {})
    return params | {"model": model, kind: params[kind] | overrides}


def sentence_scores(model: ScoreModel, texts: list[str]) -> list[list[tuple[str, list[float]]]]:
    """Each paragraph's sentences with the model's scores for them: which sentence drove a theme."""
    split = [sentences(text) for text in texts]
    flat = [s for parts in split for s in parts]
    scored = iter(model.predict_scores(flat).tolist() if flat else [])
    return [[(s, next(scored)) for s in parts] for parts in split]


def real_rows(sources: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """Rows of real text (`evaluate.real_sources`): thresholds and choices rest on these only."""
    return np.isin(sources, params["evaluate"]["real_sources"])


def run(data: Data, names: list[str], main: str, params: dict[str, Any], labels: list[str]) -> Outcome:
    settings = params["evaluate"]
    folds = ev.repeated_folds(data.articles.tolist(), data.sources.tolist(), settings["folds"],
                              settings["repeats"], params["seed"])
    n, width = len(data.targets), len(labels)
    scores = {name: [np.zeros((n, width), dtype=np.float32) for _ in folds] for name in names}
    seconds = dict.fromkeys(names, 0.0)
    fold_models: dict[int, ScoreModel] = {}
    jobs = [(r, f) for r, assignment in enumerate(folds) for f in np.unique(assignment)]
    for r, f in track(jobs, description=f"Cross-validating {', '.join(names)}"):
        test = folds[r] == f
        fitted: dict[str, ScoreModel] = {}
        for name in names:
            model = fitted[name] = fit_one(name, data, ~test, params, labels, fitted)
            started = time.perf_counter()
            reads = data.texts.take(test).read_by(model)
            scores[name][r][test] = model.predict_scores(reads)
            seconds[name] += time.perf_counter() - started
            if r == 0 and name == main:
                fold_models[int(f)] = model
    grid = settings["threshold_grid"]
    real = real_rows(data.sources, params)
    decisions = {name: [ev.cross_fitted_predictions(data.y, s, fold, grid, real) for s, fold in zip(scores[name], folds)]
                 for name in names}
    return Outcome(folds, scores, decisions, seconds, fold_models)


def explain(outcome: Outcome, data: Data, rows: np.ndarray) -> list[list[tuple[str, list[float]]]]:
    """Sentence scores of `rows` (indices) by the first repeat's model of their fold: only for
    the paragraphs a report shows, since an encoder pays for every sentence it reads."""
    found: list[list[tuple[str, list[float]]]] = [[] for _ in range(len(data.targets))]
    wanted = np.zeros(len(data.targets), dtype=bool)
    wanted[rows] = True
    for fold, model in outcome.fold_models.items():
        chosen = wanted & (outcome.folds[0] == fold)
        for row, scored in zip(np.flatnonzero(chosen), sentence_scores(model, data.texts.take(chosen).read_by(model))):
            found[row] = scored
    return found


def table(data: Data, outcome: Outcome, labels: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """Per model and source (seed = real, synthetic…, all): macro/per-theme F1 with article
    bootstrap intervals, the paired difference to the keyword rules on the same resamples
    (`vs_rules`), and scoring speed (paragraphs per second, segmentation excluded)."""
    settings, y = params["evaluate"], data.y
    rules = outcome.decisions.get("rules")
    result: dict[str, Any] = {}
    for name, preds in outcome.decisions.items():
        per_source = {}
        for source in [*sorted(set(data.sources.tolist())), "all"]:
            rows = np.ones(len(y), dtype=bool) if source == "all" else data.sources == source
            per_source[source] = ev.summarize(y[rows], [p[rows] for p in preds], data.articles[rows], labels,
                                              settings["bootstrap"], params["seed"])
            if rules is not None and name != "rules" and rows.any():
                per_source[source]["vs_rules"] = ev.paired_difference(
                    y[rows], [p[rows] for p in preds], [p[rows] for p in rules], data.articles[rows],
                    settings["bootstrap"], params["seed"])
        scored = len(y) * len(preds)
        per_source["paragraphs_per_second"] = round(scored / max(outcome.seconds[name], 1e-9), 1)
        result[name] = per_source
    return result


def markdown(result: dict[str, Any], labels: list[str], skipped: list[str], note: str = "") -> str:
    """The comparison as a markdown table: one row per model and source."""
    head = ["model", "source", "n", "macro-F1 [95% CI]", "vs rules [95% CI]", *labels, "paragraphs/s"]
    lines = ["# Model comparison (same repeated article-grouped folds)", "",
             "Scores: mean over repeats; intervals: 95% bootstrap over articles. "
             "Thresholds per fold tuned on the other folds only. `seed` = real paragraphs. "
             "`vs rules`: macro-F1 minus the keyword rules' on the same paragraphs, paired bootstrap over "
             "articles; a gain is clear only when its interval excludes 0.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, per_source in result.items():
        for source, rep in per_source.items():
            if source == "paragraphs_per_second" or not rep.get("n"):
                continue
            cells = [name, source, str(rep["n"]), interval(rep["macro_f1"], rep["macro_f1_ci"]),
                     gain_cell(rep.get("vs_rules")),
                     *(interval(rep["per_theme"][l]["f1"], rep["per_theme"][l]["ci"]) for l in labels),
                     f"{per_source['paragraphs_per_second']:,.0f}"]
            lines.append("| " + " | ".join(cells) + " |")
    if skipped:
        lines += ["", f"Not run: {', '.join(skipped)} (no PhoBERT backbone; see `model.backbone`)."]
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def gain_cell(gain: dict[str, Any] | None) -> str:
    """A paired difference to the rules as `+0.013 [-0.10, +0.06]`, or a dash without one."""
    return f"{gain['macro_f1']:+.3f} [{gain['ci'][0]:+.2f}, {gain['ci'][1]:+.2f}]" if gain else "—"


def interval(value: float, ci: list[float]) -> str:
    return f"{value:.3f} [{ci[0]:.2f}, {ci[1]:.2f}]"
