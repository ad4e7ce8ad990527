"""Choose and fit the model named in params. When the PhoBERT backbone cannot be loaded,
follow `model.offline_fallback` loudly: a warning, and the reason recorded with the model."""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.models.backbone import BackboneUnavailable, load_backbone
from pipeline.models.base import ScoreModel

log = logging.getLogger(__name__)


def resolve_kind(params: dict[str, Any], labels: list[str]) -> tuple[str, str | None]:
    """(kind to train, fallback reason or None). Probes the backbone once, offline."""
    model = params["model"]
    if model["kind"] not in ("phobert", "student"):
        return model["kind"], None
    try:
        load_backbone(model["backbone"], labels)
    except BackboneUnavailable as err:
        if model.get("offline_fallback", "none") == "none":
            raise
        log.warning("PhoBERT backbone %r unavailable: %s. Training the %r fallback instead "
                    "(model.offline_fallback).", model["backbone"], err, model["offline_fallback"])
        return model["offline_fallback"], str(err)
    return model["kind"], None


def fit(kind: str, segmented: list[str], targets: np.ndarray, params: dict[str, Any],
        labels: list[str], articles: list[str] | None = None, sources: list[str] | None = None,
        checkpoint_dir: Path | None = None) -> ScoreModel:
    """`articles`/`sources` let PhoBERT hold out whole articles for early stopping;
    `checkpoint_dir` lets it resume. TF-IDF needs neither."""
    seed = params["seed"]
    if kind == "phobert":
        from pipeline.models.transformer import PhobertModel

        return PhobertModel.fit(segmented, targets, labels, params["phobert"], params["model"], seed,
                                articles=articles, sources=sources, checkpoint_dir=checkpoint_dir)
    if kind == "student":
        teacher = fit("phobert", segmented, targets, params, labels, articles, sources, checkpoint_dir)
        return distil_student(teacher, segmented, set(articles or []), [], params, labels)
    if kind == "tfidf":
        from pipeline.models.tfidf import TfidfModel

        return TfidfModel.fit(segmented, targets, params["tfidf"], seed, labels)
    raise ValueError(f"model.kind must be 'phobert', 'student' or 'tfidf', not {kind!r}")


def distil_student(teacher: ScoreModel, texts: list[str], train_articles: set[str],
                   unlabelled: list[tuple[str, str]], params: dict[str, Any], labels: list[str]) -> ScoreModel:
    """The student learns the teacher's scores on the training paragraphs plus unlabelled
    paragraphs of training articles (never text of the articles it will be scored on)."""
    from pipeline.models.tfidf import StudentModel

    extra = [text for article, text in unlabelled if article in train_articles] if params["student"]["unlabelled"] else []
    corpus = texts + extra
    return StudentModel.distil(corpus, teacher.predict_scores(corpus), params["student"], params["tfidf"], labels)


def checkpoint_folder(root: Path, params: dict[str, Any], paragraph_ids: list[str]) -> Path:
    """Checkpoints live under a fingerprint of what is trained, so a restarted run resumes
    only from its own interrupted training, never from one with other data or settings."""
    key = json.dumps([params["seed"], params["model"], params["phobert"], paragraph_ids], sort_keys=True)
    return root / hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def model_info(kind: str, reason: str | None, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "model_kind": kind,
        "fallback_reason": reason or "",
        "backbone": params["model"]["backbone"] if kind in ("phobert", "student") else "",
        "max_length": params["model"]["max_length"],
        "window_overlap": params["model"]["window_overlap"],
        "segmenter": "underthesea",
    }
