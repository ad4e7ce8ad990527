"""The frozen-encoder head on the small PhoBERT-architecture backbone (fast: the mechanics are
the same for E5): which text it reads, windows, the embedding cache, save/load, training mix."""
import numpy as np
import pytest

from pipeline.config import LABELS, load_params
from pipeline.models.base import Texts
from pipeline.models.encoder_head import EmbeddingCache, Encoder, EncoderHeadModel
from pipeline.models.train import fit
from pipeline.tagging.tagger import Tagger
from pipeline.text import segment


@pytest.fixture(scope="module")
def data(seed_paragraphs, seed_gold):
    raw = [p["text"] for p in seed_paragraphs]
    y = np.array([[l in seed_gold[p["paragraph_id"]].labels for l in LABELS] for p in seed_paragraphs], dtype=np.float32)
    return Texts(raw, [segment(t) for t in raw]), y


@pytest.fixture(scope="module")
def settings(small_backbone, tmp_path_factory):
    params = load_params()
    head = params["encoder_head"] | {"cache_dir": str(tmp_path_factory.mktemp("embeddings"))}
    return head, params["model"] | {"backbone": str(small_backbone), "max_length": 32, "window_overlap": 8}


@pytest.fixture(scope="module")
def trained(data, settings):
    texts, y = data
    head, model = settings
    return EncoderHeadModel.fit(texts, y, head, model, seed=3, labels=LABELS)


def test_reads_the_text_its_tokenizer_wants(trained, data):
    texts, _ = data
    assert trained.segmented_input  # a PhoBERT vocabulary: word-segmented input
    assert texts.read_by(trained) == texts.segmented


def test_scores_are_probabilities_and_empty_text_scores_zero(trained, data):
    texts, _ = data
    scores = trained.predict_scores(["", *texts.segmented[:3], "  "])
    assert scores.shape == (5, len(LABELS)) and ((scores >= 0) & (scores <= 1)).all()
    assert scores[0].sum() == 0 and scores[-1].sum() == 0


def test_long_paragraph_is_read_whole_as_token_weighted_windows(trained, data):
    texts, _ = data
    encoder = trained.encoder
    long_text = " ".join(texts.segmented[:6])
    inputs, owners = encoder._windows([long_text])
    assert len(inputs) > 2 and set(owners) == {0} and all(len(w) <= encoder.max_length for w in inputs)
    whole = encoder.embed([long_text])[0]
    assert np.isclose(np.linalg.norm(whole), 1.0, atol=1e-5)
    assert encoder.embed(texts.segmented[:1]).shape == (1, encoder.model.config.hidden_size)


def test_batching_does_not_change_embeddings(trained, data):
    texts, _ = data
    encoder = trained.encoder
    together = encoder.embed(texts.segmented[:7])
    alone = np.vstack([encoder.embed([t]) for t in texts.segmented[:7]])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_cache_embeds_a_paragraph_once(trained, data, settings):
    texts, _ = data
    folder = settings[0]["cache_dir"]
    cache = EmbeddingCache(folder, trained.encoder)  # a new process would open the same file
    assert len(cache.vectors) >= len(set(texts.segmented))

    class NoEncoding:
        model = trained.encoder.model

        def embed(self, texts, progress=False):
            raise AssertionError("cached paragraphs were embedded again")

        def fingerprint(self):
            return trained.encoder.fingerprint()

    reused = EmbeddingCache(folder, NoEncoding())
    np.testing.assert_allclose(reused.embed(texts.segmented[:5]), trained.encoder.embed(texts.segmented[:5]), atol=1e-5)


def test_save_and_load_keep_the_decisions(trained, data, tmp_path):
    texts, _ = data
    tagger = Tagger(trained, LABELS)
    tagger.save(tmp_path)
    loaded = Tagger.load(tmp_path)
    assert isinstance(loaded.model, EncoderHeadModel) and (tmp_path / "encoder" / "config.json").exists()
    before, after = tagger.predict_frame(texts.raw), loaded.predict_frame(texts.raw)
    np.testing.assert_allclose(before[LABELS].to_numpy(), after[LABELS].to_numpy(), atol=0.02)  # fp16 on disk


def test_a_source_weighted_zero_is_left_out_of_training(data, settings):
    texts, y = data
    head, model = settings
    params = load_params() | {"encoder_head": head, "model": model | {"source_weights": {"written": 0.0}}}
    sources = ["seed"] * 30 + ["written"] * (len(y) - 30)
    mixed = fit("encoder_head", texts, y, params, LABELS, sources=sources)
    alone = EncoderHeadModel.fit(texts.take(np.arange(30)), y[:30], head, model, params["seed"], LABELS)
    np.testing.assert_allclose(mixed.predict_scores(texts.segmented), alone.predict_scores(texts.segmented), atol=1e-6)


def test_encoder_reports_its_fingerprint_by_settings(small_backbone):
    a = Encoder(small_backbone, 32, 8, "query: ")
    b = Encoder(small_backbone, 32, 8, "passage: ")
    assert a.fingerprint() != b.fingerprint() and a.fingerprint() == Encoder(small_backbone, 32, 8, "query: ").fingerprint()
