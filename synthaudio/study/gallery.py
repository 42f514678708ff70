"""What the HTML report's gallery shows, read from a finished plan: for every dataset a study trained on synthetic
clips for, a few real test clips per class, and the synthetic clips of each (generator, prompt strategy) subset
a result row trained on, with their provenance and what each filter decided about them. A merged generator shows
the first clips of each member's pool, in the members' shares, under its merged ids ('member/clip id').

Paths are stored relative to the study's output folder where the audio lies under it (generated clips), else
absolute (a real dataset elsewhere), so the report can be rebuilt from results.json after the folder moved.
"""

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from synthaudio.manifest import Clip, read_manifest, select
from synthaudio.study.cache import read_done
from synthaudio.study.filtering import ClassFilterStage, ClipFilterStage
from synthaudio.study.plan import Plan
from synthaudio.study.recognition import TrainStage
from synthaudio.study.synthetic import (
    POOL_MANIFEST,
    MergedSubsetStage,
    SubsetStage,
    clip_index,
    merge_shares,
    merged_clip_id,
)

# "a few" clips per class: enough to hear the variety, few enough that the page opens at once
REAL_PER_CLASS = 5
SYNTHETIC_PER_CLASS = 10  # per (generator, prompt strategy)


def stored_path(path: str | Path, out: Path) -> str:
    """`path` relative to the study folder `out` when it lies under it, else absolute."""
    path = Path(path).resolve()
    try:
        return path.relative_to(out.resolve()).as_posix()
    except ValueError:
        return str(path)


def collect_gallery(plan: Plan, out: Path) -> dict[str, Any]:
    """{"datasets": [{"dataset", "labels", "real": [clip...], "synthetic": [clip...]}]} (see the module doc)."""
    # (dataset, generator, prompts) -> the pool manifests it reads: (manifest, clips per label shown, member name)
    sources: dict[tuple[str, str, str], list[tuple[Path, int, str | None]]] = {}
    for spec in plan.results:
        condition = spec.condition
        training = plan.stages[spec.training].spec
        if condition.generator is None or not isinstance(training, TrainStage):
            continue
        for data in [*training.train, *training.optional_train]:
            stage = plan.stages.get(data.stage) if data.stage else None
            if stage is None:
                continue
            key = (condition.dataset, condition.generator, condition.prompts)
            if isinstance(stage.spec, SubsetStage):
                sources.setdefault(key, [(Path(stage.spec.pool.folder) / POOL_MANIFEST, SYNTHETIC_PER_CLASS, None)])
            elif isinstance(stage.spec, MergedSubsetStage):
                members = stage.spec.members
                shown = merge_shares([member.clips_per_class for member in members], SYNTHETIC_PER_CLASS)
                sources.setdefault(key, [
                    (Path(plan.stages[member.subset.stage].spec.pool.folder) / POOL_MANIFEST, count,
                     member.generator) for member, count in zip(members, shown, strict=True)])
    decisions = _filter_decisions(plan)
    datasets = []
    for dataset in sorted({key[0] for key in sources}):
        info = plan.datasets.get(dataset)
        if info is None or not info.ready:
            continue
        real_by_label: dict[str, list[Clip]] = defaultdict(list)
        for clip in sorted(select(read_manifest(info.manifest), split="test"), key=lambda c: c.id):
            real_by_label[clip.label].append(clip)
        real = [_real_record(clip, out) for label in sorted(real_by_label)
                for clip in real_by_label[label][:REAL_PER_CLASS]]
        synthetic = []
        for (name, generator, prompts), manifests in sorted(sources.items()):
            if name != dataset:
                continue
            for manifest, per_label, member in manifests:
                if not manifest.is_file():
                    continue
                clips = sorted(read_manifest(manifest), key=lambda c: (c.label, clip_index(c, manifest)))
                shown: dict[str, int] = defaultdict(int)
                for clip in clips:
                    if shown[clip.label] >= per_label:
                        continue
                    shown[clip.label] += 1
                    if member is not None:  # as the merged manifest (and its filters' scores) names it
                        clip = clip.model_copy(update={"id": merged_clip_id(member, clip.id)})
                    synthetic.append(_synthetic_record(clip, out, generator, prompts,
                                                       decisions.get((dataset, generator, prompts), {})))
        labels = sorted(set(info.labels) | {record["label"] for record in synthetic})
        datasets.append({"dataset": dataset, "labels": labels, "real": real, "synthetic": synthetic})
    return {"datasets": datasets}


def _real_record(clip: Clip, out: Path) -> dict:
    return {"id": clip.id, "path": stored_path(clip.path, out), "label": clip.label, "offset": clip.offset,
            "duration": clip.duration}


def _synthetic_record(clip: Clip, out: Path, generator: str, prompts: str, decisions: dict) -> dict:
    filters = decisions.get(clip.id, []) + decisions.get(f"class:{clip.label}", [])
    if not filters:
        decision = "not filtered"
    else:
        decision = "dropped" if any(not item["kept"] for item in filters) else "kept"
    return {"id": clip.id, "path": stored_path(clip.path, out), "label": clip.label, "offset": clip.offset,
            "duration": clip.duration, "generator": generator, "prompts": prompts, "prompt": clip.prompt,
            "seed": clip.seed, "checkpoint": clip.checkpoint, "random_weights": clip.random_weights,
            "filters": filters, "decision": decision}


def _filter_decisions(plan: Plan) -> dict[tuple[str, str, str], dict[str, list[dict]]]:
    """(dataset, generator, prompts) -> clip id (or "class:<label>") -> what each filter decided."""
    decisions: dict[tuple[str, str, str], dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for key, columns in plan.filters:
        stage = plan.stages[key]
        record = read_done(stage.folder)
        if record is None:
            continue
        where = decisions[(columns["dataset"], columns["generator"], columns["prompts"])]
        if isinstance(stage.spec, ClipFilterStage):
            scores = stage.folder / "scores.jsonl"
            if not scores.is_file():
                continue
            described = (f"clip filter {record['scorer']} >= {record['threshold']:g} "
                         f"({columns['real_fraction']:g} real, seed {columns['seed']})")
            for line in scores.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                where[row["id"]].append({"filter": described, "score": row["score"], "kept": row["kept"]})
        elif isinstance(stage.spec, ClassFilterStage):
            described = (f"class filter: bottom {record['bottom_percent']:g}% precision on "
                         f"{record['measured_on']}")
            for label, precision in record["precision"].items():
                where[f"class:{label}"].append({"filter": described, "score": precision,
                                                "kept": label not in record["dropped_classes"]})
    return decisions

