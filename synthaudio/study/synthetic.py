"""Synthetic-data stages: prompts, generation pools, derived (post-processed) pools and nested subsets.

A pool is keyed by its labels, prompt strategy, generator settings and generation seed, NOT by its size: clip i of
a label always has prompt i and seed derive(seed, label, i) (see synthaudio.study.prompting), so one pool serves
every clips_per_class, is generated up to the largest one asked for, and grows (the engine resumes) when a larger
one is asked later. Experiments read nested subsets (the first N clips of each label).
"""

import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthaudio.audio import band_limit, load_audio_native, write_wav
from synthaudio.errors import ConfigError, SynthaudioError
from synthaudio.fsutil import file_sha256
from synthaudio.generation import RunSettings, run_generation
from synthaudio.manifest import Clip, read_manifest, write_manifest
from synthaudio.prompts.promptfile import write_prompts
from synthaudio.seeding import derive_seed
from synthaudio.splits import stratified_split
from synthaudio.study.plan import Data, Planner, PoolUse, StageRef, Synthetic
from synthaudio.study.prompting import build_pool_prompts, needs_llm_stage, write_prompt_material
from synthaudio.study.schema import GeneratorEntry, PromptsEntry, StudyConfig
from synthaudio.study.stages import StageRun, StageSpec

POOL_FOLDER = "clips"
POOL_MANIFEST = f"{POOL_FOLDER}/manifest.jsonl"


def _prompts_identity(entry: PromptsEntry) -> dict:
    """The prompt settings as they decide the prompts: a descriptor file by its content, not its path."""
    identity = entry.model_dump(mode="json")
    if entry.descriptors is not None:
        if not Path(entry.descriptors).is_file():
            raise ConfigError(f"{entry.descriptors}: descriptor file not found")
        identity["descriptors"] = file_sha256(entry.descriptors)
    return identity


# ---------------------------------------------------------------- stage kinds

@dataclass(frozen=True)
class PromptsStage(StageSpec):
    """LLM work that a pool's prompts are built from: descriptor lists (llm) or N captions per label (caption)."""

    kind = "prompts"
    rank = 1
    labels: list[str]
    domain: str
    prompts: PromptsEntry
    prompts_identity: dict[str, Any]
    seed: int

    def identity(self) -> dict:
        return {"labels": self.labels, "domain": self.domain, "prompts": self.prompts_identity, "seed": self.seed}

    def run(self, where: StageRun) -> dict:
        return write_prompt_material(self.labels, self.domain, self.prompts, self.seed, where.folder)


@dataclass(frozen=True)
class PoolStage(StageSpec):
    """Generate (or complete) a pool up to where.size clips per label."""

    kind = "pool"
    rank = 2
    distributable = True  # a model per worker: on a Ray cluster, pools generate on the workers' GPUs
    labels: list[str]
    domain: str
    prompts: PromptsEntry
    prompts_identity: dict[str, Any]
    seed: int
    prompt_stage: StageRef | None
    generation: GeneratorEntry

    def identity(self) -> dict:
        # where it runs (device) and what is done to it afterwards (postprocess) do not change the clips
        return {"labels": self.labels, "domain": self.domain, "prompts": self.prompts_identity, "seed": self.seed,
                "prompt_stage": None if self.prompt_stage is None else self.prompt_stage.key,
                "generation": self.generation.model_dump(mode="json", exclude={"postprocess", "device"})}

    def run(self, where: StageRun) -> dict:
        folder, size, generation = where.folder, where.size, self.generation
        prompt_set = build_pool_prompts(self.labels, self.domain, self.prompts, self.seed,
                                        None if self.prompt_stage is None else self.prompt_stage.folder, size)
        write_prompts(folder / "prompts.json", prompt_set)
        settings = RunSettings(generation.generator, generation.checkpoint, generation.duration,
                               generation.sample_rate, generation.batch_size, self.seed,
                               generator_settings=generation.settings, device=generation.device,
                               dtype=generation.dtype)
        summary = run_generation(folder / "prompts.json", folder / POOL_FOLDER, settings, progress=sys.stderr.isatty())
        clips = _first_per_label(read_manifest(folder / POOL_MANIFEST), size, self.labels, folder / POOL_MANIFEST)
        return {"size": size, "manifest": POOL_MANIFEST, "clips": len(clips), "written_now": summary.written,
                "generator": generation.generator, "checkpoint": clips[0].checkpoint,
                "random_weights": any(clip.random_weights for clip in clips), "notes": summary.notes}


@dataclass(frozen=True)
class DerivedPoolStage(StageSpec):
    """Post-process the first where.size clips per label of a pool into this stage's folder (done ones are kept)."""

    kind = "derived_pool"
    rank = 3
    distributable = True
    pool: StageRef
    postprocess: dict[str, Any]

    def identity(self) -> dict:
        return {"pool": self.pool.key, "postprocess": self.postprocess}

    def run(self, where: StageRun) -> dict:
        folder, size = where.folder, where.size
        pool = Path(self.pool.folder)
        source = read_manifest(pool / POOL_MANIFEST)
        labels = sorted({clip.label for clip in source})
        derived = []
        for clip in _first_per_label(source, size, labels, pool / POOL_MANIFEST):
            target = folder / POOL_FOLDER / Path(clip.path).resolve().relative_to((pool / POOL_FOLDER).resolve())
            if not target.is_file():  # WAVs are written atomically: one that exists is complete
                samples, rate = load_audio_native(clip.path)
                write_wav(target, band_limit(samples, rate, 2 * self.postprocess["band_limit_hz"]), rate)
            meta = {**clip.meta, "postprocess": self.postprocess,
                    "derived_from": Path(clip.path).resolve().relative_to(where.out.resolve()).as_posix()}
            derived.append(clip.model_copy(update={"path": str(target.resolve()), "meta": meta}))
        write_manifest(folder / POOL_MANIFEST, derived)
        return {"size": size, "manifest": POOL_MANIFEST, "clips": len(derived),
                "random_weights": any(clip.random_weights for clip in derived)}


