"""Real-data stages: prepare a dataset (recipe or given manifest, optionally restricted to some labels), and
take seeded, stratified fractions of its training split."""

import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthaudio.datasets import get_recipe, prepare_dataset
from synthaudio.errors import ConfigError
from synthaudio.fsutil import file_sha256
from synthaudio.manifest import read_manifest, select, write_manifest
from synthaudio.splits import stratified_subset
from synthaudio.study.cache import read_done
from synthaudio.study.plan import Data, Planner, PreparedInfo, Stage
from synthaudio.study.schema import DatasetEntry, StudyConfig
from synthaudio.study.stages import StageRun, StageSpec

MANIFEST = "manifest.jsonl"


def dataset_fingerprint(root: Path) -> str:
    """sha256 of (relative path, size, modification time) of every file under `root`: changes when a file is
    added, removed or replaced, without reading any audio."""
    entries = []
    for folder, folders, files in os.walk(root):
        folders.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except OSError:  # a dangling link: the recipe will say what is wrong with it
                continue
            relative = os.path.relpath(path, root).encode("utf-8", "surrogateescape")
            entries.append(b"%s\0%d\0%d" % (relative, stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256(b"\n".join(entries)).hexdigest()


@dataclass(frozen=True)
class PrepareStage(StageSpec):
    """A dataset's manifest: a recipe over its official layout (keyed by the files' sizes and times), or a given
    manifest (keyed by its content), restricted to `labels` when given."""

    kind = "prepare"
    rank = 0
    name: str
    labels: list[str] | None
    labels_field: str  # where the study file restricts the labels, for messages
    recipe: str | None = None
    root: Path | None = None
    options: dict[str, Any] | None = None
    seed: int = 0
    files: str | None = None  # dataset_fingerprint(root)
    manifest: Path | None = None
    extra_manifests: dict[str, Path] | None = None

    def identity(self) -> dict:
        if self.recipe is not None:
            return {"recipe": self.recipe, "root": str(self.root), "options": self.options, "seed": self.seed,
                    "labels": self.labels, "files": self.files}
        return {"manifest": file_sha256(self.manifest), "labels": self.labels,
                "extras": {k: file_sha256(v) for k, v in (self.extra_manifests or {}).items()}}

    def run(self, where: StageRun) -> dict:
        folder = where.folder
        problems: list[str] = []
        excluded: dict[str, int] = {}
        if self.recipe is not None:
            prepared = prepare_dataset(self.recipe, self.root, seed=self.seed, **self.options)
            clips, extras = prepared.clips, prepared.extra
            problems = [f"{problem.path}: {problem.reason}" for problem in prepared.problems]
            excluded = dict(prepared.excluded)
        else:
            clips = read_manifest(self.manifest)
            extras = {name: read_manifest(path) for name, path in (self.extra_manifests or {}).items()}
        if self.labels is not None:
            present = {clip.label for clip in clips}
            missing = [label for label in self.labels if label not in present]
            if missing:
                raise ConfigError(f"{self.labels_field}: {', '.join(repr(m) for m in missing)} not a label of "
                                  f"dataset '{self.name}' (its labels: {', '.join(sorted(present))})")
            clips = [clip for clip in clips if clip.label in set(self.labels)]
        write_manifest(folder / MANIFEST, clips)
        extra_records = {}
        for extra, extra_clips in extras.items():
            name = f"manifest.{extra}.jsonl"
            write_manifest(folder / name, extra_clips)
            extra_records[extra] = {"file": name, "sha256": file_sha256(folder / name), "clips": len(extra_clips)}
        splits = Counter(clip.split for clip in clips)
        return {"sha256": file_sha256(folder / MANIFEST), "labels": sorted({clip.label for clip in clips}),
                "splits": {split: splits[split] for split in ("train", "val", "test")},
                "test_label_counts": dict(sorted(Counter(c.label for c in select(clips, split="test")).items())),
                "extras": extra_records, "problems": problems, "excluded": excluded}


@dataclass(frozen=True)
class RealSubsetStage(StageSpec):
    """A seeded, stratified fraction of a dataset's training split."""

    kind = "real_subset"
    rank = 5
    data: Data
    fraction: float
    seed: int

    def identity(self) -> dict:
        return {"data": self.data.identity, "fraction": self.fraction, "seed": self.seed}

    def run(self, where: StageRun) -> dict:
        train = select(read_manifest(self.data.path), split="train")
        if not train:
            raise ConfigError(f"{self.data.path}: no training rows to take a fraction of")
        kept = [train[i] for i in stratified_subset([clip.label for clip in train], self.fraction, self.seed)]
        write_manifest(where.folder / "train.jsonl", kept, root=where.out)
        return {"clips": len(kept), "of": len(train),
                "per_class": dict(sorted(Counter(c.label for c in kept).items()))}


def recipe_options_problem(entry: DatasetEntry) -> tuple[str, str] | None:
    """(option, message) for a recipe option the recipe does not take."""
    accepted = [name for name in get_recipe(entry.recipe).options() if name != "seed"]
    for option in entry.options:
        if option not in accepted:
            return option, f"the {entry.recipe} recipe has no option '{option}' (its options: {', '.join(accepted)})"
    return None


def plan_preparation(config: StudyConfig, planner: Planner) -> dict[str, Stage]:
    """One prepare stage per dataset, keyed by recipe, root, options, label restriction and the size and time of
    every file under the root (or by the manifest's content)."""
    stages = {}
    for name, entry in config.datasets.items():
        loc = ("datasets", name)
        labels = config.labels_of(name)
        if entry.recipe is not None:
            problem = recipe_options_problem(entry)
            if problem is not None:
                raise config.error(loc + ("options", problem[0]), problem[1])
            files = dataset_fingerprint(entry.root) if entry.root.is_dir() else None
            spec = PrepareStage(name, labels, config.where(*loc, "labels"), recipe=entry.recipe, root=entry.root,
                                options=entry.options, seed=entry.seed, files=files)
        else:
            paths = {"manifest": entry.manifest, **{f"extra.{k}": v for k, v in entry.extra_manifests.items()}}
            for field, path in paths.items():
                if not path.is_file():
                    where = loc + (("manifest",) if field == "manifest" else ("extra_manifests", field[6:]))
                    raise config.error(where, f"manifest not found: {path}")
            spec = PrepareStage(name, labels, config.where(*loc, "labels"), manifest=entry.manifest,
                                extra_manifests=dict(entry.extra_manifests))
        stages[name] = planner.add(spec, (), f"prepare {name}")
    return stages


def prepared_info(config: StudyConfig, name: str, stage: Stage) -> PreparedInfo:
    """What the plan needs about a prepared dataset; placeholders (ready=False) before it is prepared."""
    done = read_done(stage.folder) if stage.done() else None
    if done is None:
        labels = sorted(config.labels_of(name) or [f"<labels of {name}>"])
        return PreparedInfo(name, stage.key, stage.folder / MANIFEST, f"pending:{stage.key}", labels, {}, {}, {},
                            {}, ready=False)
    extras = {extra: stage.folder / record["file"] for extra, record in done["extras"].items()}
    return PreparedInfo(name, stage.key, stage.folder / MANIFEST, done["sha256"], done["labels"], done["splits"],
                        done["test_label_counts"], extras,
                        {extra: record["sha256"] for extra, record in done["extras"].items()}, ready=True)
