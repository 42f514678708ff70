"""Data-centric filtering of synthetic clips, then mixed training again.

Class-level (the study's): drop the synthetic clips of the classes whose zero-shot precision is in the bottom q%.
The precision is measured on the real VALIDATION split (averaged over the seeds that share the synthetic data);
only `protocol: paper` measures it on the test split, as the study's code did, and the report flags the result.

Clip-level (beyond the study): drop the synthetic clips that a scorer finds unlike their label (score of the
clip's own label below a threshold). Scorers come from a registry: `real_model` (a model trained on the same
real training data the mixed run sees) is built in; installed packages add others.

Compared (paired, in the report): class-filtered and clip-filtered mixed training against unfiltered mixed
training at the same real fraction; and, as in mixed, a merged generator against each of its members listed (each
variant: unfiltered, class-filtered, clip-filtered).
"""

import json
import math
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from synthaudio.errors import ConfigError
from synthaudio.fsutil import write_text_atomic
from synthaudio.manifest import read_manifest, write_manifest
from synthaudio.recognition.evaluation import score_clips
from synthaudio.report.results import Condition
from synthaudio.study import mixed
from synthaudio.study.context import StudyContext
from synthaudio.study.plan import Data, StageRef
from synthaudio.study.recognition import EVALUATION, RUN_FOLDER
from synthaudio.study.registries import SCORERS
from synthaudio.study.schema import Filtered
from synthaudio.study.stages import StageRun, StageSpec
from synthaudio.study.zero_shot import zero_shot_run


class Scoring(Protocol):
    """A planned scoring of synthetic clips: what decides the scores, and how to compute them."""

    def identity(self) -> dict[str, Any]: ...

    def score(self, manifest: Path) -> dict[str, float]:
        """clip id -> score in [0, 1] (higher: more like its own label)."""
        ...


class Scorer(Protocol):
    """Scores synthetic clips by how much each sounds like its own label; registered in SCORERS (plugins: the
    entry-point group "synthaudio.scorers")."""

    name: str

    def plan(self, ctx: StudyContext, experiment: str, dataset: str, fraction: float, seed: int,
             options: dict[str, Any]) -> tuple[Scoring, tuple[str, ...]]:
        """(the scoring for one mixed run, the stages it depends on)."""
        ...


@dataclass(frozen=True)
class RealModelScoring:
    training: StageRef
    cache_dir: Path

    def identity(self) -> dict:
        return {"run": self.training.key}

    def score(self, manifest: Path) -> dict[str, float]:
        return {row.clip_id: row.probability for row in score_clips(Path(self.training.folder) / RUN_FOLDER, manifest,
                                                                     cache_dir=self.cache_dir)}


class RealModelScorer:
    """The real-only model at the same real fraction and seed: its probability of each clip's own label."""

    name = "real_model"

    def plan(self, ctx, experiment, dataset, fraction, seed, options):
        if options:
            raise ConfigError(f"scorer 'real_model' takes no options, got {', '.join(options)}")
        training = mixed.real_only_run(ctx, experiment, dataset, fraction, seed)
        return RealModelScoring(StageRef.of(training), ctx.cache_dir), (training.key,)


def make_scorer(name: str) -> Scorer:
    return SCORERS.load(name)()


# ---------------------------------------------------------------- stage kinds

def classes_to_drop(precision: dict[str, float], bottom_percent: float) -> list[str]:
    """The round(q% of K) classes of lowest precision (ties: label order)."""
    count = math.floor(bottom_percent / 100 * len(precision) + 0.5)
    return sorted(precision, key=lambda label: (precision[label], label))[:count]


