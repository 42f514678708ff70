"""Executors run the per-batch work and hand finished clips back to the driver, which owns the manifest.

`local` runs in this process with one model. A distributed executor (Ray actors, issue 8) implements the same
`run(batches) -> iterator of finished clips per batch`, each worker calling `make_generator`, `generate_batch`
and `write_clip`; results may come back in any order.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from synthaudio.engine.plan import Job
from synthaudio.engine.work import RunSettings, generate_batch, make_generator, write_clip
from synthaudio.errors import ConfigError
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


class LocalExecutor:
    """One generator in this process; batches one after another."""

    def __init__(self, settings: RunSettings, out_dir: Path):
        self.settings = settings
        self.out_dir = out_dir
        self.generator = make_generator(settings)

    def run(self, batches: Iterable[Batch]) -> Iterator[list[Clip]]:
        for batch in batches:
            pairs = generate_batch(self.generator, batch.jobs, self.settings)
            yield [write_clip(self.out_dir, job, waveform, self.settings)
                   for job, waveform in pairs if job.id in batch.pending]

    def close(self) -> None:
        self.generator = None


EXECUTORS = {"local": LocalExecutor}


def make_executor(name: str, settings: RunSettings, out_dir: Path) -> Executor:
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor '{name}'; known executors: {', '.join(EXECUTORS)}")
    return EXECUTORS[name](settings, out_dir)
