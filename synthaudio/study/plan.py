"""The plan of a study: a graph of stages, each one typed object that knows its cache key and how to run.

A stage kind is a frozen dataclass subclassing `StageSpec` (see synthaudio.study.stages): its fields are
everything it needs to run, `identity()` is what decides its output (the cache key hashes it), `run()` writes its
outputs. A `Stage` is a spec placed in the plan (key, folder, dependencies, title); a `StageJob` is what an
executor runs (plain, picklable data: the spec travels with it, so it can run anywhere that sees the output
folder). The `Planner` adds stages once per key: two experiments that need the same training run share it.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthaudio.report.results import Condition, Pair, setting_key, setting_of
from synthaudio.study.cache import is_done, stage_folder, stage_key
from synthaudio.study.stages import StageSpec, stage_identity


@dataclass(frozen=True)
class StageJob:
    """One stage to run: its spec and where it writes."""

    spec: StageSpec
    key: str
    folder: str
    out: str  # the study's output folder
    size: int | None
    title: str

    @property
    def kind(self) -> str:
        return self.spec.kind


@dataclass
class Stage:
    spec: StageSpec
    key: str
    deps: tuple[str, ...]
    title: str
    folder: Path
    out: Path
    size: int | None = None  # growing stages (generation pools): clips per class wanted

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def distributable(self) -> bool:
        """Worth sending to a remote worker (training, evaluation)."""
        return self.spec.distributable

    def done(self) -> bool:
        return is_done(self.folder, self.size)

    def job(self) -> StageJob:
        return StageJob(self.spec, self.key, str(self.folder), str(self.out), self.size, self.title)


@dataclass(frozen=True)
class Data:
    """A manifest a stage reads: where it is, what identifies its content, and the stage that writes it."""

    path: Path
    identity: str  # an upstream stage key, or the sha256 of a user's file
    stage: str | None = None  # key of the stage that writes it (None: it exists already)

    @property
    def deps(self) -> tuple[str, ...]:
        return () if self.stage is None else (self.stage,)


@dataclass(frozen=True)
class StageRef:
    """An upstream stage a spec reads from: its key (identity) and folder (where its outputs are)."""

    key: str
    folder: Path

    @classmethod
    def of(cls, stage: Stage) -> "StageRef":
        return cls(stage.key, stage.folder)


@dataclass
class PreparedInfo:
    """What the plan needs to know about a prepared real dataset (read from its prepare stage's done.json)."""

    name: str
    stage: str  # key of the prepare stage
    manifest: Path
    identity: str  # sha256 of the prepared manifest ("pending:<key>" before it is prepared)
    labels: list[str]
    splits: dict[str, int]
    test_label_counts: dict[str, int]
    extras: dict[str, Path]
    extra_identities: dict[str, str]
    ready: bool

    def data(self) -> Data:
        return Data(self.manifest, self.identity, self.stage)

    def extra(self, name: str) -> Data:
        return Data(self.extras[name], self.extra_identities[name], self.stage)


@dataclass
class Synthetic:
    """A synthetic subset: its training manifest, its held-out validation manifest (if any), its pools."""

    train: Data
    val: Data | None
    pools: tuple[str, ...]


@dataclass(frozen=True)
class PoolUse:
    """What the study file calls the classes and prompts of a generation pool (the report's prompt examples)."""

    labels_from: str  # a dataset or a label set
    prompts: str  # a `prompts:` entry


@dataclass
class ResultSpec:
    """One evaluation the report shows, with the condition that says what it measured."""

    evaluation: str  # key of the evaluate stage
    training: str  # key of the train stage
    condition: Condition
    pools: tuple[str, ...] = ()  # keys of the generation pools its synthetic data comes from


@dataclass
class Plan:
    stages: dict[str, Stage] = field(default_factory=dict)
    results: list[ResultSpec] = field(default_factory=list)
    filters: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (filter stage key, columns)
    datasets: dict[str, PreparedInfo] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    comparisons: list[Pair] = field(default_factory=list)  # the paired comparisons the experiments declared
    allocations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (allocate stage key, columns)
    pool_uses: dict[str, PoolUse] = field(default_factory=dict)  # pool stage key -> its first use's names

    def levels(self) -> list[list[Stage]]:
        """Stages grouped by dependency depth: every stage of a level depends only on earlier levels."""
        depth: dict[str, int] = {}

        def level_of(key: str) -> int:
            if key not in depth:
                stage = self.stages[key]
                depth[key] = 1 + max((level_of(dep) for dep in stage.deps), default=-1)
            return depth[key]

        grouped: dict[int, list[Stage]] = {}
        for key in self.stages:
            grouped.setdefault(level_of(key), []).append(self.stages[key])
        return [sorted(grouped[level], key=lambda stage: (stage.spec.rank, stage.title)) for level in sorted(grouped)]

    def ordered(self) -> list[Stage]:
        return [stage for level in self.levels() for stage in level]


class Planner:
    """Builds a Plan: `add` returns the stage for a spec, creating it only once per key."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.plan = Plan()

    def add(self, spec: StageSpec, deps: tuple[str, ...] | list[str], title: str, size: int | None = None) -> Stage:
        key = stage_key(spec.kind, stage_identity(spec))
        stage = self.plan.stages.get(key)
        if stage is None:
            unknown = [dep for dep in deps if dep not in self.plan.stages]
            assert not unknown, f"{spec.kind} stage depends on stages not in the plan: {unknown}"
            stage = Stage(spec, key, tuple(dict.fromkeys(deps)), title, stage_folder(self.out, spec.kind, key),
                          self.out, size)
            self.plan.stages[key] = stage
        elif size is not None and (stage.size is None or size > stage.size):
            stage.size = size  # a pool shared by several experiments is generated up to the largest ask
            stage.title = title
        return stage

    def result(self, evaluation: Stage, training: Stage, condition: Condition, pools: tuple[str, ...] = ()) -> None:
        self.plan.results.append(ResultSpec(evaluation.key, training.key, condition, pools))

    def compare(self, a: Condition, b: Condition, question: str) -> None:
        """Declare the paired comparison a - b of two settings (their seeds are ignored: all seeds of each are
        paired by seed value); declaring it again (e.g. once per seed) adds nothing."""
        if setting_key(a) == setting_key(b):
            raise ValueError(f"a comparison needs two different conditions, got {setting_of(a)} twice")
        declared = {(setting_key(pair.a), setting_key(pair.b)) for pair in self.plan.comparisons}
        if (setting_key(a), setting_key(b)) not in declared:
            self.plan.comparisons.append(Pair(question, setting_of(a), setting_of(b)))
