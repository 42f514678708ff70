"""Synthetic-data stages: prompts, generation pools, derived (post-processed) pools, nested subsets and merged
subsets.

A pool is keyed by its labels, prompt strategy, generator settings and generation seed, NOT by its size: clip i of
a label always has prompt i and seed derive(seed, label, i) (see synthaudio.study.prompting), so one pool serves
every clips_per_class, is generated up to the largest one asked for, and grows (the engine resumes) when a larger
one is asked later. Experiments read nested subsets (the first N clips of each label).

A merged generator (generators.<name>.merge) is read as the union of its members' subsets at a fixed total: N
clips per class take the first n_i clips per label of member i's own pool, the n_i being the weights' shares of N
(`merge_shares`), so the merged runs reuse the clips the single-generator runs generate.
"""

import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
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
from synthaudio.study.allocation import largest_remainder
from synthaudio.study.plan import Data, Planner, PoolUse, Stage, StageRef, Synthetic
from synthaudio.study.prompting import build_pool_prompts, needs_llm_stage, write_prompt_material
from synthaudio.study.schema import GeneratorEntry, MergedGeneratorEntry, PromptsEntry, StudyConfig
from synthaudio.study.stages import StageRun, StageSpec

POOL_FOLDER = "clips"
POOL_MANIFEST = f"{POOL_FOLDER}/manifest.jsonl"


def prompts_identity(entry: PromptsEntry) -> dict:
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
        summary = run_generation(folder / "prompts.json", folder / POOL_FOLDER, run_settings(generation, self.seed),
                                 progress=sys.stderr.isatty())
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
        derived = [derived_clip(clip, pool / POOL_FOLDER, folder / POOL_FOLDER, self.postprocess, where.out)
                   for clip in _first_per_label(source, size, labels, pool / POOL_MANIFEST)]
        write_manifest(folder / POOL_MANIFEST, derived)
        return {"size": size, "manifest": POOL_MANIFEST, "clips": len(derived),
                "random_weights": any(clip.random_weights for clip in derived)}


def run_settings(generation: GeneratorEntry, seed: int) -> RunSettings:
    """The generation engine's settings for a study's generator entry and a pool's seed."""
    return RunSettings(generation.generator, generation.checkpoint, generation.duration, generation.sample_rate,
                       generation.batch_size, seed, generator_settings=generation.settings, device=generation.device,
                       dtype=generation.dtype)


def derived_clip(clip: Clip, source_folder: Path, target_folder: Path, postprocess: dict[str, Any], out: Path) -> Clip:
    """`clip` post-processed into `target_folder` at its path relative to `source_folder`; a target that exists is
    complete (WAVs are written atomically), so an interrupted derivation resumes."""
    target = target_folder / Path(clip.path).resolve().relative_to(source_folder.resolve())
    if not target.is_file():
        samples, rate = load_audio_native(clip.path)
        write_wav(target, band_limit(samples, rate, 2 * postprocess["band_limit_hz"]), rate)
    meta = {**clip.meta, "postprocess": postprocess,
            "derived_from": Path(clip.path).resolve().relative_to(out.resolve()).as_posix()}
    return clip.model_copy(update={"path": str(target.resolve()), "meta": meta})


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
        manifest = Path(self.pool.folder) / POOL_MANIFEST
        clips = read_manifest(manifest)
        labels = sorted({clip.label for clip in clips})
        chosen = _first_per_label(clips, self.clips_per_class, labels, manifest)
        return _write_subset(chosen, self.clips_per_class, self.holdout_fraction, self.holdout_seed, where)[0]


