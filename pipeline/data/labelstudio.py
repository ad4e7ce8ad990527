"""Label Studio formats: import tasks (with model predictions) and the labelling config going
out, the JSON export coming back. Themes are one multiple `Choices` control; `none` is an
explicit choice, so "no theme" is never confused with "not labelled yet"."""
from __future__ import annotations

import json
from typing import Any, Iterator
from xml.sax.saxutils import quoteattr

NONE = "none"
CONTROL = "themes"


def labelling_config(labels: list[str]) -> str:
    choices = "\n".join(f"    <Choice value={quoteattr(label)}/>" for label in [*labels, NONE])
    return ('<View>\n  <Text name="text" value="$text"/>\n'
            f'  <Choices name="{CONTROL}" toName="text" choice="multiple" showInline="true" required="true">\n'
            f"{choices}\n  </Choices>\n</View>\n")


def _result(chosen: list[str]) -> list[dict[str, Any]]:
    return [{"from_name": CONTROL, "to_name": "text", "type": "choices", "value": {"choices": chosen or [NONE]}}]


def task(row: dict[str, Any], model_version: str | None) -> dict[str, Any]:
    """One import task; the model's labels become a prediction the labeller accepts or fixes."""
    data = {k: row[k] for k in ("text", "paragraph_id", "article_id") if k in row}
    out: dict[str, Any] = {"data": data}
    if model_version and "suggested" in row:
        score = max(row.get("scores", {}).values(), default=0.0)
        out["predictions"] = [{"model_version": model_version, "score": round(float(score), 4),
                               "result": _result(row["suggested"])}]
    return out


def json_array_items(text: str, where: str) -> Iterator[tuple[int, Any]]:
    """Items of a JSON array with the line each starts on, so errors can point at a task."""
    decoder = json.JSONDecoder()
    stripped = text.lstrip()
    if not stripped.startswith("["):
        raise ValueError(f"{where}:1: expected a JSON array of tasks (Label Studio export, JSON format)")
    position = len(text) - len(stripped) + 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] == "]":
            return
        line = text.count("\n", 0, position) + 1
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as err:
            raise ValueError(f"{where}:{err.lineno}: not valid JSON ({err.msg})") from err
        yield line, item


def annotated_choices(item: Any, where: str) -> tuple[str | None, str | None, list[str] | None]:
    """(paragraph_id, text, chosen themes or None when nobody labelled the task). Annotators
    who disagree are a conflict to settle in Label Studio, not something to average here."""
    if not isinstance(item, dict) or not isinstance(item.get("data"), dict):
        raise ValueError(f"{where}: not a Label Studio task (no 'data' object)")
    data = item["data"]
    answers = []
    for annotation in item.get("annotations") or []:
        if annotation.get("was_cancelled"):
            continue
        chosen = [c for r in annotation.get("result") or [] if r.get("from_name") == CONTROL
                  for c in (r.get("value") or {}).get("choices") or []]
        answers.append(sorted(set(chosen)))
    distinct = {tuple(a) for a in answers}
    if len(distinct) > 1:
        raise ValueError(f"{where}: annotators disagree ({' vs '.join(map(str, sorted(distinct)))}); "
                         "settle it in Label Studio and export again")
    return data.get("paragraph_id"), data.get("text"), (answers[0] if answers else None)
