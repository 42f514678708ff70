"""Batch executors run the per-batch work and hand finished clips back to the driver, which owns the manifest.

`local` runs in this process with one model. A distributed executor (`ray`: one model per Ray actor) implements
the same `run(batches) -> iterator of finished clips per batch`, each worker calling `make_generator`,
`generate_batch` and `write_clip`; results may come back in any order.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from synthaudio.errors import ConfigError
from synthaudio.generation.jobs import ClipJob
from synthaudio.generation.work import RunSettings, generate_batch, make_generator, write_clip
from synthaudio.generators import Generator
from synthaudio.manifest import Clip
from synthaudio.registry import Registry


@dataclass(frozen=True)
class Batch:
    """A batch of the plan and which of its clips still have to be written (the others are generated anyway, so
    that every clip sees the same batch neighbours as in an uninterrupted run)."""

    jobs: list[ClipJob]
    pending: frozenset[str]


class BatchExecutor(Protocol):
    def run(self, batches: Iterable[Batch]) -> Iterator[list[Clip]]: ...

    def close(self) -> None: ...


def run_batch(generator: Generator, batch: Batch, settings: RunSettings, out_dir: Path) -> list[Clip]:
    """Generate the whole batch, write its pending clips; their manifest rows (what every executor does)."""
    pairs = generate_batch(generator, batch.jobs, settings)
    return [write_clip(out_dir, job, waveform, settings) for job, waveform in pairs if job.id in batch.pending]


class LocalBatchExecutor:
    """One generator in this process; batches one after another, with `settings.threads` torch threads if given
    (torch's own choice otherwise; the caller's setting is restored by `close`)."""

    def __init__(self, settings: RunSettings, out_dir: Path):
        self.settings = settings
        self.out_dir = out_dir
        self.caller_threads = torch.get_num_threads()
        if settings.threads is not None:
            torch.set_num_threads(settings.threads)
        self.generator = make_generator(settings)

    def run(self, batches: Iterable[Batch]) -> Iterator[list[Clip]]:
        for batch in batches:
            yield run_batch(self.generator, batch, self.settings, self.out_dir)

    def close(self) -> None:
        self.generator = None
        torch.set_num_threads(self.caller_threads)


# the executor classes by name, imported when asked for (Ray is an optional extra)
EXECUTORS: Registry[type[BatchExecutor]] = Registry("executor", None, {
    "local": "synthaudio.generation.executors:LocalBatchExecutor",
    "ray": "synthaudio.generation.ray_executor:RayBatchExecutor",
})


def make_executor(name: str, settings: RunSettings, out_dir: Path, **options) -> BatchExecutor:
    """The executor `name`, given its own options (such as the Ray executor's address and workers)."""
    EXECUTORS.check(name)
    if options and name == "local":
        given = ", ".join(f"--{option.replace('_', '-')}" for option in sorted(options))
        raise ConfigError(f"{given}: options of a distributed executor; add --executor ray or leave them out")
    return EXECUTORS.load(name)(settings, out_dir, **options)