@dataclass(frozen=True)
class ClassFilterStage(StageSpec):
    """Drop the synthetic clips of the classes whose zero-shot precision (mean over runs) is lowest."""

    kind = "class_filter"
    rank = 8
    subset: Data
    evaluations: list[StageRef]
    bottom_percent: float
    measured_on: str

    def identity(self) -> dict:
        return {"subset": self.subset.identity, "evaluations": [e.key for e in self.evaluations],
                "bottom_percent": self.bottom_percent, "measured_on": self.measured_on}

    def run(self, where: StageRun) -> dict:
        evaluations = [json.loads((Path(e.folder) / EVALUATION).read_text(encoding="utf-8"))
                       for e in self.evaluations]
        labels = evaluations[0]["labels"]
        precision = {label: sum(e["metrics"]["per_class"][label]["precision"] for e in evaluations)
                     / len(evaluations) for label in labels}
        clips = read_manifest(self.subset.path)
        synthetic_labels = sorted({clip.label for clip in clips})
        dropped = classes_to_drop({label: precision[label] for label in synthetic_labels}, self.bottom_percent)
        kept = [clip for clip in clips if clip.label not in set(dropped)]
        write_manifest(where.folder / "train.jsonl", kept, root=where.out)
        return {"measured_on": self.measured_on, "optimistic": self.measured_on == "test",
                "bottom_percent": self.bottom_percent, "precision": precision, "dropped_classes": dropped,
                "kept_clips": len(kept), "dropped_clips": len(clips) - len(kept), "runs": len(evaluations)}


@dataclass(frozen=True)
class ClipFilterStage(StageSpec):
    """Drop the synthetic clips whose score of their own label is below a threshold."""

    kind = "clip_filter"
    rank = 9
    subset: Data
    scorer: str
    scoring: Scoring
    threshold: float

    def identity(self) -> dict:
        return {"subset": self.subset.identity, "scorer": self.scorer, "scorer_inputs": self.scoring.identity(),
                "threshold": self.threshold}

    def run(self, where: StageRun) -> dict:
        manifest = Path(self.subset.path)
        clips = read_manifest(manifest)
        scores = self.scoring.score(manifest)
        kept = [clip for clip in clips if scores[clip.id] >= self.threshold]
        write_manifest(where.folder / "train.jsonl", kept, root=where.out)
        rows = [json.dumps({"id": c.id, "label": c.label, "score": scores[c.id], "kept": scores[c.id] >=
                            self.threshold}) for c in clips]
        write_text_atomic(where.folder / "scores.jsonl", "".join(row + "\n" for row in rows))
        total = Counter(clip.label for clip in clips)
        survived = Counter(clip.label for clip in kept)
        return {"scorer": self.scorer, "threshold": self.threshold, "kept_clips": len(kept),
                "dropped_clips": len(clips) - len(kept),
                "kept_per_class": {label: survived[label] for label in sorted(total)},
                "mean_score": sum(scores.values()) / len(scores) if scores else None}


# ---------------------------------------------------------------- planning

