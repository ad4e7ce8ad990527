"""The one small interface every model kind implements, and the registry that loads a saved
one by its kind: tagging and evaluation talk to this, never to a model module directly."""
from __future__ import annotations

import importlib
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
