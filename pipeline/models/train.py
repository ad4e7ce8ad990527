"""Choose and fit the model named in params. When a backbone cannot be loaded, follow
`model.offline_fallback` loudly: a warning, and the reason recorded with the model."""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.models.backbone import BackboneUnavailable, load_backbone
from pipeline.models.base import ScoreModel, Texts

log = logging.getLogger(__name__)
NEEDS_BACKBONE = {"finetune", "student", "encoder_head"}


def resolve_kind(params: dict[str, Any]) -> tuple[str, str | None]:
    """(kind to train, fallback reason or None). Probes the backbone (tokenizer and config), offline."""
    model = params["model"]
    if model["kind"] not in NEEDS_BACKBONE:
        return model["kind"], None
    try:
        load_backbone(model["backbone"])
    except BackboneUnavailable as err:
        if model.get("offline_fallback", "none") == "none":
            raise
        log.warning("backbone %r unavailable: %s. Training the %r fallback instead "
                    "(model.offline_fallback).", model["backbone"], err, model["offline_fallback"])
        return model["offline_fallback"], str(err)
    return model["kind"], None


def source_weights(sources: list[str] | None, params: dict[str, Any]) -> np.ndarray | None:
    """Per-row training weight from `model.source_weights` (a source not listed weighs 1):
    how much each kind of text may teach, set by what it does to the real-text score."""
    weights = params["model"].get("source_weights") or {}
    if sources is None or not weights:
        return None
    return np.array([float(weights.get(s, 1.0)) for s in sources])


def fit(kind: str, texts: Texts, targets: np.ndarray, params: dict[str, Any], labels: list[str],
        articles: list[str] | None = None, sources: list[str] | None = None,
        checkpoint_dir: Path | None = None) -> ScoreModel:
    """Rows of a source weighted 0 are left out; `articles`/`sources` let fine-tuning hold out
    whole articles for early stopping; `checkpoint_dir` lets it resume."""
    weights = source_weights(sources, params)
    if weights is not None and (weights == 0).any():
        keep = weights > 0
        texts, targets, weights = texts.take(keep), targets[keep], weights[keep]
        articles = None if articles is None else [a for a, k in zip(articles, keep) if k]
        sources = None if sources is None else [s for s, k in zip(sources, keep) if k]
    seed = params["seed"]
    if kind == "finetune":
        from pipeline.models.transformer import TransformerModel

        return TransformerModel.fit(texts, targets, labels, params["finetune"], params["model"], seed,
                                    articles=articles, sources=sources, checkpoint_dir=checkpoint_dir)
    if kind == "student":
        teacher = fit("finetune", texts, targets, params, labels, articles, sources, checkpoint_dir)
        return distil_student(teacher, texts, set(articles or []), [], params, labels)
    if kind == "encoder_head":
        from pipeline.models.encoder_head import EncoderHeadModel

        return EncoderHeadModel.fit(texts, targets, params["encoder_head"], params["model"], seed, labels, weights)
    if kind == "tfidf":
        from pipeline.models.tfidf import TfidfModel

        return TfidfModel.fit(texts.segmented, targets, params["tfidf"], seed, labels, weights)
    raise ValueError(f"model.kind must be one of encoder_head, finetune, student, tfidf, not {kind!r}")


def distil_student(teacher: ScoreModel, texts: Texts, train_articles: set[str],
                   unlabelled: list[tuple[str, str, str]], params: dict[str, Any], labels: list[str]) -> ScoreModel:
    """The student learns the teacher's scores on the training paragraphs plus unlabelled
    paragraphs of training articles (never text of the articles it will be scored on)."""
    from pipeline.models.tfidf import StudentModel

    extra = [(raw, seg) for article, raw, seg in unlabelled if article in train_articles] if params["student"]["unlabelled"] else []
    corpus = Texts(texts.raw + [r for r, _ in extra], texts.segmented + [s for _, s in extra])
    return StudentModel.distil(corpus.segmented, teacher.predict_scores(corpus.read_by(teacher)), params["student"],
                               params["tfidf"], labels)


def checkpoint_folder(root: Path, params: dict[str, Any], paragraph_ids: list[str]) -> Path:
    """Checkpoints live under a fingerprint of what is trained, so a restarted run resumes
    only from its own interrupted training, never from one with other data or settings."""
    key = json.dumps([params["seed"], params["model"], params["finetune"], paragraph_ids], sort_keys=True)
    return root / hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def model_info(kind: str, reason: str | None, params: dict[str, Any]) -> dict[str, Any]:
    """What the model card and MLflow say about the model, the encoder's provenance included."""
    backbone = params["model"]["backbone"] if kind in NEEDS_BACKBONE else ""
    return {
        "model_kind": kind,
        "fallback_reason": reason or "",
        "backbone": backbone,
        "encoder": encoder_provenance(backbone),
        "max_length": params["model"]["max_length"],
        "window_overlap": params["model"]["window_overlap"],
        "segmenter": "underthesea",
    }


def encoder_provenance(backbone: str) -> dict[str, Any]:
    """Source, licences and checksum of an imported encoder (`import_info.json`), else nothing."""
    from pipeline.config import path

    info = path(backbone) / "import_info.json" if backbone else None
    return json.loads(info.read_text(encoding="utf-8")) if info is not None and info.exists() else {}
