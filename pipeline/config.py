"""One place for paths, labels and parameters, so every stage reads the same knobs."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(os.environ.get("ANTQ_ROOT", Path.cwd()))
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "1",
    "DO_NOT_TRACK": "1",
}


def set_offline_env() -> None:
    """Hub and telemetry calls would hang or fail on this network; make them impossible."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def _configs_dir() -> Path:
    local = ROOT / "configs"
    return local if local.is_dir() else CONFIG_DIR


def load_yaml(name: str) -> dict[str, Any]:
    with open(_configs_dir() / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_params() -> dict[str, Any]:
    return load_yaml("params.yaml")


LABELS: list[str] = load_yaml("labels.yaml")["labels"]


def source_notes() -> dict[str, str]:
    """What each data source is (`ingest.inputs` in params), in the order score tables list
    them: real (and real-register) paragraphs first, so nobody reads a written score as the real one."""
    params = load_params()
    real = params["evaluate"]["real_sources"] + params["evaluate"].get("heldout_sources", [])
    notes = {i["source"]: i.get("about", "") for i in params["ingest"]["inputs"]}
    return dict(sorted(notes.items(), key=lambda item: item[0] not in real))


def ingest_inputs(sources: set[str] | None = None) -> list[tuple[Path, str]]:
    """(location, source) of every input in `ingest.inputs`, or of those `sources` only."""
    return [(path(i["path"]), i["source"]) for i in load_params()["ingest"]["inputs"]
            if sources is None or i["source"] in sources]


def project_relative(file: str | Path | None) -> str | None:
    """A file inside the project as a path from its root: stage outputs then do not depend on
    where the project was cloned, so DVC hashes agree between machines."""
    if file is None:
        return None
    try:
        return Path(file).resolve().relative_to(ROOT.resolve()).as_posix()
    except ValueError:
        return str(file)


def path(relative: str | Path) -> Path:
    """Resolve a path from params against the project root (the folder DVC runs in)."""
    p = Path(relative)
    return p if p.is_absolute() else ROOT / p
