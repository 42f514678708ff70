"""The plan of a generation run: one job per clip, in a stable order, cut into fixed batches and shards.

Batches are cut from the whole plan (not from what is left to do), so a clip is always generated next to the same
neighbours: a resumed or sharded run makes byte-identical audio to an uninterrupted one with the same batch size,
even where a backend's numerics depend on the batch (text padding, batched matrix kernels).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from synthaudio.errors import ConfigError
from synthaudio.naming import child_path
from synthaudio.prompts.promptfile import PromptSet
from synthaudio.seeding import derive_seed


@dataclass(frozen=True)
class ClipJob:
    """One clip to make: where it goes and what makes it."""

    id: str
    label: str
    index: int
    prompt: str
    seed: int
    relpath: str  # POSIX path of the WAV relative to the output folder
    negative_prompt: str | None = None


def clip_id(label: str, index: int) -> str:
    return f"{label}-{index:05d}"


def plan_jobs(prompt_set: PromptSet, out_dir: Path | str, seed: int, negative_prompt: str | None = None,
              source: str = "prompts") -> list[ClipJob]:
    """Every clip of `prompt_set`, label by label in file order, each with its seed derived from (seed, label,
    index) and its file DIR/<safe label>/<safe id>.wav."""
    out_dir = Path(out_dir)
    jobs = []
    for label, prompts in prompt_set.prompts.items():
        if not label:  # whitespace or dots are sanitised into a name; an empty label cannot be a class
            raise ConfigError(f"{source}: a label is empty; give every class a name")
        for index, prompt in enumerate(prompts):
            identifier = clip_id(label, index)
            path = child_path(out_dir, label, identifier, suffix=".wav")
            jobs.append(ClipJob(id=identifier, label=label, index=index, prompt=prompt,
                            seed=derive_seed(seed, label, index), relpath=path.relative_to(out_dir).as_posix(),
                            negative_prompt=negative_prompt))
    return jobs


def parse_shard(text: str | None) -> tuple[int, int]:
    """(index, count) from 'I/N' with 0 <= I < N; (0, 1) for None."""
    if text is None:
        return 0, 1
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 0 <= int(match.group(1)) < int(match.group(2)):
        raise ConfigError(f"--shard {text}: expected I/N with 0 <= I < N, e.g. 0/4 for the first of four shards")
    return int(match.group(1)), int(match.group(2))


def batches_of(jobs: Sequence[ClipJob], batch_size: int) -> list[list[ClipJob]]:
    """Consecutive batches of `batch_size` jobs (the last may be shorter)."""
    if batch_size < 1:
        raise ConfigError(f"--batch-size {batch_size}: must be at least 1")
    return [list(jobs[start: start + batch_size]) for start in range(0, len(jobs), batch_size)]


def shard_batches(batches: Sequence[list[ClipJob]], index: int, count: int) -> list[list[ClipJob]]:
    """Shard `index` of `count`: a contiguous run of whole batches. The shards partition the plan, whatever the
    scheduler that runs them, and keep label runs together (one text encoding per batch for label prompts)."""
    start = len(batches) * index // count
    stop = len(batches) * (index + 1) // count
    return list(batches[start:stop])
