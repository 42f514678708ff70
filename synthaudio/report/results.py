"""The results table a report is made from: one row per evaluation (per seed), plus what the report must say
about the data (test clips and chance level per dataset), the filters, and random-weight generators.

It is plain data (JSON in OUT/report/results.json), so a report can be rebuilt or compared without the study.
"""

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from synthaudio.fsutil import write_text_atomic


@dataclass(frozen=True)
class Condition:
    """What one evaluation measured: the descriptive columns of its result row, set by the experiment."""

    experiment: str
    kind: str
    dataset: str
    variant: str  # "synthetic only", "real only", "mixed", "class-filtered", a noise pool, ...
    generator: str | None
    prompts: str | None
    clips_per_class: int
    real_fraction: float
    validation: str  # "real" or "synthetic_holdout"
    seed: int
    snr_db: float | None  # None: clean test


def _not_in_csv():
    return field(metadata={"csv": False})


@dataclass(frozen=True)
class ResultRow(Condition):
    """One evaluation (one seed) as the report reads it: its condition, metrics and provenance. A field added
    here is a column of results.csv (unless marked _not_in_csv) and a key of results.json's rows."""

    accuracy: float
    uar: float
    macro_f1: float
    top5_accuracy: float | None
    test_clips: int
    train_clips: int | None
    synthetic_clips: int
    random_weights: bool  # the synthetic data came from a randomly initialised generator: noise
    protocol: str
    best_epoch: int | None
    run: str  # the training run's folder
    evaluation: str  # the evaluation record
    split: str = _not_in_csv()
    labels: list[str] = _not_in_csv()
    per_class: dict[str, Any] = _not_in_csv()
    confusion_matrix: list[list[int]] = _not_in_csv()


# Columns of results.csv, in order: descriptive columns first, then metrics, then provenance.
ROW_COLUMNS = tuple(item.name for item in fields(ResultRow) if item.metadata.get("csv", True))
CONDITION_COLUMNS = tuple(item.name for item in fields(Condition))
METRICS = ("accuracy", "uar", "macro_f1", "top5_accuracy")


@dataclass
class StudyResults:
    study: str
    protocol: str  # "validation" or "paper"
    seeds: list[int]
    description: str = ""
    executor: str = "local"
    datasets: list[dict[str, Any]] = field(default_factory=list)  # name, classes, test_clips, chance, majority, ...
    rows: list[dict[str, Any]] = field(default_factory=list)  # ResultRow as dicts
    filters: list[dict[str, Any]] = field(default_factory=list)  # what each filter kept and dropped, and why
    random_weight_generators: list[str] = field(default_factory=list)  # "audioldm2 (tiny-random)", ...
    notes: list[str] = field(default_factory=list)
    # the HTML report's clips (synthaudio.study.gallery): paths relative to the study folder, else absolute
    gallery: dict[str, Any] = field(default_factory=dict)
    # per class, condition and embedding: synthetic-vs-real distances (synthaudio.study.domain_gap)
    domain_gap: list[dict[str, Any]] = field(default_factory=list)

    @property
    def optimistic(self) -> bool:
        return self.protocol == "paper"

    def save(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(asdict(self), indent=1, ensure_ascii=False, allow_nan=False) + "\n")

    @classmethod
    def load(cls, path: Path) -> "StudyResults":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))
