"""The results table a report is made from: one row per evaluation (per seed), plus what the report must say
about the data (test clips and chance level per dataset), the filters, and random-weight generators.

It is plain data (JSON in OUT/report/results.json), so a report can be rebuilt or compared without the study.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Columns of results.csv, in order. Descriptive columns first, then metrics, then provenance.
ROW_COLUMNS = ("experiment", "kind", "dataset", "variant", "generator", "prompts", "clips_per_class",
               "real_fraction", "validation", "seed", "snr_db", "accuracy", "uar", "macro_f1", "top5_accuracy",
               "test_clips", "train_clips", "synthetic_clips", "random_weights", "protocol", "best_epoch",
               "run", "evaluation")
METRICS = ("accuracy", "uar", "macro_f1", "top5_accuracy")


@dataclass
class StudyResults:
    study: str
    protocol: str  # "validation" or "paper"
    seeds: list[int]
    description: str = ""
    executor: str = "local"
    datasets: list[dict[str, Any]] = field(default_factory=list)  # name, classes, test_clips, chance, majority, ...
    rows: list[dict[str, Any]] = field(default_factory=list)  # ROW_COLUMNS + labels, per_class, confusion_matrix
    filters: list[dict[str, Any]] = field(default_factory=list)  # what each filter kept and dropped, and why
    random_weight_generators: list[str] = field(default_factory=list)  # "audioldm2 (tiny-random)", ...
    notes: list[str] = field(default_factory=list)

    @property
    def optimistic(self) -> bool:
        return self.protocol == "paper"

    def save(self, path: Path) -> None:
        from synthaudio.fsutil import write_text_atomic

        write_text_atomic(path, json.dumps(asdict(self), indent=1, ensure_ascii=False, allow_nan=False) + "\n")

    @classmethod
    def load(cls, path: Path) -> "StudyResults":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))
