"""Real-data stages: prepare a dataset (recipe or given manifest, optionally restricted to some labels), and
take seeded, stratified fractions of its training split."""

from collections import Counter
from pathlib import Path

from synthaudio.config import StudyConfig
from synthaudio.errors import ConfigError
from synthaudio.feature_cache import file_sha256
from synthaudio.manifest import read_manifest, select, write_manifest
from synthaudio.splits import stratified_subset
from synthaudio.study.cache import read_done
from synthaudio.study.context import PreparedInfo, recipe_options_problem
from synthaudio.study.plan import Job, Planner, Stage

MANIFEST = "manifest.jsonl"


def plan_preparation(config: StudyConfig, planner: Planner) -> dict[str, Stage]:
    """One prepare stage per dataset, keyed by recipe, root, options and label restriction (or the manifest's
    content). A recipe's key does not hash the dataset's files: after changing them in place, delete the stage."""
    stages = {}
    for name, entry in config.datasets.items():
        loc = ("datasets", name)
        labels = config.labels_of(name)
        common = {"labels": labels, "name": name, "labels_field": config.where(*loc, "labels")}
        if entry.recipe is not None:
            problem = recipe_options_problem(entry)
            if problem is not None:
                raise config.error(loc + ("options", problem[0]), problem[1])
            inputs = {"recipe": entry.recipe, "root": str(entry.root), "options": entry.options, "seed": entry.seed,
                      "labels": labels}
            params = {**common, "recipe": entry.recipe, "root": str(entry.root), "options": entry.options,
                      "seed": entry.seed}
        else:
            files = {"manifest": entry.manifest, **{f"extra.{k}": v for k, v in entry.extra_manifests.items()}}
            for field, path in files.items():
                if not path.is_file():
                    where = loc + (("manifest",) if field == "manifest" else ("extra_manifests", field[6:]))
                    raise config.error(where, f"manifest not found: {path}")
            inputs = {"manifest": file_sha256(entry.manifest), "labels": labels,
                      "extras": {k: file_sha256(v) for k, v in entry.extra_manifests.items()}}
            params = {**common, "manifest": str(entry.manifest),
                      "extra_manifests": {k: str(v) for k, v in entry.extra_manifests.items()}}
        stages[name] = planner.add("prepare", inputs, params, (), f"prepare {name}")
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


def run_prepare(job: Job) -> dict:
    params = job.params
    folder = Path(job.folder)
    problems: list[str] = []
    excluded: dict[str, int] = {}
    if "recipe" in params:
        from synthaudio.datasets import prepare_dataset

        prepared = prepare_dataset(params["recipe"], params["root"], seed=params["seed"], **params["options"])
        clips, extras = prepared.clips, prepared.extra
        problems = [f"{problem.path}: {problem.reason}" for problem in prepared.problems]
        excluded = dict(prepared.excluded)
    else:
        clips = read_manifest(params["manifest"])
        extras = {name: read_manifest(path) for name, path in params["extra_manifests"].items()}
    labels = params["labels"]
    if labels is not None:
        present = {clip.label for clip in clips}
        missing = [label for label in labels if label not in present]
        if missing:
            raise ConfigError(f"{params['labels_field']}: {', '.join(repr(m) for m in missing)} not a label of "
                              f"dataset '{params['name']}' (its labels: {', '.join(sorted(present))})")
        clips = [clip for clip in clips if clip.label in set(labels)]
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


def run_real_subset(job: Job) -> dict:
    params = job.params
    train = select(read_manifest(params["manifest"]), split="train")
    if not train:
        raise ConfigError(f"{params['manifest']}: no training rows to take a fraction of")
    kept = [train[i] for i in stratified_subset([clip.label for clip in train], params["fraction"], params["seed"])]
    write_manifest(Path(job.folder) / "train.jsonl", kept)
    return {"clips": len(kept), "of": len(train), "per_class": dict(sorted(Counter(c.label for c in kept).items()))}
