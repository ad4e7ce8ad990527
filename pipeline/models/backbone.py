"""The backbone: load a pretrained encoder (PhoBERT by hub id, or a local folder such as the
E5 encoder `antq backbone import-e5` writes) and, for tests of the PhoBERT path, build a small
PhoBERT-architecture stand-in from the corpus: a RoBERTa config with PhoBERT's position
layout and PhoBERT tokenizer files (`vocab.txt`, `bpe.codes`)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterable, Iterator

log = logging.getLogger(__name__)

SPECIAL = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


class BackboneUnavailable(Exception):
    """The configured backbone cannot be loaded; the message says how to provide it."""


def learn_bpe(words: Iterable[str], merges: int) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """Learn fastBPE-style merges (word-final symbols end in `</w>`) with the Rust trainer of
    `tokenizers`, and return them with the subword counts PhoBERT's `vocab.txt` lists."""
    from collections import Counter

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    counts = Counter(words)
    tok = Tokenizer(models.BPE(unk_token="<unk>", end_of_word_suffix="</w>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(vocab_size=10**6, limit_alphabet=1000, show_progress=False,
                                  end_of_word_suffix="</w>", special_tokens=[])
    tok.train_from_iterator((w for w, c in counts.items() for _ in range(min(c, 50))), trainer)
    state = tok.model.__getstate__()
    import json

    learned = [tuple(m) if isinstance(m, list) else tuple(m.split(" "))
               for m in json.loads(state)["merges"]][:merges]
    ranks = {pair: i for i, pair in enumerate(learned)}
    subwords: Counter[str] = Counter()
    for word, count in counts.items():
        for piece in _apply(word, ranks):
            subwords[piece] += count
    return learned, dict(subwords)


def _apply(word: str, ranks: dict[tuple[str, str], int]) -> list[str]:
    """Split one word the way PhobertTokenizer.bpe does, as vocab.txt entries (`ab@@`, `c`)."""
    symbols = list(word[:-1]) + [word[-1] + "</w>"]
    while len(symbols) > 1:
        pairs = [(ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
        rank, i = min(pairs)
        if rank == 1 << 30:
            break
        symbols[i : i + 2] = [symbols[i] + symbols[i + 1]]
    return [s[:-4] if s.endswith("</w>") else s + "@@" for s in symbols]


def build_small_backbone(segmented: list[str], out_dir: Path, settings: dict[str, Any], seed: int) -> Path:
    """Write tokenizer files and a randomly initialised RoBERTa that PhoBERT code loads
    unchanged (max_position_embeddings=258, padding_idx=1)."""
    import torch
    from transformers import PhobertTokenizer, RobertaConfig, RobertaModel

    torch.manual_seed(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    chars = {ch for text in segmented for ch in text if not ch.isspace()}
    merges, subwords = learn_bpe([w for text in segmented for w in text.split()] + sorted(chars),
                                 settings["bpe_merges"])
    for ch in sorted(chars):
        subwords.setdefault(ch, 1)
        subwords.setdefault(ch + "@@", 1)
    with open(out_dir / "bpe.codes", "w", encoding="utf-8") as handle:
        handle.writelines(f"{a} {b} {len(merges) - i}\n" for i, (a, b) in enumerate(merges))
    with open(out_dir / "vocab.txt", "w", encoding="utf-8") as handle:
        handle.writelines(f"{piece} {count}\n" for piece, count in
                          sorted(subwords.items(), key=lambda kv: (-kv[1], kv[0])) if piece not in SPECIAL)
    tokenizer = PhobertTokenizer(str(out_dir / "vocab.txt"), str(out_dir / "bpe.codes"))
    tokenizer.model_max_length = 256
    tokenizer.save_pretrained(out_dir)
    config = RobertaConfig(
        vocab_size=len(tokenizer), max_position_embeddings=258, type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, hidden_size=settings["hidden_size"],
        num_hidden_layers=settings["num_hidden_layers"], num_attention_heads=settings["num_attention_heads"],
        intermediate_size=settings["intermediate_size"], tokenizer_class="PhobertTokenizer",
    )
    RobertaModel(config).save_pretrained(out_dir)
    log.info("Small PhoBERT-architecture backbone (%d subwords) written to %s", len(tokenizer), out_dir)
    return out_dir


def needs_segmentation(tokenizer: Any) -> bool:
    """PhoBERT's vocabulary is of segmented words (`Công_an`); sentencepiece vocabularies such
    as E5's read raw text, and underscores would only be noise to them."""
    return type(tokenizer).__name__.startswith("Phobert")


def window_length(tokenizer: Any, config: Any, wanted: int) -> int:
    """Tokens per window, special tokens included: what params ask, within what the position
    embeddings hold (RoBERTa-style models, PhoBERT among them, reserve padding_idx + 1)."""
    limit = config.max_position_embeddings
    if config.model_type in ("roberta", "xlm-roberta", "camembert"):
        limit -= config.pad_token_id + 1
    return min(wanted, limit)


def token_windows(tokenizer: Any, texts: list[str], max_length: int, overlap: int,
                  prefix: str = "") -> tuple[list[list[int]], list[int]]:
    """Token windows of every paragraph (special tokens included, at most `max_length`) and, for
    each window, its paragraph's index: a long paragraph is read whole, never truncated."""
    from pipeline.text import windows

    inputs, owners = [], []
    for index, text in enumerate(texts):
        ids = tokenizer(prefix + text, add_special_tokens=False)["input_ids"] if text.strip() else []
        for window in windows(ids, max_length - 2, overlap):
            inputs.append([tokenizer.cls_token_id, *window, tokenizer.sep_token_id])
            owners.append(index)
    return inputs, owners


def padded_batches(inputs: list[list[int]], batch_size: int, pad_id: int) -> Iterator[tuple[list[int], Any, Any]]:
    """(window indices, ids, attention mask) of length-sorted batches padded only to their
    longest window: on a CPU padding is paid for in full."""
    import torch

    order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        width = max(len(inputs[i]) for i in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            ids[row, : len(inputs[i])] = torch.tensor(inputs[i])
            mask[row, : len(inputs[i])] = 1
        yield batch, ids, mask


def load_backbone(name: str, labels: list[str] | None = None):
    """(tokenizer, model) from a hub id or a local folder, offline only: a multi-label
    classifier for `labels`, or with `labels=None` just the tokenizer and the config (a cheap
    probe that the backbone is there). Raises BackboneUnavailable with the way to fix it."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        if labels is None:
            return tokenizer, AutoConfig.from_pretrained(name)
        model = AutoModelForSequenceClassification.from_pretrained(
            name, num_labels=len(labels), problem_type="multi_label_classification",
            id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    except (OSError, ValueError) as err:
        raise BackboneUnavailable(
            f"backbone {name!r} cannot be loaded offline ({str(err).splitlines()[0]}). Provide it: "
            f"download it where the hub is reachable (huggingface-cli download {name}) and copy the "
            f"folder here, then set model.backbone to that folder; or run `antq backbone build` and "
            f"point model.backbone at its output; or run `antq backbone import-e5` for the E5 encoder") from err
    return tokenizer, model