def plan(ctx: StudyContext, name: str, experiment: Filtered) -> None:
    dataset = experiment.dataset
    mixed.check_real_data(ctx, name, dataset)
    measured_on = "test" if ctx.config.protocol == "paper" else "val"
    for fraction in experiment.real_fractions:
        for seed in ctx.seeds:
            mixed.baseline(ctx, name, experiment, fraction, seed)
    for generator in experiment.generators:
        for prompts in experiment.prompts:
            for count in experiment.clips_per_class:
                described = {"generator": generator, "prompts": prompts, "clips_per_class": count}
                class_filtered = _class_filters(ctx, name, experiment, described, measured_on) \
                    if experiment.class_filter is not None else {}
                for fraction in experiment.real_fractions:
                    for seed in ctx.seeds:
                        synthetic = ctx.synthetic(dataset, generator, prompts, count, seed)
                        real = ctx.real_train(dataset, fraction, seed)
                        title = f"{name}: {dataset} {fraction:g} real + {generator}/{prompts} {count} clips/class"
                        training = ctx.train(name, dataset, [real, synthetic.train], ctx.real(dataset), seed,
                                             f"{title} seed {seed}")
                        unfiltered = Condition(name, experiment.kind, dataset, "mixed", generator, prompts, count,
                                               fraction, "real", seed, None)
                        mixed.result(ctx, experiment, training, unfiltered, synthetic.pools)
                        if experiment.class_filter is not None:
                            filtered = class_filtered[synthetic.train.identity]
                            training = ctx.train(name, dataset, [real], ctx.real(dataset), seed,
                                                 f"{title} class-filtered seed {seed}", optional=[filtered])
                            filtered_condition = replace(unfiltered, variant="class-filtered")
                            mixed.result(ctx, experiment, training, filtered_condition, synthetic.pools)
                            ctx.compare(filtered_condition, unfiltered, "class-filtered vs unfiltered mixed")
                        if experiment.clip_filter is not None:
                            filtered = _clip_filter(ctx, name, experiment, synthetic.train, fraction, seed,
                                                    described)
                            training = ctx.train(name, dataset, [real], ctx.real(dataset), seed,
                                                 f"{title} clip-filtered seed {seed}", optional=[filtered])
                            filtered_condition = replace(unfiltered, variant="clip-filtered")
                            mixed.result(ctx, experiment, training, filtered_condition, synthetic.pools)
                            ctx.compare(filtered_condition, unfiltered, "clip-filtered vs unfiltered mixed")
    variants = ("mixed", *(("class-filtered",) if experiment.class_filter is not None else ()),
                *(("clip-filtered",) if experiment.clip_filter is not None else ()))
    mixed.compare_merged(ctx, name, experiment, variants)


def _class_filters(ctx: StudyContext, name: str, experiment: Filtered, described: dict, measured_on: str
                   ) -> dict[str, Data]:
    """One class filter per synthetic subset (one for all seeds unless the generation seed varies), from the
    zero-shot runs on that subset, evaluated on `measured_on`."""
    groups: dict[str, tuple[Data, list]] = {}
    for seed in ctx.seeds:
        training, synthetic = zero_shot_run(ctx, name, experiment.dataset, described["generator"],
                                            described["prompts"], described["clips_per_class"], seed)
        evaluation = ctx.evaluate(training, ctx.real(experiment.dataset), seed, split=measured_on)
        groups.setdefault(synthetic.train.identity, (synthetic.train, []))[1].append((seed, evaluation))
    filters = {}
    percent = experiment.class_filter.bottom_percent
    for identity, (subset, evaluations) in groups.items():
        stage = ctx.planner.add(
            ClassFilterStage(subset, [StageRef.of(e) for _, e in evaluations], percent, measured_on),
            (*subset.deps, *(e.key for _, e in evaluations)),
            f"{name}: class filter (bottom {percent:g}% zero-shot precision on {measured_on}) of "
            f"{described['generator']}/{described['prompts']} {described['clips_per_class']} clips/class")
        ctx.planner.plan.filters.append((stage.key, {"experiment": name, "dataset": experiment.dataset,
                                                     "filter": "class", **described,
                                                     "seeds": [s for s, _ in evaluations]}))
        filters[identity] = Data(stage.folder / "train.jsonl", stage.key, stage.key)
    return filters


def _clip_filter(ctx: StudyContext, name: str, experiment: Filtered, subset: Data, fraction: float, seed: int,
                 described: dict) -> Data:
    settings = experiment.clip_filter
    scorer = make_scorer(settings.scorer)
    scoring, deps = scorer.plan(ctx, name, experiment.dataset, fraction, seed, settings.options)
    stage = ctx.planner.add(
        ClipFilterStage(subset, settings.scorer, scoring, settings.threshold), (*subset.deps, *deps),
        f"{name}: clip filter ({settings.scorer} >= {settings.threshold:g}, {fraction:g} real, seed {seed}) of "
        f"{described['generator']}/{described['prompts']} {described['clips_per_class']} clips/class")
    ctx.planner.plan.filters.append((stage.key, {"experiment": name, "dataset": experiment.dataset, "filter": "clip",
                                                 **described, "real_fraction": fraction, "seed": seed}))
    return Data(stage.folder / "train.jsonl", stage.key, stage.key)


