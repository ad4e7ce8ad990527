"""Tagging throughput and peak memory on a 2-core CPU: antq's PhoBERT path (length-sorted
batches, dynamic padding, inference_mode, thread settings, optional int8) against the naive
way (transformers `pipeline("text-classification")`, one paragraph at a time, padded to 256),
plus the TF-IDF model, word segmentation alone, and `antq tag` end to end at two input sizes
(memory must not grow with the input).

The model is PhoBERT-base-shaped (12 layers, hidden 768, ~64k vocabulary) with random weights:
speed does not depend on the weights, and the hub is unreachable. Paragraphs are the real
corpus's (data/raw, data/synthetic), sampled with its length distribution, plus some joined
past 256 tokens.

    make bench                                   # or: python benchmarks/tag_throughput.py --help
    python benchmarks/tag_throughput.py --paragraphs 100 --naive-paragraphs 24 --layers 4   # quicker
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANTQ_ROOT", str(ROOT))

from pipeline.config import LABELS, load_yaml, set_offline_env  # noqa: E402

set_offline_env()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

console = Console(width=max(Console().width, 120))


def rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(name: str, work, n: int, results: list) -> object:
    """Run `work()`, record paragraphs/s and the peak resident memory it added."""
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    before = rss_mb("VmRSS")
    start = time.perf_counter()
    value = work()
    seconds = time.perf_counter() - start
    results.append({"name": name, "n": n, "seconds": seconds, "rate": n / seconds,
                    "peak_mb": rss_mb("VmHWM"), "extra_mb": rss_mb("VmHWM") - before})
    console.log(f"{name}: {n / seconds:.1f} paragraphs/s")
    return value


def corpus_paragraphs(furniture) -> list[str]:
    from pipeline.data.ingest import ingest

    result = ingest([(ROOT / "data" / "raw", "seed"), (ROOT / "data" / "synthetic" / "articles.jsonl", "synthetic")],
                    furniture)
    return [p["text"] for p in result.paragraphs]


def sample(pool: list[str], n: int, long_share: float, rng: random.Random) -> list[str]:
    """Corpus-like lengths (sampled paragraphs), some joined past 256 tokens; every text is
    made unique so no cache flatters a figure."""
    texts = []
    for i in range(n):
        text = " ".join(rng.sample(pool, 4)) if rng.random() < long_share else rng.choice(pool)
        texts.append(f"{text} (Tin số {i + 1}.)")
    return texts


def build_base_model(pool: list[str], folder: Path, layers: int, vocab: int):
    """Tokenizer files learned as `pipeline.models.backbone` does, the vocabulary padded to PhoBERT's
    size, and a randomly initialised PhoBERT-base-shaped classifier."""
    from transformers import PhobertTokenizer, RobertaConfig, RobertaForSequenceClassification

    from pipeline.models.backbone import build_small_backbone
    from pipeline.text import segment

    small = {"bpe_merges": 8000, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1,
             "intermediate_size": 8}
    build_small_backbone([segment(t) for t in pool], folder, small, seed=0)
    with open(folder / "vocab.txt", "a", encoding="utf-8") as handle:
        size = len(PhobertTokenizer(str(folder / "vocab.txt"), str(folder / "bpe.codes")))
        handle.writelines(f"từ{i}@@ 1\n" for i in range(max(vocab - size, 0)))
    tokenizer = PhobertTokenizer(str(folder / "vocab.txt"), str(folder / "bpe.codes"))
    torch.manual_seed(0)
    config = RobertaConfig(vocab_size=len(tokenizer), max_position_embeddings=258, type_vocab_size=1,
                           pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                           eos_token_id=tokenizer.eos_token_id, hidden_size=768, num_hidden_layers=layers,
                           num_attention_heads=12, intermediate_size=3072, num_labels=len(LABELS),
                           problem_type="multi_label_classification")
    return tokenizer, RobertaForSequenceClassification(config).eval()


def naive(tokenizer, model):
    """What one writes first: the HF pipeline, one paragraph per call, padded to 256. Built
    and warmed up here, so only tagging is timed."""
    from transformers import pipeline

    from pipeline.text import normalize_text, segment

    pipe = pipeline("text-classification", model=model, tokenizer=tokenizer, device=-1, top_k=None,
                    function_to_apply="sigmoid")

    def run(texts: list[str]) -> list[list[float]]:
        out = []
        for text in texts:
            scores = pipe([segment(normalize_text(text))], padding="max_length", truncation=True, max_length=256)[0]
            by_label = {s["label"]: s["score"] for s in scores}
            out.append([by_label[k] for k in sorted(by_label, key=lambda l: int(l.split("_")[-1]))])
        return out

    run(["Khởi động."])
    return run


def agreement(a: list[list[str]], b: list[list[str]]) -> float:
    return sum(x == y for x, y in zip(a, b)) / max(len(a), 1)


def tag_end_to_end(tagger, texts: list[str], furniture, folder: Path) -> int:
    from pipeline.tagging.tag import TagOptions, tag

    source = folder / f"in-{len(texts)}.jsonl"
    source.write_text("".join(json.dumps({"id": f"a{i}", "text": t}, ensure_ascii=False) + "\n"
                              for i, t in enumerate(texts)), encoding="utf-8")
    report = tag([source], folder / f"out-{len(texts)}.jsonl", tagger, LABELS, furniture,
                 TagOptions(chunk_size=512))
    return report.paragraphs


def arguments(description: str, paragraphs: int) -> argparse.ArgumentParser:
    """The options both benchmarks share."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, default=paragraphs, help="paragraphs for the fast paths")
    parser.add_argument("--naive-paragraphs", type=int, default=24, help="paragraphs for the naive path (slow)")
    parser.add_argument("--long-share", type=float, default=0.05, help="share of paragraphs joined past 256 tokens")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    return parser


