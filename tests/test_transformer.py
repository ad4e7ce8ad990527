import copy

import numpy as np
import pytest
import torch
from transformers import TrainerCallback

from pipeline.config import LABELS, load_params
from pipeline.models.transformer import TransformerModel
from pipeline.tagging.tagger import Tagger
from pipeline.models.base import Texts
from pipeline.text import segment

TRAIN = load_params()["finetune"] | {"epochs": 2, "learning_rate": 1e-3, "batch_size": 8, "weight_decay": 0.0,
                                     "warmup_ratio": 0.0}


class Crash(Exception):
    """Stands in for a killed job: raised right after the first epoch checkpoint is written."""


class CrashAfterFirstCheckpoint(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        raise Crash(f"interrupted at step {state.global_step}")


class StepLog(TrainerCallback):
    def __init__(self):
        self.steps: list[int] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)


@pytest.fixture(scope="module")
def trained(small_backbone, seed_paragraphs, seed_gold):
    texts = Texts([p["text"] for p in seed_paragraphs], [segment(p["text"]) for p in seed_paragraphs])
    y = np.array([[l in seed_gold[p["paragraph_id"]].labels for l in LABELS] for p in seed_paragraphs], dtype=np.float32)
    model_params = load_params()["model"] | {"backbone": str(small_backbone)}
    model = TransformerModel.fit(texts, y, LABELS, TRAIN, model_params, seed=7)
    assert model.segmented_input  # a PhoBERT tokenizer reads word-segmented text
    return model, texts.segmented, y, model_params


def test_training_is_reproducible_with_a_fixed_seed(trained):
    model, texts, y, model_params = trained
    again = TransformerModel.fit(Texts(texts, texts), y, LABELS, TRAIN, model_params, seed=7)
    np.testing.assert_allclose(model.predict_scores(texts[:5]), again.predict_scores(texts[:5]), atol=1e-5)


def test_long_paragraph_is_windowed_and_max_pooled(trained):
    model, texts, _, _ = trained
    long_text = " ".join(texts)  # thousands of tokens: far past 256
    windows, owners = model.encode([long_text])
    assert len(windows) > 3 and all(len(w) <= 256 for w in windows) and set(owners) == {0}
    with torch.inference_mode():
        per_window = [torch.sigmoid(model.model(input_ids=torch.tensor([w])).logits)[0].numpy() for w in windows]
    np.testing.assert_allclose(model.predict_scores([long_text])[0], np.max(per_window, axis=0), atol=1e-5)


def test_batched_scores_equal_one_at_a_time(trained):
    model, texts, _, _ = trained
    together = model.predict_scores(texts[:9], batch_size=4)
    alone = np.vstack([model.predict_scores([t]) for t in texts[:9]])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert ((together >= 0) & (together <= 1)).all()


def test_empty_text_scores_zero(trained):
    model, texts, _, _ = trained
    scores = model.predict_scores(["", texts[0], "  "])
    assert scores[0].sum() == 0 and scores[2].sum() == 0 and scores[1].sum() > 0


def test_save_and_load_give_the_same_scores(trained, tmp_path):
    model, texts, _, _ = trained
    model.save(tmp_path)
    loaded = TransformerModel.load(tmp_path, {"max_length": 256, "window_overlap": 64})
    np.testing.assert_allclose(loaded.predict_scores(texts[:4]), model.predict_scores(texts[:4]), atol=1e-5)


def test_int8_labels_agree_with_fp32(trained, seed_paragraphs):
    model, _, _, _ = trained
    texts = [p["text"] for p in seed_paragraphs]
    quantized = TransformerModel(model.tokenizer, copy.deepcopy(model.model)).quantize()
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in quantized.model.modules())
    fp32, int8 = Tagger(model, LABELS).predict_frame(texts), Tagger(quantized, LABELS).predict_frame(texts)
    agree = np.mean([a == b for a, b in zip(fp32["labels"], int8["labels"])])
    assert agree >= 0.99 and np.abs(fp32[LABELS].to_numpy() - int8[LABELS].to_numpy()).max() < 0.05


def test_resumed_training_ends_where_an_uninterrupted_run_ends(small_backbone, seed_paragraphs, seed_gold, tmp_path):
    texts = Texts([p["text"] for p in seed_paragraphs], [segment(p["text"]) for p in seed_paragraphs])
    y = np.array([[l in seed_gold[p["paragraph_id"]].labels for l in LABELS] for p in seed_paragraphs], dtype=np.float32)
    articles = [p["article_id"] for p in seed_paragraphs]
    settings = TRAIN | {"epochs": 3, "gradient_accumulation_steps": 2, "lr_scheduler": "cosine",
                        "early_stopping_patience": 5, "validation_fraction": 0.2}
    model_params = load_params()["model"] | {"backbone": str(small_backbone)}
    args = (texts, y, LABELS, settings, model_params, 11)
    whole = TransformerModel.fit(*args, articles=articles, checkpoint_dir=tmp_path / "whole")
    with pytest.raises(Crash):
        TransformerModel.fit(*args, articles=articles, checkpoint_dir=tmp_path / "resumed",
                         callbacks=[CrashAfterFirstCheckpoint()])
    assert [p.name for p in (tmp_path / "resumed").iterdir() if p.name.startswith("checkpoint-")]
    steps = StepLog()
    resumed = TransformerModel.fit(*args, articles=articles, checkpoint_dir=tmp_path / "resumed", callbacks=[steps])
    assert steps.steps[0] > 1  # it continued after the saved epoch instead of starting over
    np.testing.assert_allclose(resumed.predict_scores(texts.segmented), whole.predict_scores(texts.segmented), atol=1e-5)
