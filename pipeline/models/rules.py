"""Keyword rules from the annotation guide's cue words: the transparent baseline every model
must beat on real paragraphs, and a source of pre-annotations."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

FILE = "rules.json"


class RulesModel:
    """Reads raw or segmented text alike (underscores of segmentation are undone)."""

    kind = "rules"
    segmented_input = False

    def __init__(self, config: dict[str, Any], labels: list[str]):
        self.config, self.labels = config, labels
        flags = re.IGNORECASE
        self.cues = [[re.compile(p, flags) for p in config["themes"].get(label, [])] for label in labels]
        self.future = [re.compile(p, flags) for p in config.get("future", [])]
        self.done = [re.compile(p, flags) for p in config.get("done", [])]

    def cue_hits(self, texts: list[str]) -> np.ndarray:
        """One 0/1 column per cue pattern (themes in label order), then `future`, `done` and
        `plan` (future without done). As features they let a classifier weigh every cue on its
        own, where the rules trust any cue of a theme fully."""
        rows = []
        for text in texts:
            plain = text.replace("_", " ")
            future = any(r.search(plain) for r in self.future)
            done = any(r.search(plain) for r in self.done)
            hits = [bool(r.search(plain)) for cues in self.cues for r in cues]
            rows.append([*hits, future, done, future and not done])
        width = sum(map(len, self.cues)) + 3
        return np.array(rows, dtype=np.float32).reshape(len(texts), width)

    def predict_scores(self, segmented: list[str]) -> np.ndarray:
        """1 for a theme when any of its cues fires, unless the paragraph is a plan."""
        return self.decide(self.cue_hits(segmented))

    def decide(self, hits: np.ndarray) -> np.ndarray:
        """Theme decisions (0/1) from `cue_hits` rows."""
        groups = np.split(hits[:, :-3], np.cumsum([len(cues) for cues in self.cues])[:-1], axis=1)
        scores = np.stack([group.any(axis=1) for group in groups], axis=1).astype(np.float32)
        scores[hits[:, -1] == 1] = 0.0
        return scores

    def save(self, folder: Path) -> None:
        (folder / FILE).write_text(json.dumps({"config": self.config, "labels": self.labels},
                                              ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, meta: dict[str, Any] | None = None) -> "RulesModel":
        saved = json.loads((folder / FILE).read_text(encoding="utf-8"))
        return cls(saved["config"], saved["labels"])
