"""The model card (models/tagger/README.md): what the tagger was trained on, how well it does
on real and synthetic paragraphs with intervals, where it fails, and what it is for."""
from __future__ import annotations

from typing import Any

from pipeline.evaluation import heldout
from pipeline.evaluation.compare import gain_cell
from pipeline.config import source_notes

FAILURE_MODES = [
    "Plans and calls to action (\"thời gian tới\", \"cần tiếp tục\") are not reports and carry no theme; "
    "models trained mostly on synthetic text confuse them with reported work.",
    "Paragraphs that mix themes (an award for a crime-fighting result) often lose one of the labels.",
    "Real-register paragraphs are own-words rewrites of real pages: the facts and register are real, the "
    "wording is not; a new outlet's style may still differ from all of them.",
]


def _row(name: str, source: str, rep: dict[str, Any], labels: list[str]) -> str:
    themes = " | ".join(f"{rep['per_theme'][l]['f1']:.3f} [{rep['per_theme'][l]['ci'][0]:.2f}, "
                        f"{rep['per_theme'][l]['ci'][1]:.2f}]" for l in labels)
    ci = rep["macro_f1_ci"]
    return f"| {name} | {source} | {rep['n']} | {rep['macro_f1']:.3f} [{ci[0]:.2f}, {ci[1]:.2f}] | {themes} |"


def _encoder_lines(encoder: dict[str, Any]) -> list[str]:
    if not encoder:
        return []
    return ["## Encoder", "",
            f"`{encoder.get('upstream_model', '?')}`, imported from the {encoder.get('source', '?')} "
            f"(`{encoder.get('source_file', '?')}`, sha256 `{encoder.get('sha256', '?')}`, "
            f"{encoder.get('parameters', 0):,} parameters). Licences: {encoder.get('licences', '?')}. "
            f"{encoder.get('weights_note', '')}", ""]


def render_card(info: dict[str, Any], stats: dict[str, Any], metrics: dict[str, Any], labels: list[str],
                thresholds: dict[str, float], model_uri: str, errors: list[dict[str, Any]]) -> str:
    kind = info.get("model_kind", "?")
    sources = source_notes()
    comparison = metrics.get("comparison", {})
    lines = [
        "# antq theme tagger — model card", "",
        f"Registered as `{model_uri}`. Model: **{kind}**"
        + (f" (backbone `{info['backbone']}`)" if info.get("backbone") else "")
        + (f"; fell back from PhoBERT because: {info['fallback_reason']}" if info.get("fallback_reason") else "")
        + ".", "",
        *_encoder_lines(info.get("encoder") or {}),
        "## Intended use", "",
        "Tagging paragraphs of Vietnamese public-security news about the \"Toàn dân bảo vệ an ninh Tổ quốc\" "
        f"movement with the themes it reports ({', '.join(f'`{l}`' for l in labels)}; multi-label, empty allowed), "
        "to count and find coverage. Not for judging people or outlets, and not for text outside this domain: "
        "scores there mean nothing. Review the paragraphs a decision rests on.", "",
        "## Data", "",
        f"{stats.get('labelled', '?')} labelled paragraphs: "
        + ", ".join(f"{n} {s}" for s, n in stats.get("by_source", {}).items())
        + " (" + "; ".join(f"`{s}` = {about}" for s, about in sources.items()) + "). "
        f"{stats.get('unlabelled', 0)} unlabelled. Positives per theme: "
        + ", ".join(f"{l} {n}" for l, n in stats.get("positives", {}).items())
        + f"; no theme: {stats.get('no_theme', '?')}.", "",
        "## Scores", "",
        f"Repeated ({metrics.get('repeats', 1)}×) {metrics.get('folds', '?')}-fold cross-validation grouped by "
        "article or page; thresholds for each fold tuned on the real paragraphs of the other folds; 95% "
        "intervals from a bootstrap over articles. Each source is reported apart: judge the model on the real "
        "sources and, above all, on the held-out block below, never on written text.", "",
        "| model | source | n | macro-F1 [95% CI] | " + " | ".join(labels) + " |",
        "|" + "---|" * (4 + len(labels)),
    ]
    for name, per_source in comparison.items():
        lines += [_row(name, s, per_source[s], labels) for s in sources if per_source.get(s, {}).get("n")]
    lines += ["", *heldout.markdown(metrics.get("heldout", {}), labels)]
    held = metrics.get("heldout", {}).get(kind, {}).get("vs_rules")
    gain = held or comparison.get(kind, {}).get("seed", {}).get("vs_rules")
    if gain:
        low, high = gain["ci"]
        verdict = "a clear gain" if low > 0 else "a clear loss" if high < 0 else "no clear difference"
        where = "on the held-out block (outlets never seen)" if held else "on real paragraphs (same folds)"
        lines += ["", f"Against the keyword rules {where}, paired: {gain_cell(gain)} macro-F1 — {verdict}."]
    lines += ["", "Thresholds (tuned on real paragraphs' out-of-fold scores): "
              + ", ".join(f"{l} {t:.2f}" for l, t in thresholds.items()), "",
              "## Known failure modes", ""]
    lines += [f"- {mode}" for mode in FAILURE_MODES]
    for kind_of, key in (("missed", "missed"), ("wrongly added", "extra")):
        counts = {l: sum(l in e[key] for e in errors if e["source"] == "seed") for l in labels}
        if any(counts.values()):
            lines.append(f"- On real paragraphs (out-of-fold), themes {kind_of}: "
                         + ", ".join(f"{l} {n}" for l, n in counts.items() if n) + " (see `errors.html`).")
    return "\n".join(lines) + "\n"
