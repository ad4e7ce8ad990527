"""The real-register corpus (data/real_register/pages.jsonl) and its conversion into what the
pipeline reads: targets met, every page with its address, the generated files in sync, no
paragraph repeating a long run of another's words, the held-out block kept apart by outlet."""
import re
from collections import Counter, defaultdict

import pytest

from pipeline.config import LABELS, load_yaml
from pipeline.data import pages
from pipeline.data.ingest import Furniture
from pipeline.files import read_jsonl
from tests.conftest import ROOT

FOLDER = ROOT / "data" / "real_register"
LONG_RUN = 15  # words; names of campaigns and forces run to a dozen, a copied sentence further


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return read_jsonl(FOLDER / "pages.jsonl")


def test_corpus_meets_the_targets(corpus):
    paragraphs = [p for page in corpus for p in page["paragraphs"]]
    positives = Counter(label for p in paragraphs for label in p["labels"])
    assert len(corpus) >= 150 and len({pages.outlet_of(page["url"]) for page in corpus}) >= 40
    assert len(paragraphs) >= 800 and sum(not p["labels"] for p in paragraphs) >= 250
    assert all(positives[label] >= 120 for label in LABELS), positives


def test_every_page_has_its_address_and_valid_labels(corpus):
    pages.validate(corpus, LABELS, "pages.jsonl")
    assert all(re.match(r"https?://[^/\s]+\.[a-z]{2,}/", page["url"]) for page in corpus)
    annotated = read_jsonl(ROOT / "data" / "annotations" / "real_register.jsonl")
    assert all(row["url"].startswith("http") for row in annotated)


def test_generated_collections_and_annotations_are_in_sync(corpus):
    held = pages.heldout_outlets((FOLDER / "heldout_outlets.txt").read_text(encoding="utf-8").splitlines())
    train, block = pages.split(corpus, held)
    assert read_jsonl(FOLDER / "real_register.jsonl") == pages.collection(train)
    assert read_jsonl(FOLDER / "real_heldout.jsonl") == pages.collection(block)
    furniture = Furniture.from_config(load_yaml("furniture.yaml"))
    clean = lambda text: furniture.clean(text)[0]  # noqa: E731
    expected = pages.annotations(train, "real_register", clean) + pages.annotations(block, "real_heldout", clean)
    assert read_jsonl(ROOT / "data" / "annotations" / "real_register.jsonl") == expected


def test_heldout_block_shares_no_outlet_with_training(corpus):
    held = pages.heldout_outlets((FOLDER / "heldout_outlets.txt").read_text(encoding="utf-8").splitlines())
    train, block = pages.split(corpus, held)
    assert len(block) >= 40 and not {pages.outlet_of(p["url"]) for p in train} & held


def test_no_paragraph_repeats_a_long_run_of_another(corpus):
    owners: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for page in corpus:
        for number, para in enumerate(page["paragraphs"]):
            words = re.findall(r"\w+", para["text"].lower())
            for start in range(len(words) - LONG_RUN + 1):
                owners[tuple(words[start : start + LONG_RUN])].add(f"{page['id']}[{number}]")
    repeated = {" ".join(run): sorted(where) for run, where in owners.items() if len(where) > 1}
    assert not repeated, list(repeated.items())[:3]


def test_outlet_is_the_registered_domain():
    assert pages.outlet_of("https://vnca.cand.com.vn/x/y") == pages.outlet_of("https://cand.com.vn/a") == "cand.com.vn"
    assert pages.outlet_of("https://m.baogialai.com.vn/p") == "baogialai.com.vn"
    assert pages.outlet_of("https://congan.phutho.gov.vn/p") == "phutho.gov.vn"
    assert pages.outlet_of("https://www.tienphong.vn/p") == "tienphong.vn"


def test_bad_pages_are_refused_naming_the_line():
    good = {"id": "a", "url": "https://x.vn/1", "outlet": "X", "paragraphs": [{"text": "Câu.", "labels": []}]}
    with pytest.raises(pages.PageError, match=r"f:2: missing url"):
        pages.validate([good, {**good, "id": "b", "url": ""}], LABELS, "f")
    with pytest.raises(pages.PageError, match=r"f:2: .*appears twice"):
        pages.validate([good, {**good, "id": "b"}], LABELS, "f")
    with pytest.raises(pages.PageError, match=r"unknown label\(s\) \['crime'\]"):
        pages.validate([{**good, "paragraphs": [{"text": "Câu.", "labels": ["crime"]}]}], LABELS, "f")


def test_annotations_key_on_the_text_ingestion_keeps():
    furniture = Furniture.from_config(load_yaml("furniture.yaml"))
    page = {"id": "p", "url": "https://x.vn/1", "outlet": "X",
            "paragraphs": [{"text": "Lực lượng công an thu giữ tang vật. Ảnh: Văn A", "labels": ["crime_outcomes"]},
                           {"text": "CTV", "labels": []}]}
    rows = pages.annotations([page], "real_register", lambda text: furniture.clean(text)[0])
    from pipeline.text import paragraph_id

    assert [r["paragraph_id"] for r in rows] == [paragraph_id("Lực lượng công an thu giữ tang vật.")]
