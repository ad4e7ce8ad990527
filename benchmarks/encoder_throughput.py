"""Tagging throughput and peak memory of the E5 path on a 2-core CPU: antq's encoder-head
tagger (length-sorted batches, dynamic padding, windows of `model.max_length`, inference_mode,
optional int8) against the naive way with the same encoder (transformers
`pipeline("text-classification")`, one paragraph per call, padded to 512), and `antq tag` end to
end at two input sizes (memory must stay flat as the input grows). int8 label agreement is
measured on the trained head (models/trained after `make run`), else on a head fitted here.

    make bench                                          # both benchmarks
    python benchmarks/encoder_throughput.py --paragraphs 100 --naive-paragraphs 16   # quicker
"""
from __future__ import annotations

import copy
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANTQ_ROOT", str(ROOT))

from pipeline.config import LABELS, load_params, path, set_offline_env  # noqa: E402

set_offline_env()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from rich.table import Table  # noqa: E402

from benchmarks.tag_throughput import (agreement, arguments, console, inputs, measure, rule_labels,  # noqa: E402
                                       sample, tag_end_to_end)


def encoder_folder() -> Path:
    folder = path(load_params()["encoder"]["out_dir"])
    if not folder.exists():
        from pipeline.stages import encoder

        encoder(folder)
    return folder


def naive(folder: Path):
    """The same encoder as a BertForSequenceClassification (its classifier untrained: only the
    speed is compared), run as people first write it."""
    from transformers import AutoTokenizer, BertForSequenceClassification, pipeline

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = BertForSequenceClassification.from_pretrained(folder, num_labels=len(LABELS)).eval()
    pipe = pipeline("text-classification", model=model, tokenizer=tokenizer, device=-1, top_k=None,
                    function_to_apply="sigmoid")

    def run(texts: list[str]) -> list:
        return [pipe(["query: " + t], padding="max_length", truncation=True, max_length=512)[0] for t in texts]

    run(["Khởi động."])
    return run


def fitted_head(pool: list[str], folder: Path):
    """The trained tagger of `make run` when there is one; else a head fitted on rule labels."""
    from pipeline.models.base import Texts
    from pipeline.models.encoder_head import EncoderHeadModel
    from pipeline.tagging.tagger import Tagger

    trained = path("models/trained")
    if (trained / "head.joblib").exists():
        console.log(f"int8 agreement on the trained tagger in {trained}")
        return Tagger.load(trained)
    params = load_params()
    settings = params["encoder_head"] | {"cache_dir": None}
    model = EncoderHeadModel.fit(Texts(pool, pool), rule_labels(pool).astype(np.float32), settings,
                                 params["model"] | {"backbone": str(folder)}, params["seed"], LABELS)
    return Tagger(model, LABELS)


def main() -> None:
    args = arguments(__doc__, 200).parse_args()
    furniture, rng, pool, texts = inputs(args)
    folder = encoder_folder()
    tagger = fitted_head(pool[:400], folder)
    results: list[dict] = []
    run_naive = naive(folder)
    measure("naive: HF pipeline, 1 at a time, pad 512", lambda: run_naive(texts[: args.naive_paragraphs]),
            args.naive_paragraphs, results)
    del run_naive
    fp32 = measure("antq E5 head fp32", lambda: tagger.predict_frame(texts), len(texts), results)
    quantized = copy.deepcopy(tagger)
    quantized.model.quantize()
    int8 = measure("antq E5 head int8", lambda: quantized.predict_frame(texts), len(texts), results)
    agree = agreement(fp32["labels"].tolist(), int8["labels"].tolist())
    with tempfile.TemporaryDirectory() as scratch:
        for n in (len(texts), 4 * len(texts)):
            measure(f"antq tag end to end, E5 int8, {n} paragraphs",
                    lambda: tag_end_to_end(quantized, sample(pool, n, args.long_share, rng), furniture, Path(scratch)),
                    n, results)
    naive_rate = results[0]["rate"]
    table = Table(title=f"E5 tagging throughput ({torch.get_num_threads()} torch threads, {os.cpu_count()} cores)")
    for column in ("path", "paragraphs", "seconds", "paragraphs/s", "vs naive", "peak RSS MB", "peak added MB"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for r in results:
        table.add_row(r["name"], str(r["n"]), f"{r['seconds']:.1f}", f"{r['rate']:.1f}",
                      f"{r['rate'] / naive_rate:.1f}x", f"{r['peak_mb']:.0f}", f"{r['extra_mb']:.0f}")
    console.print(table)
    console.print(f"int8 labels equal fp32 labels on {agree:.1%} of {len(texts)} paragraphs; "
                  f"scores differ by {np.abs(fp32[LABELS].to_numpy() - int8[LABELS].to_numpy()).max():.3f} at most")


if __name__ == "__main__":
    main()
