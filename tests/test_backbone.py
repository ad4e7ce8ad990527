import json

import pytest

from pipeline.models.backbone import BackboneUnavailable, _apply, load_backbone
from pipeline.config import LABELS


def test_small_backbone_is_phobert_shaped(small_backbone):
    config = json.loads((small_backbone / "config.json").read_text())
    assert config["model_type"] == "roberta" and config["max_position_embeddings"] == 258
    assert (small_backbone / "vocab.txt").exists() and (small_backbone / "bpe.codes").exists()
    merges = (small_backbone / "bpe.codes").read_text(encoding="utf-8").splitlines()
    assert all(len(line.split()) == 3 for line in merges)


def test_phobert_tokenizer_round_trips_segmented_text(small_backbone):
    tokenizer, model = load_backbone(str(small_backbone), LABELS)
    assert type(tokenizer).__name__ == "PhobertTokenizer"
    text = "Công_an thành_phố đã bắt 184 đối_tượng"
    ids = tokenizer(text)["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == text
    assert model.config.problem_type == "multi_label_classification" and model.config.num_labels == 4


def test_bpe_split_matches_phobert_conventions():
    ranks = {("a", "b"): 0, ("ab", "c</w>"): 1}
    assert _apply("abc", ranks) == ["abc"]
    assert _apply("abd", ranks) == ["ab@@", "d"]


def test_missing_backbone_says_how_to_provide_it():
    with pytest.raises(BackboneUnavailable, match="antq backbone build"):
        load_backbone("vinai/phobert-base-v2", LABELS)
