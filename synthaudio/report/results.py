"""The results table a report is made from: one row per evaluation (per seed), plus what the report must say
about the data (test clips and chance level per dataset), the filters, random-weight generators, and the evidence:
each condition's intervals, the paired comparisons its experiments declared, and each test set's power.

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
# A condition without its seed: one setting on one test set, whose seeds the intervals and comparisons pool.
SETTING_COLUMNS = tuple(column for column in CONDITION_COLUMNS if column != "seed")
METRICS = ("accuracy", "uar", "macro_f1", "top5_accuracy")
INTERVAL_METRICS = ("accuracy", "uar", "macro_f1")  # the metrics with intervals and paired comparisons


def setting_of(condition: "Condition | dict[str, Any]") -> dict[str, Any]:
    """The condition's columns without its seed (a Condition, a result row, or such a dict)."""
    values = asdict(condition) if isinstance(condition, Condition) else condition
    return {column: values[column] for column in SETTING_COLUMNS}


def setting_key(condition: "Condition | dict[str, Any]") -> str:
    """A hashable, JSON-stable key of the condition without its seed (all its seeds share it)."""
    return json.dumps(list(setting_of(condition).values()))


@dataclass(frozen=True)
class Pair:
    """A paired comparison an experiment declares at plan time: setting a against setting b (a - b), each with all
    its seeds, on their common test set."""

    question: str  # what it asks, e.g. "mixed vs real only"
    a: dict[str, Any]  # setting_of(Condition)
    b: dict[str, Any]


@dataclass(frozen=True)
class StatisticsSettings:
    """How the evidence was computed (kept in results.json, said in the report)."""

    resamples: int = 10_000
    seed: int = 0  # the bootstrap's seed: the same study gives the same intervals
    level: float = 0.95
    power: float = 0.8
    alpha: float = 0.05


@dataclass(frozen=True)
class MetricInterval:
    estimate: float | None  # mean over seeds
    low: float | None  # None (with the record's reason): no interval
    high: float | None


@dataclass(frozen=True)
class ConditionIntervals:
    """One condition (all its seeds on one test set): the interval of each metric, or why there is none."""

    name: str  # how the report names it, e.g. "mixed: 0.5 real only"
    setting: dict[str, Any]
    test_set: str | None  # the test set's identity (statistics.Evaluation.test_set); None: unknown
    seeds: list[int]
    n_clips: int | None
    n_groups: int | None
    grouped: bool | None  # False: the data names no groups, each clip counted as its own
    metrics: dict[str, MetricInterval]  # INTERVAL_METRICS
    reason: str | None = None  # why there is no interval (then every metric's low/high is None)


@dataclass(frozen=True)
class ComparisonRecord:
    """One declared pair on one metric: a - b with its paired interval, p-values and the detectable size; or,
    with `reason`, why it was refused or could not be computed."""

    question: str
    experiment: str
    name_a: str
    name_b: str
    setting_a: dict[str, Any]
    setting_b: dict[str, Any]
    metric: str
    test_set: str | None
    estimate_a: float | None = None
    estimate_b: float | None = None
    difference: float | None = None
    low: float | None = None
    high: float | None = None
    p_value: float | None = None
    p_holm: float | None = None  # Holm-adjusted over every comparison of the report
    detectable: float | None = None  # smallest difference this pair detects with 80% power at the 5% level
    below_detectable: bool | None = None  # |difference| < detectable: this test set cannot tell
    n_seeds: int | None = None
    n_clips: int | None = None
    n_groups: int | None = None
    grouped: bool | None = None
    reason: str | None = None

    def supported(self, alpha: float = 0.05) -> bool:
        return self.p_holm is not None and self.p_holm < alpha


@dataclass(frozen=True)
class TestSetPower:
    """A test set's smallest detectable accuracy difference (80% power, 5% level) at its number of groups."""

    test_set: str
    name: str  # e.g. "tones test split, noise at 0 dB SNR"
    n_clips: int
    n_groups: int
    grouped: bool
    detectable: float | None  # median over the conditions tested on it; None: too few groups
    lowest: float | None  # the range over those conditions
    highest: float | None
    conditions: int
    reason: str | None = None


@dataclass(frozen=True)
class PromptExamples:
    """What one prompt strategy gave one set of classes: a few prompts per class, from a pool's prompts.json."""

    labels_from: str  # the dataset or label set whose classes the pool generated
    domain: str
    prompts: str  # the study's name of the prompt strategy (its `prompts:` entry)
    strategy: str  # label, llm or caption
    source: str  # where the prompts come from: a template, a descriptor file, an LLM
    examples: dict[str, list[str]]  # class -> its first few distinct prompts, in clip order
    # speech, where the prompt file says so: descriptors the voice realises (used) and those it cannot (left out)
    applied: dict[str, list[str]] = field(default_factory=dict)
    ignored: dict[str, list[str]] = field(default_factory=dict)


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
    # the evidence (synthaudio.report.evidence); statistics None: made before intervals were computed
    statistics: dict[str, Any] | None = None  # StatisticsSettings as a dict
    intervals: list[dict[str, Any]] = field(default_factory=list)  # ConditionIntervals as dicts
    comparisons: list[dict[str, Any]] = field(default_factory=list)  # ComparisonRecord as dicts
    power: list[dict[str, Any]] = field(default_factory=list)  # TestSetPower as dicts
    # the HTML report's clips (synthaudio.study.gallery): paths relative to the study folder, else absolute
    gallery: dict[str, Any] = field(default_factory=dict)
    # per class, condition and embedding: synthetic-vs-real distances (synthaudio.study.domain_gap)
    domain_gap: list[dict[str, Any]] = field(default_factory=list)
    # per adaptive experiment run, round and class: clips added, validation F1 measured before, LLM rewrites
    # (synthaudio.study.adaptive)
    allocations: list[dict[str, Any]] = field(default_factory=list)
    # what each prompt strategy of the study's pools wrote, per class (synthaudio.study.prompt_examples)
    prompt_examples: list[PromptExamples] = field(default_factory=list)

    def __post_init__(self) -> None:
        # read back from results.json as plain dicts
        self.prompt_examples = [item if isinstance(item, PromptExamples) else PromptExamples(**item)
                                for item in self.prompt_examples]

    @property
    def optimistic(self) -> bool:
        return self.protocol == "paper"

    def save(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(asdict(self), indent=1, ensure_ascii=False, allow_nan=False) + "\n")

    @classmethod
    def load(cls, path: Path) -> "StudyResults":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))