def inputs(args: argparse.Namespace):
    """(furniture, random generator, the corpus paragraphs, the sample to tag), threads set."""
    from pipeline.data.ingest import Furniture

    torch.set_num_threads(args.threads)
    furniture = Furniture.from_config(load_yaml("furniture.yaml"))
    rng = random.Random(0)
    pool = corpus_paragraphs(furniture)
    return furniture, rng, pool, sample(pool, args.paragraphs, args.long_share, rng)


def main() -> None:
    parser = arguments(__doc__, 160)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--vocab", type=int, default=64_000)
    parser.add_argument("--no-int8", action="store_true")
    args = parser.parse_args()

    from pipeline.models.transformer import TransformerModel
    from pipeline.tagging.tagger import Tagger
    from pipeline.text import segment

    furniture, rng, pool, texts = inputs(args)
    results: list[dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        tokenizer, model = build_base_model(pool, folder / "backbone", args.layers, args.vocab)
        phobert = TransformerModel(tokenizer, model)
        lengths = [sum(len(w) for w in phobert.encode([segment(t)])[0]) for t in texts]
        console.log(f"{len(texts)} paragraphs, tokens: median {int(np.median(lengths))}, max {max(lengths)}, "
                    f"{sum(l > 256 for l in lengths)} past 256; vocab {len(tokenizer)}, "
                    f"{sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters, {args.threads} threads")
        segment.cache_clear()
        measure("word segmentation (underthesea)", lambda: [segment(t) for t in texts], len(texts), results)
        naive_texts, run_naive = texts[: args.naive_paragraphs], naive(tokenizer, model)
        naive_scores = measure("naive: HF pipeline, 1 at a time, pad 256", lambda: run_naive(naive_texts),
                               len(naive_texts), results)
        tagger = Tagger(phobert, LABELS)
        segment.cache_clear()
        fp32 = measure("antq PhoBERT fp32", lambda: tagger.predict_frame(texts), len(texts), results)
        short = [i for i, length in enumerate(lengths[: len(naive_texts)]) if length <= 256]
        gap = np.abs(np.array(naive_scores)[short] - fp32[LABELS].to_numpy()[short]).max()
        console.log(f"naive and antq fp32 scores differ by at most {gap:.1e} on paragraphs within 256 tokens")
        agree = None
        if not args.no_int8:
            segment.cache_clear()
            tagger = Tagger(TransformerModel(tokenizer, model).quantize(), LABELS)
            int8 = measure("antq PhoBERT int8", lambda: tagger.predict_frame(texts), len(texts), results)
            gap = np.abs(fp32[LABELS].to_numpy() - int8[LABELS].to_numpy())
            console.log(f"random base model: int8 scores differ from fp32 by {gap.mean():.1e} on average, "
                        f"{gap.max():.1e} at most; labels equal on "
                        f"{agreement(fp32['labels'].tolist(), int8['labels'].tolist()):.1%} (random weights put "
                        f"every score near the 0.5 threshold, so labels flip on noise)")
        del model, phobert, tagger, run_naive
        y = rule_labels(pool)
        if not args.no_int8:
            agree = trained_int8_agreement(pool[:300], y[:300], texts, folder)  # 300: about a minute
        tfidf = train_tfidf(pool, y)
        segment.cache_clear()
        measure("antq TF-IDF", lambda: tfidf.predict_frame(texts), len(texts), results)
        for n in (len(texts), 4 * len(texts)):
            segment.cache_clear()
            measure(f"antq tag end to end, TF-IDF, {n} paragraphs",
                    lambda: tag_end_to_end(tfidf, sample(pool, n, args.long_share, rng), furniture, folder), n, results)
    report(results, agree)


def rule_labels(pool: list[str]) -> np.ndarray:
    """Keyword-rule labels for the corpus paragraphs: something realistic to fit on."""
    from pipeline.models.rules import RulesModel
    from pipeline.tagging.tagger import Tagger

    y = Tagger(RulesModel(load_yaml("rules.yaml"), LABELS), LABELS).scores(pool) >= 0.5
    y[: len(LABELS)] = np.eye(len(LABELS), dtype=bool)  # every theme needs a positive to fit
    return y


def trained_int8_agreement(pool: list[str], y: np.ndarray, texts: list[str], folder: Path) -> float:
    """int8 vs fp32 labels of a *trained* PhoBERT (the project's small backbone, fitted on the
    corpus): random weights cannot say whether quantisation changes decisions."""
    from pipeline.models.backbone import build_small_backbone
    from pipeline.config import load_params
    from pipeline.models.base import Texts
    from pipeline.models.transformer import TransformerModel
    from pipeline.tagging.tagger import Tagger
    from pipeline.text import segment

    params = load_params()
    segmented = [segment(t) for t in pool]
    backbone = build_small_backbone(segmented, folder / "small", params["backbone"], params["seed"])
    training = params["finetune"] | {"epochs": 3, "learning_rate": 1e-3}
    model = TransformerModel.fit(Texts(pool, segmented), y.astype(np.float32), LABELS, training,
                             params["model"] | {"backbone": str(backbone)}, params["seed"])
    fp32 = Tagger(model, LABELS).predict_frame(texts)["labels"].tolist()
    int8 = Tagger(model.quantize(), LABELS).predict_frame(texts)["labels"].tolist()
    return agreement(fp32, int8)


def train_tfidf(pool: list[str], y: np.ndarray):
    """A TF-IDF tagger fitted on keyword-rule labels: only its speed is measured."""
    from pipeline.config import load_params
    from pipeline.tagging.tagger import Tagger
    from pipeline.text import segment
    from pipeline.models.tfidf import TfidfModel

    return Tagger(TfidfModel.fit([segment(t) for t in pool], y, load_params()["tfidf"], 0, LABELS), LABELS)


def report(results: list[dict], agree: float | None) -> None:
    naive_rate = next(r["rate"] for r in results if r["name"].startswith("naive"))
    table = Table(title=f"Tagging throughput ({torch.get_num_threads()} torch threads, {os.cpu_count()} cores)")
    for column in ("path", "paragraphs", "seconds", "paragraphs/s", "vs naive", "peak RSS MB", "peak added MB"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for r in results:
        speedup = f"{r['rate'] / naive_rate:.1f}x" if "PhoBERT" in r["name"] or r["name"].startswith("naive") else ""
        table.add_row(r["name"], str(r["n"]), f"{r['seconds']:.1f}", f"{r['rate']:.1f}", speedup,
                      f"{r['peak_mb']:.0f}", f"{r['extra_mb']:.0f}")
    console.print(table)
    seconds = {r["name"]: r["seconds"] / r["n"] for r in results}
    share = seconds["word segmentation (underthesea)"] / seconds["antq PhoBERT fp32"]
    console.print(f"word segmentation is {share:.0%} of the PhoBERT fp32 time per paragraph")
    if agree is not None:
        console.print(f"int8 labels equal fp32 labels on {agree:.1%} of paragraphs (trained small PhoBERT; "
                      f"target >= 99%)")


if __name__ == "__main__":
    main()
