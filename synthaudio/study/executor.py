"""Stage executors run the independent stages of one step of a study; the driver reads their results from files.

`local` runs them one after another in this process. Another executor (`ray`, synthaudio.study.ray_executor)
implements the same `run(jobs)`: it may run jobs anywhere that sees the output folder, in any order, and yields
each finished job with its done record; stages that are not distributable are best run where the driver is.
Executors are chosen by name from synthaudio.study.registries.EXECUTORS.
"""

from collections.abc import Iterable, Iterator
from typing import Protocol

from synthaudio.study.plan import StageJob
from synthaudio.study.registries import EXECUTORS
from synthaudio.study.stages import run_job


class StageExecutor(Protocol):
    name: str

    def run(self, jobs: Iterable[StageJob], distributable: frozenset[str] = frozenset()
            ) -> Iterator[tuple[StageJob, dict]]:
        """Run every job (those whose key is in `distributable` may go to remote workers); yield each as it ends."""
        ...

    def close(self) -> None: ...


class LocalStageExecutor:
    """Every stage in this process, in the order given; the first failure stops the study (rerun resumes)."""

    name = "local"

    def run(self, jobs: Iterable[StageJob], distributable: frozenset[str] = frozenset()
            ) -> Iterator[tuple[StageJob, dict]]:
        for job in jobs:
            yield job, run_job(job)

    def close(self) -> None:
        pass


def check_executor(name: str) -> str:
    """`name` if it is a known executor, else ConfigError listing them (without starting anything)."""
    return EXECUTORS.check(name)


def make_executor(name: str, **options) -> StageExecutor:
    return EXECUTORS.load(name)(**options)