def _write_subset(chosen: list[Clip], clips_per_class: int, holdout_fraction: float | None, holdout_seed: int | None,
                  where: StageRun) -> tuple[dict, dict[str, list[Clip]]]:
    """train.jsonl of `chosen`, less a seeded stratified held-out part written as val.jsonl; returns (the counts
    for the done record, the clips written per part)."""
    folder = where.folder
    val: list[Clip] = []
    if holdout_fraction:
        if clips_per_class < 2:
            raise ConfigError(f"a synthetic hold-out needs at least 2 clips per class, got {clips_per_class}")
        names = stratified_split([c.label for c in chosen], {"train": 1 - holdout_fraction, "val": holdout_fraction},
                                 holdout_seed)
        val = [c.model_copy(update={"split": "val"}) for c, name in zip(chosen, names, strict=True) if name == "val"]
        chosen = [c for c, name in zip(chosen, names, strict=True) if name == "train"]
    chosen = [c.model_copy(update={"split": "train"}) for c in chosen]
    write_manifest(folder / "train.jsonl", chosen, root=where.out)
    record = {"train": len(chosen), "per_class": dict(sorted(Counter(c.label for c in chosen).items()))}
    parts = {"train": chosen}
    if holdout_fraction:
        write_manifest(folder / "val.jsonl", val, root=where.out)
        record["val"] = len(val)
        parts["val"] = val
    return record, parts


@dataclass(frozen=True)
class MergedMember:
    """One member of a merged subset: its generator entry's name and its subset of `clips_per_class` per label."""

    generator: str
    subset: Data
    clips_per_class: int


def merged_clip_id(generator: str, clip_id: str) -> str:
    """A member's clip in a merged manifest: ids repeat across pools ('seven-00000' in each), so the member's name
    keeps them apart."""
    return f"{generator}/{clip_id}"


@dataclass(frozen=True)
class MergedSubsetStage(StageSpec):
    """The members' subsets concatenated (train.jsonl), with a seeded stratified held-out part of the whole
    (val.jsonl) as SubsetStage makes; each row keeps its provenance, its id is prefixed with its member's name."""

    kind = "merged_subset"
    rank = 4
    members: tuple[MergedMember, ...]
    clips_per_class: int
    holdout_fraction: float | None
    holdout_seed: int | None

    def identity(self) -> dict:
        # the names are in the identity: they are written into the clip ids
        return {"members": [{"generator": m.generator, "subset": m.subset.identity, "clips_per_class":
                             m.clips_per_class} for m in self.members],
                "holdout_fraction": self.holdout_fraction, "holdout_seed": self.holdout_seed}

    def run(self, where: StageRun) -> dict:
        chosen: list[Clip] = []
        for member in self.members:
            clips = read_manifest(member.subset.path)
            counts = Counter(clip.label for clip in clips)
            wrong = sorted(label for label, count in counts.items() if count != member.clips_per_class)
            if wrong:  # the member's subset stage wrote exactly this many: anything else is a damaged cache
                raise SynthaudioError(f"{member.subset.path}: labels {', '.join(wrong)} do not have "
                                      f"{member.clips_per_class} clips each; delete that stage folder and rerun")
            meta = {"merged_from": member.generator}
            chosen += [clip.model_copy(update={"id": merged_clip_id(member.generator, clip.id),
                                               "meta": {**clip.meta, **meta}}) for clip in clips]
        chosen.sort(key=lambda clip: clip.label)  # stable: within a label, member order then clip order
        record, parts = _write_subset(chosen, self.clips_per_class, self.holdout_fraction, self.holdout_seed, where)
        record["members"] = {
            member.generator: {"clips_per_class": member.clips_per_class,
                               **{part: sum(clip.meta["merged_from"] == member.generator for clip in clips)
                                  for part, clips in parts.items()}}
            for member in self.members}
        return record


# ---------------------------------------------------------------- planning

