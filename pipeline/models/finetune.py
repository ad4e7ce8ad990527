"""The PhoBERT fine-tuning recipe around transformers' Trainer: one code path for CPU, one
GPU or many (`accelerate launch`/`torchrun` set up the processes, Trainer does the rest),
mixed precision only where a GPU can use it, class-imbalance weights, a validation split
grouped by article for early stopping, and checkpoints a restarted run resumes from."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from transformers import Trainer, TrainingArguments

log = logging.getLogger(__name__)
METRIC = "macro_f1"


def grouped_validation(articles: Sequence[str], sources: Sequence[str], fraction: float, seed: int) -> np.ndarray:
    """Rows held out for early stopping: whole articles, drawn per source so real articles
    are represented, and never the last article of a source (it must still be trained on)."""
    rng = np.random.default_rng(seed)
    held: set[str] = set()
    for source in sorted(set(sources)):
        ids = sorted({a for a, s in zip(articles, sources) if s == source})
        take = min(int(round(fraction * len(ids))), len(ids) - 1) if fraction > 0 else 0
        held.update(rng.permutation(ids)[:take].tolist())
    return np.array([a in held for a in articles], dtype=bool)


def positive_weights(targets: np.ndarray, cap: float) -> np.ndarray:
    """Per-theme BCE positive weight negatives/positives, capped both ways, so a rare theme
    is not drowned by the paragraphs that lack it; a theme with no positives gets the cap."""
    positives = targets.sum(axis=0)
    ratio = (len(targets) - positives) / np.maximum(positives, 1e-9)
    return np.clip(ratio, 1.0 / cap, cap).astype(np.float32)


def precision_flags(mode: str) -> dict[str, bool]:
    """fp16/bf16 only on a GPU (`auto` picks bf16 where supported); CPU always trains in fp32."""
    if mode not in {"auto", "no", "fp16", "bf16"}:
        raise ValueError(f"finetune.mixed_precision must be auto, no, fp16 or bf16, not {mode!r}")
    if not torch.cuda.is_available() or mode == "no":
        return {"fp16": False, "bf16": False}
    bf16 = mode == "bf16" or (mode == "auto" and torch.cuda.is_bf16_supported())
    return {"fp16": not bf16, "bf16": bf16}


def paragraph_macro_f1(window_logits: np.ndarray, owners: Sequence[int], targets: np.ndarray) -> float:
    """Macro-F1 at 0.5 of paragraphs, each scored by the max over its windows, as at inference."""
    scores = np.full(targets.shape, -np.inf)
    for row, owner in zip(window_logits, owners):
        scores[owner] = np.maximum(scores[owner], row)
    pred, gold = scores >= 0, targets >= 0.5
    tp = (pred & gold).sum(axis=0)
    return float(np.mean(2 * tp / np.maximum(pred.sum(axis=0) + gold.sum(axis=0), 1)))


class WeightedTrainer(Trainer):
    """Trainer whose multi-label BCE carries per-theme positive weights."""

    loss_is_scaled_for_ga = False

    def __init__(self, *args, pos_weight: np.ndarray | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pos_weight = None if pos_weight is None else torch.tensor(pos_weight)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        weight = None if self.pos_weight is None else self.pos_weight.to(outputs.logits.device)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            outputs.logits.float(), labels.float(), pos_weight=weight)
        return (loss, outputs) if return_outputs else loss


def training_arguments(params: dict[str, Any], out_dir: Path, seed: int, validate: bool,
                       checkpoints: bool) -> TrainingArguments:
    """Every knob from `finetune:` in params.yaml. Checkpoints every epoch when asked (resume)
    or when a validation split drives early stopping (the best epoch is restored at the end)."""
    per_epoch = "epoch" if validate else "no"
    return TrainingArguments(
        output_dir=str(out_dir), num_train_epochs=params["epochs"], learning_rate=params["learning_rate"],
        per_device_train_batch_size=params["batch_size"], per_device_eval_batch_size=params["batch_size"],
        gradient_accumulation_steps=params["gradient_accumulation_steps"], weight_decay=params["weight_decay"],
        lr_scheduler_type=params["lr_scheduler"], warmup_steps=float(params["warmup_ratio"]),
        seed=seed, data_seed=seed,
        train_sampling_strategy="group_by_length" if params.get("group_by_length", True) else "random", eval_strategy=per_epoch, save_strategy="epoch" if validate or checkpoints else "no",
        save_total_limit=2, load_best_model_at_end=validate, metric_for_best_model=METRIC if validate else None,
        greater_is_better=True, report_to="none", logging_strategy="epoch", disable_tqdm=False,
        use_cpu=not torch.cuda.is_available(), **precision_flags(params["mixed_precision"]),
    )


def last_checkpoint(out_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(out_dir)) if out_dir.is_dir() else None
