"""The per-batch work, as plain functions an executor (local, or a Ray actor) can call:
`generate_batch` runs the model on a batch of jobs, `write_clip` post-processes one waveform and writes it
atomically. Planning, resuming and the manifest stay with the driver.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthaudio.audio import band_limit, fix_length, peak_normalize, resample, write_wav
from synthaudio.errors import AudioError
from synthaudio.generation.jobs import ClipJob
from synthaudio.generators import GenerationRequest, Generator, get_generator
from synthaudio.manifest import Clip


@dataclass(frozen=True)
class RunSettings:
    """Everything that decides the audio of a run (picklable, so a remote worker can rebuild the generator).

    What a caller gives `run_generation`; it fills in what is left open (None): the checkpoint (the backend's
    default), the seed and the strategy (the prompt file's).
    """

    generator: str
    checkpoint: str | None = None
    duration: float = 5.0  # seconds per clip
    sample_rate: int = 16000  # of the written WAVs
    batch_size: int = 8  # prompts per model call
    seed: int | None = None  # the study seed each clip's seed derives from, with its label and index
    strategy: str | None = None
    generator_settings: dict[str, Any] = field(default_factory=dict)  # backend settings (steps, guidance_scale...)
    device: str | None = None
    dtype: str | None = None
    band_limit_hz: int | None = None
    peak_dbfs: float = -1.0
    # torch's intra-op threads while generating (None: torch's default here; a Ray worker's CPUs there). The float
    # sums of a model can round differently with another thread count, which may move a sample by one 16-bit step.
    threads: int | None = None


@dataclass
class Waveform:
    """A generated clip before post-processing, with what made it."""

    samples: np.ndarray
    sample_rate: int
    meta: dict[str, Any]
    provenance: dict[str, Any]


def make_generator(settings: RunSettings) -> Generator:
    return get_generator(settings.generator, settings.checkpoint, settings.device, settings.dtype,
                         **settings.generator_settings)


def generate_batch(generator: Generator, jobs: list[ClipJob], settings: RunSettings) -> list[tuple[ClipJob, Waveform]]:
    """Generate every job of the batch in one model call; (job, waveform at the native rate) in job order."""
    requests = [GenerationRequest(prompt=job.prompt, seed=job.seed, duration=settings.duration,
                                  negative_prompt=job.negative_prompt) for job in jobs]
    results = generator.generate_with_meta(requests)
    if len(results) != len(jobs):
        raise RuntimeError(f"generator '{generator.name}' returned {len(results)} clips for {len(jobs)} prompts")
    provenance = generator.provenance()
    return [(job, Waveform(samples, generator.native_sample_rate, meta, provenance))
            for job, (samples, meta) in zip(jobs, results, strict=True)]


def postprocess(samples: np.ndarray, native_rate: int, settings: RunSettings) -> np.ndarray:
    """Mono float32 at the target rate (soxr), optionally band-limited, cut or padded to the duration, peaked."""
    audio = resample(np.asarray(samples, dtype=np.float32), native_rate, settings.sample_rate)
    if settings.band_limit_hz:
        audio = band_limit(audio, settings.sample_rate, 2 * settings.band_limit_hz)
    audio = fix_length(audio, int(round(settings.duration * settings.sample_rate)))
    return peak_normalize(audio, settings.peak_dbfs)


def write_clip(out_dir: Path | str, job: ClipJob, waveform: Waveform, settings: RunSettings) -> Clip:
    """Post-process and atomically write one clip; returns its manifest row (written by the driver)."""
    path = Path(out_dir) / job.relpath
    if not np.isfinite(waveform.samples).all():
        dtype = waveform.provenance.get("dtype")
        raise AudioError(path, f"generator '{settings.generator}' produced NaN/Inf samples for clip '{job.id}' "
                               f"(dtype {dtype}); rerun with --dtype float32 (or bfloat16 on a GPU)")
    write_wav(path, postprocess(waveform.samples, waveform.sample_rate, settings), settings.sample_rate)
    provenance = waveform.provenance
    meta: dict[str, Any] = {
        "index": job.index, "settings": provenance["settings"], "negative_prompt": job.negative_prompt,
        "base_seed": settings.seed, "batch_size": settings.batch_size, "device": provenance["device"],
        "native_sample_rate": waveform.sample_rate, "peak_dbfs": settings.peak_dbfs,
        "band_limit_hz": settings.band_limit_hz, "versions": provenance["versions"]}
    for optional in ("dtype", "seeding"):
        if optional in provenance:
            meta[optional] = provenance[optional]
    if waveform.meta:
        meta["controls"] = waveform.meta
    return Clip(id=job.id, path=str(path.resolve()), label=job.label, split="train", fold=None, source="synthetic",
                duration=float(settings.duration), sample_rate=settings.sample_rate, generator=settings.generator,
                checkpoint=provenance["checkpoint"], prompt=job.prompt, strategy=settings.strategy, seed=job.seed,
                random_weights=bool(provenance["random_weights"]), meta=meta)
