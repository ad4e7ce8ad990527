import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def test_ingest_stage_reports_failures_and_fails_only_when_strict(tmp_path):
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    (tmp_path / "in").mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "ingest" / "article.txt", tmp_path / "in")
    (tmp_path / "in" / "zeros.txt").write_bytes(b"\x00" * 64)
    params = yaml.safe_load((tmp_path / "configs" / "params.yaml").read_text())
    params["ingest"]["inputs"] = [{"path": "in", "source": "seed"}]
    (tmp_path / "configs" / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True))
    env = {**os.environ, "ANTQ_ROOT": str(tmp_path), "COLUMNS": "120"}

    def ingest(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "antq"), "stage", "ingest", *flags], cwd=tmp_path, env=env,
                              capture_output=True, text=True)

    relaxed = ingest()
    assert relaxed.returncode == 0, relaxed.stderr
    for row in ("articles read", "paragraphs kept", "dropped: share_print", "lines dropped", "files failed"):
        assert row in relaxed.stdout
    assert "zeros.txt" in relaxed.stderr and "binary" in relaxed.stderr
    interim = tmp_path / "data" / "interim"
    (failure,) = [json.loads(line) for line in (interim / "failures.jsonl").read_text().splitlines()]
    assert failure["file"].endswith("zeros.txt") and "binary" in failure["reason"]
    assert json.loads((interim / "summary.json").read_text())["paragraphs"] == 5

    strict = ingest("--strict")
    assert strict.returncode == 1 and "--strict" in strict.stderr
