"""The generation driver: prompts.json -> plan -> shard -> skip finished -> batches -> executor -> manifest rows.

Memory stays flat in the number of clips: waveforms live for one batch; only the small job list and the ids of
finished clips are held. A second run on the same folder is refused while the first holds its lock.
"""

import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from synthaudio.errors import ConfigError
from synthaudio.fsutil import exclusive_run
from synthaudio.generation.audiofolder import write_metadata_csv
from synthaudio.generation.executors import Batch, make_executor
from synthaudio.generation.jobs import batches_of, parse_shard, plan_jobs, shard_batches
from synthaudio.generation.state import (
    MANIFEST,
    ManifestAppender,
    check_own_manifest,
    check_same_run,
    recover_finished,
)
from synthaudio.generation.work import RunSettings
from synthaudio.generators import generator_class
from synthaudio.manifest import read_manifest
from synthaudio.prompts.promptfile import read_prompts


@dataclass
class RunSummary:
    out_dir: Path
    planned: int  # clips in this shard
    written: int
    skipped: int  # already finished by an earlier run
    load_seconds: float = 0.0
    generate_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def clips_per_second(self) -> float:
        return self.written / self.generate_seconds if self.generate_seconds > 0 else 0.0

    @property
    def manifest(self) -> Path:
        return self.out_dir / MANIFEST


def _progress(total: int, description: str, enabled: bool):
    from tqdm import tqdm

    interactive = sys.stderr.isatty()
    return tqdm(total=total, unit="clip", desc=description, disable=not enabled, file=sys.stderr,
                mininterval=0.5 if interactive else 10.0, dynamic_ncols=interactive, smoothing=0.1)


def run_generation(prompts: Path | str, out_dir: Path | str, settings: RunSettings, shard: str | None = None,
                   negative_prompt: str | None = None, executor: str = "local",
                   executor_options: dict[str, Any] | None = None, progress: bool = True,
                   limits: dict[str, int] | None = None) -> RunSummary:
    """Generate every clip of `prompts` (or of one shard) into `out_dir`, resuming where an earlier run stopped.

    Args:
        settings: what makes the audio; its open fields (None) are filled in: the checkpoint with the backend's
            default, the seed and strategy with the prompt file's. Backend settings that are None mean the default.
        shard: "I/N": only shard I of N (whole batches).
        negative_prompt: overrides the prompt file's; refused for generators without negative prompts.
        executor_options: the executor's own options, e.g. {"address": "auto", "workers": 8} for "ray".
        limits: label -> how many of its first clips to make (labels not named: all); for uneven per-class
            allocations. Batches are still cut from the whole plan, so a clip comes out the same whatever the limits.
    """
    prompt_set = read_prompts(prompts)
    if settings.duration <= 0 or settings.sample_rate <= 0:
        raise ConfigError(f"--duration {settings.duration} and --sample-rate {settings.sample_rate} must both be "
                          f"positive")
    generator = settings.generator
    backend = generator_class(generator)
    given = {key: value for key, value in settings.generator_settings.items() if value is not None}
    generator_settings = backend.validate_settings(given).model_dump(mode="json")
    checkpoint = settings.checkpoint or backend.default_checkpoint
    notes = []
    if negative_prompt is not None and not backend.supports_negative_prompt:
        raise ConfigError(f"generator '{generator}' takes no negative prompt; leave --negative-prompt out")
    if negative_prompt is None and prompt_set.negative_prompt:
        if backend.supports_negative_prompt:
            negative_prompt = prompt_set.negative_prompt
        else:
            notes.append(f"the prompt file's negative prompt is not used: {generator} takes none")
    run_settings = replace(settings, checkpoint=checkpoint, duration=float(settings.duration),
                           sample_rate=int(settings.sample_rate), batch_size=int(settings.batch_size),
                           seed=prompt_set.seed if settings.seed is None else int(settings.seed),
                           strategy=prompt_set.strategy, generator_settings=given)
    batch_size = run_settings.batch_size
    shard_index, shard_count = parse_shard(shard)
    out_dir = Path(out_dir)
    jobs = plan_jobs(prompt_set, out_dir, run_settings.seed, negative_prompt, source=str(prompts))
    # checked before the lock file, the clean-up or any row is touched: a folder that is not ours stays as it was
    check_same_run(out_dir, check_own_manifest(out_dir, jobs), jobs, run_settings, checkpoint, generator_settings)
    with exclusive_run(out_dir, "synthaudio generate"):
        batches = shard_batches(batches_of(jobs, batch_size), shard_index, shard_count)
        finished = recover_finished(out_dir)
        planned = [job for batch in batches for job in batch]
        check_same_run(out_dir, finished, planned, run_settings, checkpoint, generator_settings)
        if limits is not None:
            planned = [job for job in planned if job.index < limits.get(job.label, job.index + 1)]
        wanted = {job.id for job in planned}
        todo = [Batch(batch, frozenset(job.id for job in batch if job.id in wanted and job.id not in finished))
                for batch in batches]
        todo = [batch for batch in todo if batch.pending]
        summary = RunSummary(out_dir=out_dir, planned=len(planned), written=0,
                             skipped=len(planned) - sum(len(batch.pending) for batch in todo), notes=notes)
        try:
            if todo:
                _execute(todo, run_settings, out_dir, executor, summary, progress, executor_options or {})
        finally:  # keep metadata.csv in step with the manifest, even when a batch failed
            manifest = out_dir / MANIFEST
            write_metadata_csv(out_dir, read_manifest(manifest, check_files=False) if manifest.exists() else [])
    return summary


def _execute(todo: list[Batch], settings: RunSettings, out_dir: Path, executor_name: str, summary: RunSummary,
             progress: bool, executor_options: dict[str, Any]) -> None:
    started = time.monotonic()
    executor = make_executor(executor_name, settings, out_dir, **executor_options)
    summary.load_seconds = time.monotonic() - started
    started = time.monotonic()
    try:
        with ManifestAppender(out_dir) as appender, \
                _progress(sum(len(batch.pending) for batch in todo), f"{settings.generator}", progress) as bar:
            for clips in executor.run(todo):
                for clip in clips:
                    appender.append(clip)  # only now, with its WAV complete on disk, does the clip count as done
                summary.written += len(clips)
                bar.update(len(clips))
    finally:
        summary.generate_seconds = time.monotonic() - started
        executor.close()
