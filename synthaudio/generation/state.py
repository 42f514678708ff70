"""What a generation folder already holds, made consistent after a crash, and the append-only manifest.

Invariant: a manifest row exists only for a complete WAV (the WAV is renamed into place first, then its row is
appended with one write + fsync). After a SIGKILL the folder can hold stale temporaries, a torn last manifest
line, or a WAV without its row; `recover_finished` removes the first two and reports finished clips, so the run
redoes exactly the clips without a row.
"""

import os
from pathlib import Path

from synthaudio.errors import ConfigError
from synthaudio.fsutil import STORAGE_ERRNOS, remove_stale_temporaries, storage_error
from synthaudio.generation.jobs import ClipJob
from synthaudio.generation.work import RunSettings
from synthaudio.manifest import Clip, clip_to_json, read_manifest, write_manifest

MANIFEST = "manifest.jsonl"


def drop_torn_tail(manifest: Path) -> bool:
    """Cut a last line without its newline (a row whose write was interrupted); True if one was cut."""
    size = manifest.stat().st_size
    if size == 0:
        return False
    with open(manifest, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return False
        end = size
        keep = 0
        while end > 0:  # scan backwards for the last complete line, a block at a time
            start = max(0, end - 65536)
            handle.seek(start)
            newline = handle.read(end - start).rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
    os.truncate(manifest, keep)
    return True


def recover_finished(out_dir: Path) -> dict[str, Clip]:
    """Clips whose row and file both exist, by id, after cleaning up what a killed run left behind."""
    remove_stale_temporaries(out_dir)
    manifest = out_dir / MANIFEST
    if not manifest.exists():
        return {}
    drop_torn_tail(manifest)
    clips = read_manifest(manifest, check_files=False)
    present = [clip for clip in clips if os.path.isfile(clip.path)]
    if len(present) != len(clips):  # rows whose WAV was deleted by hand: redo those clips
        write_manifest(manifest, present)
    return {clip.id: clip for clip in present}


def check_own_manifest(out_dir: Path, jobs: list[ClipJob]) -> dict[str, Clip]:
    """Refuse, before anything in the folder changes, a manifest that `generate` did not write for this plan.

    A dataset's own manifest (real rows, or rows of another prompt file) would otherwise be rewritten: its rows
    without files dropped and the run's rows appended. Returns the rows already there by id (files unchecked).
    """
    manifest = out_dir / MANIFEST
    if not manifest.is_file():
        return {}
    planned_labels = {job.label for job in jobs}
    rows: dict[str, Clip] = {}
    lines = manifest.read_bytes().split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip() or (number == len(lines)):  # the last piece has no newline: a torn row, cut later
            continue
        try:
            clip = Clip.model_validate_json(line)
        except ValueError:
            raise ConfigError(f"{manifest}:{number}: not a row written by `synthaudio generate`; this folder holds "
                              f"another manifest: choose another --out") from None
        if clip.source != "synthetic":
            raise ConfigError(f"{manifest}: holds {clip.source} clips (line {number}, '{clip.id}'), not one written "
                              f"by `synthaudio generate`; choose another --out, nothing was changed")
        if clip.label not in planned_labels:  # more clips of a planned label: a larger run of the same plan
            raise ConfigError(f"{manifest}: holds clip '{clip.id}' (line {number}) of label '{clip.label}', which "
                              f"this prompt file does not have: it was written by another generation run; choose "
                              f"another --out, or delete the folder to start over")
        rows[clip.id] = clip
    return rows


def provenance_of(clip: Clip) -> dict:
    return {"generator": clip.generator, "checkpoint": clip.checkpoint, "prompt": clip.prompt, "seed": clip.seed,
            "duration": clip.duration, "sample_rate": clip.sample_rate, "settings": clip.meta.get("settings")}


def check_same_run(out_dir: Path, finished: dict[str, Clip], jobs: list[ClipJob], settings: RunSettings,
                   checkpoint: str, generator_settings: dict) -> None:
    """Refuse to mix clips of different runs in one folder: a finished clip of the plan must have been made with
    this run's generator, checkpoint, prompt, seed, duration, rate and settings."""
    for job in jobs:
        clip = finished.get(job.id)
        if clip is None:
            continue
        wanted = {"generator": settings.generator, "checkpoint": checkpoint, "prompt": job.prompt, "seed": job.seed,
                  "duration": float(settings.duration), "sample_rate": settings.sample_rate,
                  "settings": generator_settings}
        for name, value in provenance_of(clip).items():
            if value != wanted[name]:
                raise ConfigError(f"{out_dir}: clip '{job.id}' was made with {name}={value!r} but this run asks "
                                  f"{name}={wanted[name]!r}; choose another --out, or delete the folder to start over")


class ManifestAppender:
    """Appends one row per finished clip: a single write of the whole line, then fsync."""

    def __init__(self, out_dir: Path):
        self.base = out_dir.resolve()
        self.fd = os.open(out_dir / MANIFEST, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # less the umask

    def append(self, clip: Clip) -> None:
        data = (clip_to_json(clip, self.base) + "\n").encode("utf-8")
        try:
            written = os.write(self.fd, data)
            while written < len(data):  # a regular file takes it whole; keep the line complete if it ever does not
                written += os.write(self.fd, data[written:])
            os.fsync(self.fd)
        except OSError as error:
            if error.errno in STORAGE_ERRNOS:  # a torn row is cut by the next run (drop_torn_tail)
                raise storage_error(self.base / MANIFEST, error) from None
            raise

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> "ManifestAppender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
