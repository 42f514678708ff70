"""Executors run the per-batch work and hand finished clips back to the driver, which owns the manifest.

`local` runs in this process with one model. A distributed executor (Ray actors, issue 8) implements the same
`run(batches) -> iterator of finished clips per batch`, each worker calling `make_generator`, `generate_batch`
and `write_clip`; results may come back in any order.
"""

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from synthaudio.engine.plan import Job
from synthaudio.engine.work import RunSettings, generate_batch, make_generator, write_clip
from synthaudio.errors import ConfigError
from synthaudio.generators import Generator
from synthaudio.manifest import Clip


@dataclass(frozen=True)
class Batch:
    """A batch of the plan and which of its clips still have to be written (the others are generated anyway, so
    that every clip sees the same batch neighbours as in an uninterrupted run)."""

    jobs: list[Job]
    pending: frozenset[str]


class Executor(Protocol):
    def run(self, batches: Iterable[Batch]) -> Iterator[list[Clip]]: ...

    def close(self) -> None: ...


def run_batch(generator: Generator, batch: Batch, settings: RunSettings, out_dir: Path) -> list[Clip]:
    """Generate the whole batch, write its pending clips; their manifest rows (what every executor does)."""
    pairs = generate_batch(generator, batch.jobs, settings)
    return [write_clip(out_dir, job, waveform, settings) for job, waveform in pairs if job.id in batch.pending]


class LocalExecutor:
    """One generator in this process; batches one after another."""

    def __init__(self, settings: RunSettings, out_dir: Path):
        self.settings = settings
        self.out_dir = out_dir
        self.generator = make_generator(settings)

    def run(self, batches: Iterable[Batch]) -> Iterator[list[Clip]]:
        for batch in batches:
            yield run_batch(self.generator, batch, self.settings, self.out_dir)

    def close(self) -> None:
        self.generator = None


# name -> executor class, or "module:Class" imported when asked for (Ray is an optional extra)
EXECUTORS: dict[str, type | str] = {"local": LocalExecutor, "ray": "synthaudio.engine.ray_executor:RayExecutor"}


def make_executor(name: str, settings: RunSettings, out_dir: Path, **options) -> Executor:
    """The executor `name`, given its own options (such as the Ray executor's address and workers)."""
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor '{name}'; known executors: {', '.join(EXECUTORS)}")
    factory = EXECUTORS[name]
    if options and name == "local":
        given = ", ".join(f"--{option.replace('_', '-')}" for option in sorted(options))
        raise ConfigError(f"{given}: options of a distributed executor; add --executor ray or leave them out")
    if isinstance(factory, str):
        module, attribute = factory.split(":")
        factory = getattr(importlib.import_module(module), attribute)
    return factory(settings, out_dir, **options)
