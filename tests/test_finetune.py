import numpy as np
import pytest

from pipeline.models.finetune import grouped_validation, paragraph_macro_f1, positive_weights, precision_flags


def test_validation_holds_out_whole_articles_and_keeps_one_per_source():
    articles = ["s1", "s1", "s2", "s3", "y1", "y2", "y2", "y3", "y4", "y5"]
    sources = ["seed"] * 4 + ["synthetic"] * 6
    held = grouped_validation(articles, sources, 0.4, seed=0)
    for article in set(articles):
        rows = [h for a, h in zip(articles, held) if a == article]
        assert len(set(rows)) == 1
    held_articles = {a for a, h in zip(articles, held) if h}
    assert {a for a in held_articles if a.startswith("s")} and {a for a in held_articles if a.startswith("y")}
    assert not grouped_validation(["only", "only"], ["seed", "seed"], 0.5, seed=0).any()


def test_positive_weights_follow_class_balance_within_the_cap():
    targets = np.array([[1, 0, 0], [0, 0, 1], [0, 0, 1], [0, 0, 1]], dtype=np.float32)
    np.testing.assert_allclose(positive_weights(targets, 10.0), [3.0, 10.0, 1 / 3], rtol=1e-6)


def test_cpu_training_is_full_precision():
    assert precision_flags("auto") == {"fp16": False, "bf16": False}
    with pytest.raises(ValueError, match="mixed_precision"):
        precision_flags("fp8")


def test_validation_f1_max_pools_windows_per_paragraph():
    logits = np.array([[-1.0, 2.0], [3.0, -2.0], [-1.0, -1.0]])
    # paragraph 0 has two windows: one fires theme 1, the other theme 0
    assert paragraph_macro_f1(logits, [0, 0, 1], np.array([[1, 1], [0, 0]])) == 1.0
    assert paragraph_macro_f1(logits, [0, 0, 1], np.array([[0, 1], [1, 0]])) == 0.5
