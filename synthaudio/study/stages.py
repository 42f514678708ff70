"""The stage contract: a stage kind is one typed object that knows its identity (cache key) and how to run.

A kind subclasses `StageSpec` as a frozen dataclass whose fields are everything it needs to run (upstream data
as `Data`/`StageRef`, settings as plain values). `identity()` returns what decides its output: upstream stages by
their keys, user files by their content hashes, never paths or credentials; the cache key is the hash of it.
`run(where)` writes the stage's outputs into `where.folder` and returns a small JSON record, which becomes the
stage's done.json. Adding a stage kind is adding one such class next to the code that plans it.
"""

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from synthaudio.secrets import redact_config
from synthaudio.study.cache import begin_stage, discard_damaged, mark_done


@dataclass(frozen=True)
class StageRun:
    """Where and for what a stage runs."""

    folder: Path  # the stage's own folder (OUT/stages/<kind>/<key16>)
    out: Path  # the study's output folder: manifests written under it store paths relative to themselves
    size: int | None  # growing stages: clips per class wanted
    title: str


class StageSpec(ABC):
    """A stage kind. Subclasses are frozen dataclasses and set `kind` and `rank` (display order)."""

    kind: ClassVar[str]
    rank: ClassVar[int]
    distributable: ClassVar[bool] = False  # worth sending to a remote worker (training and evaluation runs)

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """Everything that decides the stage's output, as JSON-ready data (hashed into the stage key)."""

    @abstractmethod
    def run(self, where: StageRun) -> dict[str, Any]:
        """Write the stage's outputs into where.folder; returns the record kept in done.json."""


def stage_identity(spec: StageSpec) -> dict[str, Any]:
    """The spec's identity with credentials removed (an API key in an endpoint URL), as hashed and recorded: the
    key of a stage does not change with a credential, and inputs.json never holds one."""
    return redact_config(spec.identity())


def run_job(job) -> dict:
    """Run one stage job (synthaudio.study.plan.StageJob) and mark it done; returns its done record. A failure
    leaves no done marker, so a rerun redoes (or, for generation, resumes) the stage."""
    started = time.monotonic()
    discard_damaged(job.folder)
    begin_stage(job.folder, job.kind, job.key, stage_identity(job.spec))
    record = job.spec.run(StageRun(Path(job.folder), Path(job.out), job.size, job.title))
    record = {"kind": job.kind, "key": job.key, "title": job.title, "size": job.size,
              "seconds": round(time.monotonic() - started, 3), **record}
    mark_done(job.folder, record)
    return record
