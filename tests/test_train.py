import numpy as np
import pytest

from pipeline.models.base import Texts

from pipeline.models.backbone import BackboneUnavailable
from pipeline.config import LABELS, load_params
from pipeline.models.train import fit, model_info, resolve_kind


def params(**model):
    p = load_params()
    p["model"] = p["model"] | model
    return p


def test_unreachable_backbone_falls_back_loudly(caplog):
    kind, reason = resolve_kind(params(backbone="vinai/phobert-base-v2", offline_fallback="tfidf"))
    assert kind == "tfidf" and "vinai/phobert-base-v2" in reason
    assert "unavailable" in caplog.text and "fallback" in caplog.text
    info = model_info(kind, reason, params())
    assert info["model_kind"] == "tfidf" and info["fallback_reason"] == reason


def test_no_fallback_stops_with_instructions(tmp_path):
    with pytest.raises(BackboneUnavailable, match="set model.backbone to that folder"):
        resolve_kind(params(backbone=str(tmp_path / "nothing-here"), offline_fallback="none"))


def test_local_backbone_is_used(small_backbone):
    assert resolve_kind(params(kind="finetune", backbone=str(small_backbone))) == ("finetune", None)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="model.kind"):
        fit("svm", Texts(["a"], ["a"]), np.zeros((1, 4)), params(), LABELS)
