"""Clip manifests: JSON Lines, one clip per line, paths relative to the manifest's folder (or absolute).

In memory, `Clip.path` is always absolute; `write_manifest` makes it relative again where the file lies under
the manifest's folder, so a dataset folder can be moved with its manifest.
"""

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from synthaudio.errors import ManifestError, field_problem
from synthaudio.fsutil import atomic_write

Split = Literal["train", "val", "test"]
Source = Literal["real", "synthetic"]
SYNTHETIC_FIELDS = ("generator", "checkpoint", "prompt", "strategy", "seed")


class Clip(BaseModel):
    """One clip: a whole file, or the segment [offset, offset + duration) of it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: str = Field(min_length=1)
    path: str = Field(min_length=1)
    label: str = Field(min_length=1)
    split: Split
    fold: int | None
    source: Source
    duration: float = Field(gt=0, description="seconds of audio this clip covers")
    sample_rate: int = Field(gt=0, description="native sample rate of the file")
    offset: float = Field(default=0.0, ge=0, description="start of the clip in the file, seconds")
    group: str | None = Field(default=None, min_length=1,
                              description="speaker, source recording or video the clip comes from; clips of one "
                                          "group are not independent (None: the clip is its own group)")
    # provenance of synthetic clips
    generator: str | None = None
    checkpoint: str | None = None
    prompt: str | None = None
    strategy: str | None = None
    seed: int | None = None
    random_weights: bool = Field(default=False, description="made by a randomly initialised model: noise")
    meta: dict[str, Any] = Field(default_factory=dict, description="further provenance (speaker, voice, ...)")

    @model_validator(mode="after")
    def _synthetic_has_provenance(self) -> "Clip":
        if self.source == "synthetic":
            missing = [name for name in SYNTHETIC_FIELDS if getattr(self, name) is None]
            if missing:
                raise ValueError(f"synthetic clip lacks provenance field(s): {', '.join(missing)}")
        return self


def _describe(error: ValidationError) -> str:
    problem = field_problem(error)
    field = problem.field or "row"
    if problem.kind == "missing":
        return f"missing field '{field}'"
    if problem.kind == "unknown":
        return f"unknown field '{field}' (allowed: {', '.join(Clip.model_fields)})"
    return f"field '{field}': {problem.message}"


def read_manifest(path: Path | str, check_files: bool = True) -> list[Clip]:
    """Read and validate every row; the first problem raises ManifestError naming the manifest and line."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    base = path.parent.resolve()
    clips: list[Clip] = []
    seen: dict[str, int] = {}
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ManifestError(f"{where}: not UTF-8 text; a manifest is JSON Lines in UTF-8") from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ManifestError(f"{where}: not valid JSON ({error.msg}); each line must be one JSON object") \
                    from None
            if not isinstance(row, dict):
                raise ManifestError(f"{where}: expected a JSON object, got {type(row).__name__}")
            try:
                clip = Clip.model_validate(row)
            except ValidationError as error:
                raise ManifestError(f"{where}: {_describe(error)}") from None
            if clip.id in seen:
                raise ManifestError(f"{where}: duplicate id '{clip.id}' (first on line {seen[clip.id]})")
            seen[clip.id] = number
            absolute = clip.path if os.path.isabs(clip.path) else os.path.normpath(base / clip.path)
            if check_files and not os.path.isfile(absolute):
                raise ManifestError(f"{where}: file not found: {absolute} (clip '{clip.id}')")
            clips.append(clip.model_copy(update={"path": absolute}))
    return clips


def clip_to_row(clip: Clip, base: Path, root: Path | None = None) -> dict[str, Any]:
    """The JSON row for `clip`, its path relative to `base` where the file lies under `root` (default: `base`),
    so that `root` can be moved as a whole."""
    row = clip.model_dump(exclude_defaults=True)  # 'fold' has no default, so it is always written
    path = Path(clip.path)
    if path.is_absolute():
        resolved = path.resolve()
        if resolved.is_relative_to(root if root is not None else base):
            row["path"] = Path(os.path.relpath(resolved, base)).as_posix()
    return row


def clip_to_json(clip: Clip, base: Path, root: Path | None = None) -> str:
    return json.dumps(clip_to_row(clip, base, root), ensure_ascii=False)


def write_manifest(path: Path | str, clips: Iterable[Clip], root: Path | str | None = None) -> int:
    """Write clips atomically (all or nothing); returns the number of rows.

    Paths of files under the manifest's folder are written relative to it; with `root` (a folder holding the
    manifest, e.g. a study's output folder), so are the paths of every file under `root`, with `..` where needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = path.parent.resolve()
    root = None if root is None else Path(root).resolve()
    count = 0
    seen: set[str] = set()
    with atomic_write(path) as handle:
        for clip in clips:
            if clip.id in seen:
                raise ManifestError(f"{path}: refusing to write duplicate id '{clip.id}'")
            seen.add(clip.id)
            handle.write(clip_to_json(clip, base, root) + "\n")
            count += 1
    return count


def merge_manifests(manifests: Iterable[Path | str], out: Path | str) -> int:
    """Write the rows of every manifest into `out` (paths re-based on its folder); a repeated id is an error
    naming both manifests, and nothing is written."""
    clips: list[Clip] = []
    origin: dict[str, Path] = {}
    for manifest in manifests:
        for clip in read_manifest(manifest):
            if clip.id in origin:
                raise ManifestError(f"{manifest}: id '{clip.id}' is also in {origin[clip.id]}; merged manifests "
                                    "need distinct ids (were the same clips generated twice?)")
            origin[clip.id] = Path(manifest)
            clips.append(clip)
    return write_manifest(out, clips)


def select(clips: Iterable[Clip], split: str | None = None, source: str | None = None) -> list[Clip]:
    return [c for c in clips if (split is None or c.split == split) and (source is None or c.source == source)]


def labels_of(clips: Iterable[Clip]) -> list[str]:
    """Sorted distinct labels."""
    return sorted({clip.label for clip in clips})


def manifest_stats(clips: list[Clip]) -> dict[str, Any]:
    """Clips per label, split and source, and total hours."""
    import pandas as pd

    if not clips:
        return {"clips": 0, "hours": 0.0, "labels": 0, "table": pd.DataFrame()}
    frame = pd.DataFrame([{"label": c.label, "split": c.split, "source": c.source, "duration": c.duration}
                          for c in clips])
    table = frame.pivot_table(index="label", columns=["source", "split"], values="duration", aggfunc="count",
                              fill_value=0)
    return {"clips": len(clips), "hours": float(frame["duration"].sum()) / 3600.0,
            "labels": frame["label"].nunique(), "table": table}