@dataclass(frozen=True)
class SubsetStage(StageSpec):
    """The first N clips per label of a pool (train.jsonl), and a seeded stratified held-out part (val.jsonl)."""

    kind = "subset"
    rank = 4
    pool: StageRef
    clips_per_class: int
    holdout_fraction: float | None
    holdout_seed: int | None

    def identity(self) -> dict:
        return {"pool": self.pool.key, "clips_per_class": self.clips_per_class,
                "holdout_fraction": self.holdout_fraction, "holdout_seed": self.holdout_seed}

    def run(self, where: StageRun) -> dict:
        folder = where.folder
        manifest = Path(self.pool.folder) / POOL_MANIFEST
        clips = read_manifest(manifest)
        labels = sorted({clip.label for clip in clips})
        chosen = _first_per_label(clips, self.clips_per_class, labels, manifest)
        val: list[Clip] = []
        if self.holdout_fraction:
            if self.clips_per_class < 2:
                raise ConfigError(f"a synthetic hold-out needs at least 2 clips per class, got "
                                  f"{self.clips_per_class}")
            fraction = self.holdout_fraction
            names = stratified_split([c.label for c in chosen], {"train": 1 - fraction, "val": fraction},
                                     self.holdout_seed)
            val = [c.model_copy(update={"split": "val"}) for c, name in zip(chosen, names, strict=True)
                   if name == "val"]
            chosen = [c for c, name in zip(chosen, names, strict=True) if name == "train"]
        chosen = [c.model_copy(update={"split": "train"}) for c in chosen]
        write_manifest(folder / "train.jsonl", chosen, root=where.out)
        record = {"train": len(chosen), "per_class": dict(sorted(Counter(c.label for c in chosen).items()))}
        if self.holdout_fraction:
            write_manifest(folder / "val.jsonl", val, root=where.out)
            record["val"] = len(val)
        return record


# ---------------------------------------------------------------- planning

def plan_subset(config: StudyConfig, planner: Planner, labels: list[str], domain: str, labels_from: str,
                generator: str, prompts: str, clips_per_class: int, seed: int, holdout_fraction: float | None,
                dependency: str | None) -> Synthetic:
    """Stages for the first `clips_per_class` clips per label of a pool; see StudyContext.synthetic."""
    generator_entry = config.generators[generator]
    prompts_entry = config.prompts[prompts]
    deps = (dependency,) if dependency else ()
    prompts_identity = _prompts_identity(prompts_entry)
    described = f"{labels_from} by {generator}/{prompts}"
    prompt_stage = None
    if needs_llm_stage(prompts_entry):
        prompt_stage = planner.add(PromptsStage(labels, domain, prompts_entry, prompts_identity, seed), deps,
                                   f"prompts {prompts} for {labels_from}")
        deps = deps + (prompt_stage.key,)
    pool = planner.add(PoolStage(labels, domain, prompts_entry, prompts_identity, seed,
                                 None if prompt_stage is None else StageRef.of(prompt_stage), generator_entry),
                       deps, f"generate {described}", size=clips_per_class)
    planner.plan.pool_uses.setdefault(pool.key, PoolUse(labels_from, prompts))
    source = pool
    if generator_entry.postprocess is not None:
        postprocess = generator_entry.postprocess.model_dump(mode="json")
        source = planner.add(DerivedPoolStage(StageRef.of(pool), postprocess), (pool.key,),
                             f"post-process {described} ({_describe(postprocess)})", size=clips_per_class)
    holdout_seed = derive_seed(seed, "synthetic-holdout") if holdout_fraction else None
    subset = planner.add(SubsetStage(StageRef.of(source), clips_per_class, holdout_fraction, holdout_seed),
                         (source.key,), f"{clips_per_class} clips/class of {described}")
    val = Data(subset.folder / "val.jsonl", subset.key + ":val", subset.key) if holdout_fraction else None
    return Synthetic(Data(subset.folder / "train.jsonl", subset.key, subset.key), val, (pool.key,))


def _describe(postprocess: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in postprocess.items())


def clip_index(clip: Clip, manifest: Path) -> int:
    """The clip's position in its label's prompt list (the engine records it)."""
    index = clip.meta.get("index")
    if not isinstance(index, int):
        raise SynthaudioError(f"{manifest}: clip '{clip.id}' has no meta.index; it was not written by "
                              f"`synthaudio generate`, so a study cannot take nested subsets of it")
    return index


def _first_per_label(clips: list[Clip], size: int, labels: list[str], manifest: Path) -> list[Clip]:
    """Clips 0..size-1 of every label, in label then index order; an error when one is missing."""
    by_label: dict[str, dict[int, Clip]] = defaultdict(dict)
    for clip in clips:
        by_label[clip.label][clip_index(clip, manifest)] = clip
    chosen = []
    for label in labels:
        missing = [i for i in range(size) if i not in by_label[label]]
        if missing:
            raise SynthaudioError(f"{manifest}: label '{label}' lacks clip(s) {missing[:5]} of the {size} asked for; "
                                  f"rerun the study to finish generating")
        chosen += [by_label[label][i] for i in range(size)]
    return chosen
