"""Synthetic-data stages: prompts, generation pools, derived (post-processed) pools and nested subsets.

A pool is keyed by its labels, prompt strategy, generator settings and generation seed, NOT by its size: clip i of
a label always has prompt i and seed derive(seed, label, i) (see synthaudio.study.prompting), so one pool serves
every clips_per_class, is generated up to the largest one asked for, and grows (the engine resumes) when a larger
one is asked later. Experiments read nested subsets (the first N clips of each label).
"""

import sys
from collections import Counter, defaultdict
from pathlib import Path

from synthaudio.errors import ConfigError, SynthaudioError
from synthaudio.feature_cache import file_sha256
from synthaudio.manifest import Clip, read_manifest, write_manifest
from synthaudio.seeding import derive_seed
from synthaudio.splits import stratified_split
from synthaudio.study.plan import Data, Job

POOL_FOLDER = "clips"
POOL_MANIFEST = f"{POOL_FOLDER}/manifest.jsonl"


def _prompts_identity(entry) -> dict:
    """The prompt settings as they decide the prompts: a descriptor file by its content, not its path."""
    identity = entry.model_dump(mode="json")
    if entry.descriptors is not None:
        if not Path(entry.descriptors).is_file():
            raise ConfigError(f"{entry.descriptors}: descriptor file not found")
        identity["descriptors"] = file_sha256(entry.descriptors)
    return identity


def plan_subset(ctx, labels: list[str], domain: str, labels_from: str, generator: str, prompts: str,
                clips_per_class: int, seed: int, holdout_fraction: float | None, dependency: str | None):
    """Stages for the first `clips_per_class` clips per label of a pool; see StudyContext.synthetic."""
    from synthaudio.study.context import Synthetic
    from synthaudio.study.prompting import needs_llm_stage

    planner = ctx.planner
    generator_entry = ctx.config.generators[generator]
    prompts_entry = ctx.config.prompts[prompts]
    deps = (dependency,) if dependency else ()
    prompt_identity = _prompts_identity(prompts_entry)
    described = f"{labels_from} by {generator}/{prompts}"
    prompt_stage = None
    if needs_llm_stage(prompts_entry):
        prompt_stage = planner.add(
            "prompts", {"labels": labels, "domain": domain, "prompts": prompt_identity, "seed": seed},
            {"labels": labels, "domain": domain, "prompts": prompts_entry.model_dump(mode="json"), "seed": seed},
            deps, f"prompts {prompts} for {labels_from}")
        deps = deps + (prompt_stage.key,)
    generation = generator_entry.model_dump(mode="json", exclude={"postprocess", "device"})
    pool = planner.add(
        "pool", {"labels": labels, "domain": domain, "prompts": prompt_identity, "seed": seed,
                 "prompt_stage": None if prompt_stage is None else prompt_stage.key, "generation": generation},
        {"labels": labels, "domain": domain, "prompts": prompts_entry.model_dump(mode="json"), "seed": seed,
         "prompt_folder": None if prompt_stage is None else str(prompt_stage.folder),
         "generation": generator_entry.model_dump(mode="json", exclude={"postprocess"})},
        deps, f"generate {described}", size=clips_per_class)
    source = pool
    if generator_entry.postprocess is not None:
        postprocess = generator_entry.postprocess.model_dump(mode="json")
        source = planner.add("derived_pool", {"pool": pool.key, "postprocess": postprocess},
                             {"pool": str(pool.folder), "postprocess": postprocess}, (pool.key,),
                             f"post-process {described} ({_describe(postprocess)})", size=clips_per_class)
    holdout_seed = derive_seed(seed, "synthetic-holdout") if holdout_fraction else None
    subset = planner.add(
        "subset", {"pool": source.key, "clips_per_class": clips_per_class, "holdout_fraction": holdout_fraction,
                   "holdout_seed": holdout_seed},
        {"pool": str(source.folder), "clips_per_class": clips_per_class, "holdout_fraction": holdout_fraction,
         "holdout_seed": holdout_seed}, (source.key,), f"{clips_per_class} clips/class of {described}")
    val = Data(subset.folder / "val.jsonl", subset.key + ":val", subset.key) if holdout_fraction else None
    return Synthetic(Data(subset.folder / "train.jsonl", subset.key, subset.key), val, (pool.key,))


def _describe(postprocess: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in postprocess.items())


