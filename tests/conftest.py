"""Shared fixtures: the real seed articles and a small PhoBERT-architecture backbone built
from them (no download, as in production without the hub)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("ANTQ_ROOT", str(ROOT))
from pipeline.config import LABELS, load_yaml, set_offline_env  # noqa: E402

set_offline_env()

TINY_BACKBONE = {"bpe_merges": 800, "hidden_size": 32, "num_hidden_layers": 1,
                 "num_attention_heads": 2, "intermediate_size": 64}


@pytest.fixture(scope="session")
def furniture():
    from pipeline.ingest import Furniture

    return Furniture.from_config(load_yaml("furniture.yaml"))


@pytest.fixture(scope="session")
def seed_result(furniture):
    from pipeline.ingest import ingest

    return ingest([(ROOT / "data" / "raw", "seed")], furniture)


@pytest.fixture(scope="session")
def seed_paragraphs(seed_result):
    return seed_result.paragraphs


@pytest.fixture(scope="session")
def seed_gold():
    from pipeline.annotations import read_annotations

    return read_annotations([ROOT / "data" / "annotations" / "seed.jsonl"], LABELS)


@pytest.fixture(scope="session")
def small_backbone(tmp_path_factory, seed_paragraphs) -> Path:
    from pipeline.backbone import build_small_backbone
    from pipeline.text import segment

    texts = [segment(p["text"]) for p in seed_paragraphs]
    return build_small_backbone(texts, tmp_path_factory.mktemp("backbone"), TINY_BACKBONE, seed=0)
