"""Executors run the independent stages of one step of a study; the driver reads their results from files.

`local` runs them one after another in this process. Another executor (Ray, issue 8) implements the same
`run(jobs)`: it may run jobs anywhere that sees the output folder, in any order, and yields each finished job
with its done record; stages not marked `distributable` are best run where the driver is.
"""

import importlib
from collections.abc import Iterable, Iterator
from typing import Protocol

from synthaudio.errors import ConfigError
from synthaudio.study.plan import Job
from synthaudio.study.stages import run_job


class Executor(Protocol):
    name: str

    def run(self, jobs: Iterable[Job], distributable: frozenset[str] = frozenset()) -> Iterator[tuple[Job, dict]]:
        """Run every job (those whose key is in `distributable` may go to remote workers); yield each as it ends."""
        ...

    def close(self) -> None: ...


class LocalExecutor:
    """Every stage in this process, in the order given; the first failure stops the study (rerun resumes)."""

    name = "local"

    def run(self, jobs: Iterable[Job], distributable: frozenset[str] = frozenset()) -> Iterator[tuple[Job, dict]]:
        for job in jobs:
            yield job, run_job(job)

    def close(self) -> None:
        pass


EXECUTORS: dict[str, str] = {"local": "synthaudio.study.executor:LocalExecutor",
                             "ray": "synthaudio.study.ray_executor:RayStudyExecutor"}


def check_executor(name: str) -> str:
    """`name` if it is a known executor, else ConfigError listing them (without starting anything)."""
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor '{name}'; known executors: {', '.join(EXECUTORS)}")
    return name


def make_executor(name: str, **options) -> Executor:
    check_executor(name)
    module, attribute = EXECUTORS[name].split(":")
    return getattr(importlib.import_module(module), attribute)(**options)