# ---------------------------------------------------------------- runners

def run_prompts(job: Job) -> dict:
    """LLM work that a pool's prompts are built from: descriptor lists (llm) or N captions per label (caption)."""
    from synthaudio.study.prompting import write_prompt_material

    return write_prompt_material(job.params, Path(job.folder))


def run_pool(job: Job) -> dict:
    """Generate (or complete) the pool up to job.size clips per label."""
    from synthaudio.engine import run_generation
    from synthaudio.prompts.promptfile import write_prompts
    from synthaudio.study.prompting import build_pool_prompts

    params, folder, size = job.params, Path(job.folder), job.size
    prompt_set = build_pool_prompts(params, size)
    write_prompts(folder / "prompts.json", prompt_set)
    generation = params["generation"]
    summary = run_generation(folder / "prompts.json", folder / POOL_FOLDER, generation["generator"],
                             checkpoint=generation["checkpoint"], duration=generation["duration"],
                             sample_rate=generation["sample_rate"], batch_size=generation["batch_size"],
                             seed=params["seed"], settings=generation["settings"], device=generation["device"],
                             dtype=generation["dtype"], progress=sys.stderr.isatty())
    clips = _first_per_label(read_manifest(folder / POOL_MANIFEST), size, params["labels"], folder / POOL_MANIFEST)
    return {"size": size, "manifest": POOL_MANIFEST, "clips": len(clips), "written_now": summary.written,
            "generator": generation["generator"], "checkpoint": clips[0].checkpoint,
            "random_weights": any(clip.random_weights for clip in clips), "notes": summary.notes}


def run_derived_pool(job: Job) -> dict:
    """Post-process the first job.size clips per label of a pool into this stage's folder (done ones are kept)."""
    from synthaudio.audio import band_limit, load_audio_native, write_wav

    params, folder, size = job.params, Path(job.folder), job.size
    pool = Path(params["pool"])
    source = read_manifest(pool / POOL_MANIFEST)
    labels = sorted({clip.label for clip in source})
    derived = []
    for clip in _first_per_label(source, size, labels, pool / POOL_MANIFEST):
        target = folder / POOL_FOLDER / Path(clip.path).resolve().relative_to((pool / POOL_FOLDER).resolve())
        if not target.is_file():  # WAVs are written atomically: one that exists is complete
            samples, rate = load_audio_native(clip.path)
            band = params["postprocess"]["band_limit_hz"]
            write_wav(target, band_limit(samples, rate, 2 * band), rate)
        meta = {**clip.meta, "postprocess": params["postprocess"], "derived_from": clip.path}
        derived.append(clip.model_copy(update={"path": str(target.resolve()), "meta": meta}))
    write_manifest(folder / POOL_MANIFEST, derived)
    return {"size": size, "manifest": POOL_MANIFEST, "clips": len(derived),
            "random_weights": any(clip.random_weights for clip in derived)}


def run_subset(job: Job) -> dict:
    """The first N clips per label of a pool (train.jsonl), and a seeded stratified held-out part (val.jsonl)."""
    params, folder = job.params, Path(job.folder)
    manifest = Path(params["pool"]) / POOL_MANIFEST
    clips = read_manifest(manifest)
    labels = sorted({clip.label for clip in clips})
    chosen = _first_per_label(clips, params["clips_per_class"], labels, manifest)
    val: list[Clip] = []
    if params["holdout_fraction"]:
        if params["clips_per_class"] < 2:
            raise ConfigError(f"a synthetic hold-out needs at least 2 clips per class, got "
                              f"{params['clips_per_class']}")
        fraction = params["holdout_fraction"]
        names = stratified_split([c.label for c in chosen], {"train": 1 - fraction, "val": fraction},
                                 params["holdout_seed"])
        val = [c.model_copy(update={"split": "val"}) for c, name in zip(chosen, names, strict=True) if name == "val"]
        chosen = [c for c, name in zip(chosen, names, strict=True) if name == "train"]
    chosen = [c.model_copy(update={"split": "train"}) for c in chosen]
    write_manifest(folder / "train.jsonl", chosen)
    record = {"train": len(chosen), "per_class": dict(sorted(Counter(c.label for c in chosen).items()))}
    if params["holdout_fraction"]:
        write_manifest(folder / "val.jsonl", val)
        record["val"] = len(val)
    return record


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