def plan_subset(config: StudyConfig, planner: Planner, labels: list[str], domain: str, labels_from: str,
                generator: str, prompts: str, clips_per_class: int, seed: int, holdout_fraction: float | None,
                dependency: str | None) -> Synthetic:
    """Stages for the first `clips_per_class` clips per label of a pool (or, for a merged generator, of each
    member's pool, its share of them); see StudyContext.synthetic."""
    generator_entry = config.generators[generator]
    if isinstance(generator_entry, MergedGeneratorEntry):
        return _plan_merged(config, planner, labels, domain, labels_from, generator, prompts, clips_per_class, seed,
                            holdout_fraction, dependency)
    prompts_entry = config.prompts[prompts]
    deps = (dependency,) if dependency else ()
    identity = prompts_identity(prompts_entry)
    described = f"{labels_from} by {generator}/{prompts}"
    prompt_stage = plan_prompt_stage(planner, labels, domain, labels_from, prompts, prompts_entry, seed, deps)
    if prompt_stage is not None:
        deps = deps + (prompt_stage.key,)
    pool = planner.add(PoolStage(labels, domain, prompts_entry, identity, seed,
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


def plan_prompt_stage(planner: Planner, labels: list[str], domain: str, labels_from: str, prompts: str,
                      entry: PromptsEntry, seed: int, deps: tuple[str, ...]) -> Stage | None:
    """The prompts stage (LLM descriptors or captions) a pool's prompts are built from; None when the strategy
    asks no LLM."""
    if not needs_llm_stage(entry):
        return None
    return planner.add(PromptsStage(labels, domain, entry, prompts_identity(entry), seed), deps,
                       f"prompts {prompts} for {labels_from}")


def merge_shares(weights: Sequence[float], total: int) -> list[int]:
    """`total` split in proportion to `weights` by largest remainder (ties to the earlier member): the shares sum
    to `total`."""
    return list(largest_remainder({str(index): weight for index, weight in enumerate(weights)}, total).values())


MERGED_VS_SINGLE = "merged vs single generator at the same budget"


def merged_pairs(config: StudyConfig, generators: Sequence[str]) -> list[tuple[str, str]]:
    """(merged generator, member) for each merged generator of `generators` and each of its members listed there
    too: what an experiment compares as MERGED_VS_SINGLE (same prompts and clips per class)."""
    return [(name, member) for name in generators if isinstance(config.generators[name], MergedGeneratorEntry)
            for member in config.generators[name].merge if member in generators]


def _plan_merged(config: StudyConfig, planner: Planner, labels: list[str], domain: str, labels_from: str,
                 generator: str, prompts: str, clips_per_class: int, seed: int, holdout_fraction: float | None,
                 dependency: str | None) -> Synthetic:
    """The merged subset of a merged generator: each member's own subset of its share, concatenated."""
    entry: MergedGeneratorEntry = config.generators[generator]
    shares = merge_shares(entry.member_weights(), clips_per_class)
    members, pools, drawn_from = [], (), {}
    for member, share in zip(entry.merge, shares, strict=True):
        if share == 0:  # a small total and a small weight: this member adds nothing at this size
            continue
        synthetic = plan_subset(config, planner, labels, domain, labels_from, member, prompts, share, seed, None,
                                dependency)
        for pool in synthetic.pools:
            if pool in drawn_from:  # e.g. a generator and its band-limited copy: one set of generated clips
                raise config.error(("generators", generator, "merge"),
                                   f"'{drawn_from[pool]}' and '{member}' are the same generated clips (the same "
                                   f"generator settings, one perhaps post-processed), so the merge would train on "
                                   f"clips of one pool twice; merge generators that differ in what they generate")
            drawn_from[pool] = member
        members.append(MergedMember(member, synthetic.train, share))
        pools += synthetic.pools
    holdout_seed = derive_seed(seed, "synthetic-holdout") if holdout_fraction else None
    parts = " + ".join(f"{member.generator} {member.clips_per_class}" for member in members)
    merged = planner.add(MergedSubsetStage(tuple(members), clips_per_class, holdout_fraction, holdout_seed),
                         tuple(member.subset.stage for member in members),
                         f"{clips_per_class} clips/class of {labels_from} by {generator}/{prompts} = {parts}")
    # the report's rows name the merged generator only: its notes say what it is made of
    weights = ":".join(f"{weight:g}" for weight in entry.member_weights())
    note = (f"merged generator {generator} at {clips_per_class} clips/class = "
            f"{' + '.join(f'{member} {share}' for member, share in zip(entry.merge, shares, strict=True))} "
            f"(weights {weights}; the first clips per label of each member's own pool)")
    if note not in planner.plan.notes:
        planner.plan.notes.append(note)
    val = Data(merged.folder / "val.jsonl", merged.key + ":val", merged.key) if holdout_fraction else None
    return Synthetic(Data(merged.folder / "train.jsonl", merged.key, merged.key), val, pools)


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
