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
    from pipeline.data.ingest import Furniture

    return Furniture.from_config(load_yaml("furniture.yaml"))


@pytest.fixture(scope="session")
def seed_result(furniture):
    from pipeline.data.ingest import ingest

    return ingest([(ROOT / "data" / "raw", "seed")], furniture)


@pytest.fixture(scope="session")
def seed_paragraphs(seed_result):
    return seed_result.paragraphs


@pytest.fixture(scope="session")
def seed_gold():
    from pipeline.data.annotations import read_annotations

    return read_annotations([ROOT / "data" / "annotations" / "seed.jsonl"], LABELS)


@pytest.fixture(scope="session")
def small_backbone(tmp_path_factory, seed_paragraphs) -> Path:
    from pipeline.models.backbone import build_small_backbone
    from pipeline.text import segment

    texts = [segment(p["text"]) for p in seed_paragraphs]
    return build_small_backbone(texts, tmp_path_factory.mktemp("backbone"), TINY_BACKBONE, seed=0)


@pytest.fixture(scope="session")
def tfidf_pyfunc(tmp_path_factory, seed_paragraphs, seed_gold) -> Path:
    """A real TF-IDF tagger saved as the MLflow pyfunc `antq tag` loads: fast enough for
    fast tests of the tagging machinery (chunks, resume, formats, spark)."""
    import numpy as np
    import pandas as pd

    from pipeline.config import load_params
    from pipeline.tagging.register import save_local
    from pipeline.tagging.tagger import Tagger
    from pipeline.models.tfidf import TfidfModel
    from pipeline.text import segment

    texts = [segment(p["text"]) for p in seed_paragraphs]
    y = np.array([[l in seed_gold[p["paragraph_id"]].labels for l in LABELS] for p in seed_paragraphs])
    folder = tmp_path_factory.mktemp("tfidf")
    tagger = Tagger(TfidfModel.fit(texts, y, load_params()["tfidf"], 0, LABELS), LABELS).save(folder / "tagger")
    example = pd.DataFrame({"text": [p["text"] for p in seed_paragraphs[:3]]})
    return save_local(tagger, folder / "pyfunc", "tfidf", example)


@pytest.fixture(scope="session")
def tag_inputs(tmp_path_factory) -> Path:
    """The seed articles, ten synthetic articles as a collection, and bad files mixed in."""
    folder = tmp_path_factory.mktemp("inputs")
    for article in sorted((ROOT / "data" / "raw").glob("*.txt")):
        (folder / article.name).write_bytes(article.read_bytes())
    lines = (ROOT / "data" / "synthetic" / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    (folder / "m_collection.jsonl").write_text("\n".join(lines[:10]) + "\n", encoding="utf-8")
    (folder / "n_broken.jsonl").write_text("\n".join([*lines[10:13], "{not json", lines[13]]) + "\n", encoding="utf-8")
    (folder / "x_binary.txt").write_bytes(b"\x00\x01" * 200)
    (folder / "y_empty.txt").write_bytes(b"")
    return folder
