"""Error analysis users can open in a browser: every misclassified paragraph with its gold
and predicted themes, its scores, and the sentence that drove each predicted theme."""
from __future__ import annotations

import html
import re
from typing import Any

import numpy as np

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")


def sentences(segmented: str) -> list[str]:
    """Sentences of a (segmented) paragraph, split after ., !, ? or … followed by a space."""
    return [s.strip() for s in _SENTENCE_END.split(segmented) if s.strip()]


def misclassified(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Rows whose predicted label set differs from the gold set in any theme."""
    return np.flatnonzero((y.astype(bool) != pred.astype(bool)).any(axis=1))


def error_rows(rows: list[dict[str, Any]], y: np.ndarray, pred: np.ndarray, scores: np.ndarray,
               sentence_scores: list[list[tuple[str, list[float]]]], labels: list[str]) -> list[dict[str, Any]]:
    """One record per misclassified paragraph. `rows` carry paragraph_id, article_id, source, text."""
    out = []
    for i in misclassified(y, pred):
        gold = [l for l, on in zip(labels, y[i]) if on]
        predicted = [l for l, on in zip(labels, pred[i]) if on]
        found = sentence_scores[i] if i < len(sentence_scores) else []
        drivers = {}
        for theme in predicted:
            j = labels.index(theme)
            if found:
                text, values = max(found, key=lambda item: item[1][j])
                drivers[theme] = {"sentence": text.replace("_", " "), "score": round(float(values[j]), 3)}
        out.append({**{k: rows[i][k] for k in ("paragraph_id", "article_id", "source", "text")},
                    "gold": gold, "predicted": predicted,
                    "missed": [l for l in gold if l not in predicted],
                    "extra": [l for l in predicted if l not in gold],
                    "scores": {l: round(float(scores[i][j]), 3) for j, l in enumerate(labels)},
                    "drivers": drivers,
                    "sentences": [{"sentence": s.replace("_", " "), "scores": [round(float(v), 3) for v in values]}
                                  for s, values in found]})
    return out


_STYLE = """body{font-family:sans-serif;margin:2em;max-width:75em}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top}.miss{color:#b00}.extra{color:#b60}
section{border-top:2px solid #444;margin-top:1.5em;padding-top:.5em}.meta{color:#666;font-size:90%}"""


def render_html(errors: list[dict[str, Any]], labels: list[str], title: str, total: int) -> str:
    """A self-contained HTML page (no scripts, no external files)."""
    e = html.escape
    parts = [f"<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>{e(title)}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{e(title)}</h1>",
             f"<p>{len(errors)} of {total} paragraphs misclassified (out-of-fold predictions, "
             f"thresholds tuned on other folds). Red: missed gold theme; orange: extra predicted theme.</p>"]
    for err in errors:
        parts.append(f"<section class='error' data-paragraph-id='{e(err['paragraph_id'])}'>"
                     f"<p class='meta'>{e(err['source'])} · article {e(err['article_id'])} · "
                     f"paragraph {e(err['paragraph_id'])}</p><p>{e(err['text'])}</p>"
                     f"<p>gold: <b>{e(', '.join(err['gold']) or '(none)')}</b> · predicted: "
                     f"<b>{e(', '.join(err['predicted']) or '(none)')}</b>"
                     + "".join(f" · <span class='miss'>missed {e(l)}</span>" for l in err["missed"])
                     + "".join(f" · <span class='extra'>extra {e(l)}</span>" for l in err["extra"]) + "</p>")
        parts.append("<table><tr>" + "".join(f"<th>{e(l)}</th>" for l in labels) + "</tr><tr>"
                     + "".join(f"<td>{err['scores'][l]:.3f}</td>" for l in labels) + "</tr></table>")
        for theme, driver in err["drivers"].items():
            parts.append(f"<p>{e(theme)} driven by ({driver['score']:.3f}): <q>{e(driver['sentence'])}</q></p>")
        if err["sentences"]:
            parts.append("<table><tr><th>sentence</th>" + "".join(f"<th>{e(l)}</th>" for l in labels) + "</tr>"
                         + "".join("<tr><td>" + e(s["sentence"]) + "</td>"
                                   + "".join(f"<td>{v:.3f}</td>" for v in s["scores"]) + "</tr>"
                                   for s in err["sentences"]) + "</table>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
