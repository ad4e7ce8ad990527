"""The tagger as users get it: raw paragraphs in, per-theme scores and labels out. It hides
which model kind is inside, so the CLI, evaluation and the MLflow pyfunc share one path."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.models.base import ScoreModel, load_model
from pipeline.text import normalize_text, segment

INFO = "tagger.json"


class Tagger:
    def __init__(self, model: ScoreModel, labels: list[str], thresholds: dict[str, float] | None = None,
                 info: dict[str, Any] | None = None):
        self.model, self.labels = model, list(labels)
        self.thresholds = {label: 0.5 for label in self.labels} | dict(thresholds or {})
        self.info = dict(info or {})

    def scores(self, texts: list[Any]) -> np.ndarray:
        """Scores for raw paragraphs; empty or non-text input scores zero instead of failing."""
        clean = [normalize_text(t) if isinstance(t, str) else "" for t in texts]
        reads = [segment(t) for t in clean] if self.model.segmented_input else clean
        scores = self.model.predict_scores(reads)
        scores[[not t for t in clean]] = 0.0
        return scores

    def decide(self, scores: np.ndarray) -> list[list[str]]:
        """Themes at or above their thresholds, best score first (every engine lists them alike)."""
        cut = np.array([self.thresholds[label] for label in self.labels])
        return [[self.labels[j] for j in np.argsort(-row, kind="stable") if row[j] >= cut[j]] for row in scores]

    def predict_frame(self, texts: list[Any]) -> pd.DataFrame:
        """The pyfunc contract: one row per input, `labels` then one float column per theme."""
        scores = self.scores(list(texts)) if len(texts) else np.zeros((0, len(self.labels)))
        frame = pd.DataFrame({"labels": self.decide(scores)})
        for j, label in enumerate(self.labels):
            frame[label] = scores[:, j].astype(float)
        return frame

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Same call as a loaded MLflow pyfunc, so `antq tag` can run a Tagger built in process."""
        return self.predict_frame(frame["text"].tolist())

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save(folder)
        meta = {"kind": self.model.kind, "labels": self.labels, "thresholds": self.thresholds, **self.info}
        (folder / INFO).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: Path) -> "Tagger":
        meta = json.loads((Path(folder) / INFO).read_text(encoding="utf-8"))
        model = load_model(meta["kind"], Path(folder), meta)
        info = {k: v for k, v in meta.items() if k not in {"kind", "labels", "thresholds"}}
        return cls(model, meta["labels"], meta["thresholds"], info)


def rules_tagger(labels: list[str]) -> Tagger:
    """The rules of configs/rules.yaml behind the Tagger interface: scores are 0/1, so the
    default 0.5 thresholds turn every fired cue into a label."""
    from pipeline.config import load_yaml
    from pipeline.models.rules import RulesModel

    return Tagger(RulesModel(load_yaml("rules.yaml"), labels), labels, info={"model_kind": "rules"})
