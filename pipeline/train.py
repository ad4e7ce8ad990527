"""Choose and fit the model named in params. When the PhoBERT backbone cannot be loaded,
follow `model.offline_fallback` loudly: a warning, and the reason recorded with the model."""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from pipeline.backbone import BackboneUnavailable, load_backbone
from pipeline.tagger import ScoreModel

log = logging.getLogger(__name__)


def resolve_kind(params: dict[str, Any], labels: list[str]) -> tuple[str, str | None]:
    """(kind to train, fallback reason or None). Probes the backbone once, offline."""
    model = params["model"]
    if model["kind"] != "phobert":
        return model["kind"], None
    try:
        load_backbone(model["backbone"], labels)
    except BackboneUnavailable as err:
        if model.get("offline_fallback", "none") == "none":
            raise
        log.warning("PhoBERT backbone %r unavailable: %s. Training the %r fallback instead "
                    "(model.offline_fallback).", model["backbone"], err, model["offline_fallback"])
        return model["offline_fallback"], str(err)
    return "phobert", None


def fit(kind: str, segmented: list[str], targets: np.ndarray, params: dict[str, Any],
        labels: list[str]) -> ScoreModel:
    seed = params["seed"]
    if kind == "phobert":
        from pipeline.phobert import PhobertModel

        return PhobertModel.fit(segmented, targets, labels, params["phobert"], params["model"], seed)
    if kind == "tfidf":
        from pipeline.tfidf import TfidfModel

        return TfidfModel.fit(segmented, targets, params["tfidf"], seed)
    raise ValueError(f"model.kind must be 'phobert' or 'tfidf', not {kind!r}")


def model_info(kind: str, reason: str | None, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "model_kind": kind,
        "fallback_reason": reason or "",
        "backbone": params["model"]["backbone"] if kind == "phobert" else "",
        "max_length": params["model"]["max_length"],
        "window_overlap": params["model"]["window_overlap"],
        "segmenter": "underthesea",
    }
