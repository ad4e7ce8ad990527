"""The one small interface every model kind implements, and the registry that loads a saved
one by its kind: tagging and evaluation talk to this, never to a model module directly."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class ScoreModel(Protocol):
    kind: str
    segmented_input: bool  # False: the model reads raw text and word segmentation would be wasted

    def predict_scores(self, texts: list[str]) -> np.ndarray: ...

    def save(self, folder: Path) -> None: ...


# kind -> (module, class): imported on demand so a TF-IDF tagger never imports torch.
KINDS: dict[str, tuple[str, str]] = {
    "rules": ("pipeline.models.rules", "RulesModel"),
    "tfidf": ("pipeline.models.tfidf", "TfidfModel"),
    "student": ("pipeline.models.tfidf", "StudentModel"),
    "finetune": ("pipeline.models.transformer", "TransformerModel"),
    "encoder_head": ("pipeline.models.encoder_head", "EncoderHeadModel"),
}


def model_class(kind: str) -> Any:
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(KINDS)}")
    module, name = KINDS[kind]
    return getattr(importlib.import_module(module), name)


def load_model(kind: str, folder: Path, meta: dict[str, Any]) -> ScoreModel:
    """A saved model of any kind; `meta` is the tagger's saved info (window sizes and such)."""
    return model_class(kind).load(Path(folder), meta)


@dataclass(frozen=True)
class Texts:
    """The same paragraphs raw and word-segmented: a model takes the form it reads, so the
    caller need not know whether a tokenizer wants `Công_an` (PhoBERT) or `Công an` (E5)."""

    raw: list[str]
    segmented: list[str]

    def read_by(self, model: Any) -> list[str]:
        return self.segmented if model.segmented_input else self.raw

    def take(self, rows: Any) -> "Texts":
        rows = np.asarray(rows)
        index = np.flatnonzero(rows) if rows.dtype == bool else rows
        return Texts([self.raw[i] for i in index], [self.segmented[i] for i in index])
