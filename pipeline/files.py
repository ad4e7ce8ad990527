"""Small file helpers shared by the stages and the CLI. Writes go through a temp file and a
rename, so an interrupted run never leaves a half-written output behind."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable


def atomic_write(file: Path, lines: Iterable[str]) -> int:
    file.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".part")
    count = 0
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for line in lines:
                out.write(line)
                count += 1
        os.replace(temp, file)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return count


def write_json(file: Path, data: Any) -> None:
    atomic_write(file, [json.dumps(data, ensure_ascii=False, indent=2) + "\n"])


def write_jsonl(file: Path, rows: Iterable[dict[str, Any]]) -> int:
    return atomic_write(file, (json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def read_jsonl(file: Path) -> list[dict[str, Any]]:
    with open(file, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
