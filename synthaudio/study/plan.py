"""The plan of a study: a graph of stages, each keyed by its inputs, and the results that the report reads.

A `Stage` becomes a `Job` (plain, picklable data) when it runs, so an executor can run it anywhere that sees the
output folder. The `Planner` adds stages once per key: two experiments that need the same training run (e.g. the
zero-shot run that the class filter reads) share it.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthaudio.secrets import redact_config
from synthaudio.study.cache import is_done, stage_folder, stage_key

# Order in which stage kinds are shown (and, within one dependency level, run).
KIND_ORDER = ("prepare", "prompts", "pool", "derived_pool", "subset", "real_subset", "train", "evaluate",
              "class_filter", "clip_filter")


@dataclass(frozen=True)
class Job:
    """One stage to run: everything its runner needs, as plain data."""

    kind: str
    key: str
    folder: str
    inputs: dict[str, Any]
    params: dict[str, Any]
    size: int | None
    title: str


@dataclass
class Stage:
    kind: str
    key: str
    inputs: dict[str, Any]
    params: dict[str, Any]
    deps: tuple[str, ...]
    title: str
    folder: Path
    size: int | None = None  # growing stages (generation pools): clips per class wanted
    distributable: bool = False  # worth sending to a remote worker (training, evaluation)

    def done(self) -> bool:
        return is_done(self.folder, self.size)

    def job(self) -> Job:
        return Job(self.kind, self.key, str(self.folder), self.inputs, self.params, self.size, self.title)


@dataclass(frozen=True)
class Data:
    """A manifest a stage reads: where it is, what identifies its content, and the stage that writes it."""

    path: Path
    identity: str  # an upstream stage key, or the sha256 of a user's file
    stage: str | None = None  # key of the stage that writes it (None: it exists already)

    @property
    def deps(self) -> tuple[str, ...]:
        return () if self.stage is None else (self.stage,)


@dataclass
class ResultSpec:
    """One evaluation the report shows, with the columns that say what it measured."""

    evaluation: str  # key of the evaluate stage
    training: str  # key of the train stage
    columns: dict[str, Any]
    pools: tuple[str, ...] = ()  # keys of the generation pools its synthetic data comes from


@dataclass
class Plan:
    stages: dict[str, Stage] = field(default_factory=dict)
    results: list[ResultSpec] = field(default_factory=list)
    filters: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (filter stage key, columns)
    datasets: dict[str, Any] = field(default_factory=dict)  # name -> PreparedInfo
    notes: list[str] = field(default_factory=list)

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
        return [sorted(grouped[level], key=_display_order) for level in sorted(grouped)]

    def ordered(self) -> list[Stage]:
        return [stage for level in self.levels() for stage in level]


def _display_order(stage: Stage) -> tuple:
    rank = KIND_ORDER.index(stage.kind) if stage.kind in KIND_ORDER else len(KIND_ORDER)
    return rank, stage.title


class Planner:
    """Builds a Plan: `add` returns the stage for a kind and inputs, creating it only once."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.plan = Plan()

    def add(self, kind: str, inputs: dict[str, Any], params: dict[str, Any], deps: tuple[str, ...] | list[str],
            title: str, size: int | None = None, distributable: bool = False) -> Stage:
        inputs = redact_config(inputs)  # credentials in an endpoint URL neither enter the key nor inputs.json
        key = stage_key(kind, inputs)
        stage = self.plan.stages.get(key)
        if stage is None:
            unknown = [dep for dep in deps if dep not in self.plan.stages]
            assert not unknown, f"{kind} stage depends on stages not in the plan: {unknown}"
            stage = Stage(kind, key, inputs, params, tuple(dict.fromkeys(deps)), title,
                          stage_folder(self.out, kind, key), size, distributable)
            self.plan.stages[key] = stage
        elif size is not None and (stage.size is None or size > stage.size):
            stage.size = size  # a pool shared by several experiments is generated up to the largest ask
            stage.title = title
        return stage

    def result(self, evaluation: Stage, training: Stage, columns: dict[str, Any], pools: tuple[str, ...] = ()
               ) -> None:
        self.plan.results.append(ResultSpec(evaluation.key, training.key, columns, pools))
