"""Adaptive generation: spend a total budget of synthetic clips in rounds, where a model says they help, and
compare it with uniform allocation of the same budget.

Per generator x prompts x training seed, with B = budget x classes clips shared over R rounds (largest remainder):

    round 0:  allocate (uniform) -> round pool 0
    round r:  train on pools 0..r-1 -> evaluate on the REAL VALIDATION split -> allocate (rule; LLM rewrites of the
              weakest classes, told what each is mistaken for) -> round pool r
    final:    train on pools 0..R-1 -> evaluate on the real test split (the reported result)

and the uniform baseline: the same rounds with the `uniform` rule (nothing measured, no rewrites), the same total,
generator, prompt strategy, seeds and round seeds, so round 0 is shared and a class's clips that both runs make
have the same prompts and seeds (the same audio where the generator does not depend on the batch, as espeak-ng).
Every round is cached stages: a rerun does no work, and a changed rule recomputes only the stages
after round 0 of that rule. Under `protocol: validation` no stage before the final evaluation reads the test split
(allocation reads an evaluation of split "val" and checks it); under `protocol: paper` rounds are measured on the
test split, as every paper-protocol number is, and the report flags it.

Compared (paired, in the report): each rule against uniform allocation at the same budget.
"""

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthaudio.errors import SynthaudioError
from synthaudio.fsutil import write_text_atomic
from synthaudio.generation import run_generation
from synthaudio.llm import DEFAULT_BACKEND, LLMOptions, make_llm
from synthaudio.manifest import read_manifest, write_manifest
from synthaudio.prompts.descriptors import DescriptorRequest
from synthaudio.prompts.promptfile import write_prompts
from synthaudio.prompts.rewrite import rewrite_descriptors
from synthaudio.report.results import Condition
from synthaudio.seeding import derive_seed
from synthaudio.study.allocation import ClassScores, largest_remainder
from synthaudio.study.context import StudyContext
from synthaudio.study.plan import Data, Stage, StageRef
from synthaudio.study.prompting import build_round_prompts
from synthaudio.study.recognition import EVALUATION
from synthaudio.study.registries import ALLOCATION_RULES
from synthaudio.study.schema import Adaptive, GeneratorEntry, PromptsEntry
from synthaudio.study.stages import StageRun, StageSpec
from synthaudio.study.synthetic import (
    POOL_FOLDER,
    POOL_MANIFEST,
    derived_clip,
    plan_prompt_stage,
    prompts_identity,
    run_settings,
)

ALLOCATION = "allocation.json"
DERIVED_FOLDER = "derived"
UNIFORM = "uniform"


@dataclass(frozen=True)
class RewriteSpec:
    """What an allocation stage needs to rewrite the weakest classes' descriptors."""

    classes: int
    llm: dict[str, Any]
    options: dict[str, Any]
    domain: str


@dataclass(frozen=True)
class AllocateStage(StageSpec):
    """One round's clips per class (and, with `rewrite`, new descriptors for the weakest classes)."""

    kind = "allocate"
    rank = 5
    round: int
    rule: str
    labels: list[str]
    total: int  # clips this round, all classes together
    measured: StageRef | None  # the previous round's model evaluated on `split` (None: round 0 or uniform)
    split: str  # the split `measured` must be an evaluation of: "val" ("test" only under the paper protocol)
    previous: StageRef | None  # the previous round's allocation (clips so far, descriptors rewritten so far)
    rewrite: RewriteSpec | None
    seed: int  # of the rewrites' LLM answers

    def identity(self) -> dict:
        return {"round": self.round, "rule": self.rule, "labels": self.labels, "total": self.total,
                "measured": None if self.measured is None else self.measured.key, "split": self.split,
                "previous": None if self.previous is None else self.previous.key,
                "rewrite": None if self.rewrite is None else vars(self.rewrite), "seed": self.seed}

    def run(self, where: StageRun) -> dict:
        scores = self._scores()
        added = ALLOCATION_RULES.load(self.rule)(list(self.labels), self.total, scores)
        if set(added) != set(self.labels) or sum(added.values()) != self.total or min(added.values()) < 0:
            raise SynthaudioError(f"allocation rule '{self.rule}' gave {added} for {self.total} clips over "
                                  f"{len(self.labels)} classes; a rule must give every class a count >= 0 summing "
                                  f"to the round's total")
        before = read_allocation(self.previous) if self.previous is not None else {}
        clips = {label: before.get("clips", {}).get(label, 0) + added[label] for label in self.labels}
        descriptors = dict(before.get("descriptors", {}))
        rewrites = self._rewrites(scores) if self.rewrite is not None and scores is not None else []
        for rewrite in rewrites:
            if rewrite["failed"] is None:
                descriptors[rewrite["label"]] = rewrite["descriptors"]
        record = {"round": self.round, "rule": self.rule, "measured_on": None if scores is None else scores.split,
                  "f1": None if scores is None else scores.f1, "added": added, "clips": clips,
                  "rewrites": rewrites, "descriptors": descriptors}
        write_text_atomic(where.folder / ALLOCATION, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
        return {"round": self.round, "rule": self.rule, "added": added,
                "rewritten": [r["label"] for r in rewrites if r["failed"] is None],
                "rewrites_failed": [r["label"] for r in rewrites if r["failed"] is not None]}

    def _scores(self) -> ClassScores | None:
        if self.measured is None:
            return None
        evaluation = json.loads((Path(self.measured.folder) / EVALUATION).read_text(encoding="utf-8"))
        scores = ClassScores.from_evaluation(evaluation)
        if scores.split != self.split:  # the guard behind "allocation never reads the test split"
            raise SynthaudioError(f"{Path(self.measured.folder) / EVALUATION}: allocation reads an evaluation of "
                                  f"split '{scores.split}', expected '{self.split}'")
        return scores

    def _rewrites(self, scores: ClassScores) -> list[dict]:
        rewrite = self.rewrite
        weakest = [label for label in sorted(self.labels, key=lambda label: (scores.f1[label], label))
                   if scores.f1[label] < 1.0][:rewrite.classes]
        if not weakest:
            return []
        settings = dict(rewrite.llm)
        backend = settings.pop("backend", None) or DEFAULT_BACKEND
        llm = make_llm(backend, LLMOptions(**settings))
        count = rewrite.options.get("num_descriptors")
        request = DescriptorRequest(rewrite.domain, count=count, context=rewrite.options.get("context"),
                                    retries=rewrite.options.get("retries", 5),
                                    seed=derive_seed(self.seed, "rewrite", self.round), min_count=3)
        return [rewrite_descriptors(llm, label, scores.confused_with(label), request).record() for label in weakest]


def read_allocation(stage: StageRef | Stage) -> dict[str, Any]:
    return json.loads((Path(stage.folder) / ALLOCATION).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class RoundPoolStage(StageSpec):
    """The clips one allocation asks for: label l's first added[l] clips of the round's prompts, seeded by the
    round; post-processed (e.g. band-limited) where the generator entry says so."""

    kind = "round_pool"
    rank = 2
    distributable = True  # a model per worker, like any pool
    allocation: StageRef
    labels: list[str]
    domain: str
    prompts: PromptsEntry
    prompts_identity: dict[str, Any]
    prompt_stage: StageRef | None
    generation: GeneratorEntry
    seed: int  # the round's generation seed

    def identity(self) -> dict:
        return {"allocation": self.allocation.key, "labels": self.labels, "domain": self.domain,
                "prompts": self.prompts_identity, "seed": self.seed,
                "prompt_stage": None if self.prompt_stage is None else self.prompt_stage.key,
                "generation": self.generation.model_dump(mode="json", exclude={"device"})}

    def run(self, where: StageRun) -> dict:
        allocation = read_allocation(self.allocation)
        added: dict[str, int] = allocation["added"]
        generation, folder = self.generation, where.folder
        prompt_set = build_round_prompts(self.labels, self.domain, self.prompts, self.seed,
                                         None if self.prompt_stage is None else Path(self.prompt_stage.folder),
                                         max(added.values()), allocation["descriptors"])
        write_prompts(folder / "prompts.json", prompt_set)
        summary = run_generation(folder / "prompts.json", folder / POOL_FOLDER, run_settings(generation, self.seed),
                                 limits=added,
                                 progress=sys.stderr.isatty())
        clips = [clip for clip in read_manifest(folder / POOL_MANIFEST)
                 if clip.meta.get("index", 0) < added[clip.label]]
        made = {label: sum(clip.label == label for clip in clips) for label in self.labels}
        if made != added:
            raise SynthaudioError(f"{folder / POOL_MANIFEST}: has {made} clips per class, the allocation asked "
                                  f"{added}; rerun the study to finish generating")
        manifest = POOL_MANIFEST
        if generation.postprocess is not None:
            postprocess = generation.postprocess.model_dump(mode="json")
            clips = [derived_clip(clip, folder / POOL_FOLDER, folder / DERIVED_FOLDER, postprocess, where.out)
                     for clip in clips]
            manifest = f"{DERIVED_FOLDER}/manifest.jsonl"
            write_manifest(folder / manifest, clips)
        return {"manifest": manifest, "clips": len(clips), "per_class": added, "written_now": summary.written,
                "generator": generation.generator, "checkpoint": clips[0].checkpoint if clips else None,
                "random_weights": any(clip.random_weights for clip in clips),
                "rewritten": sorted(prompt_set.provenance.get("rewritten", {}))}


# ---------------------------------------------------------------- planning

def round_totals(total: int, rounds: int) -> list[int]:
    """`total` clips shared over `rounds` rounds as evenly as whole clips allow (earlier rounds get the extra)."""
    return list(largest_remainder({str(r): 1.0 for r in range(rounds)}, total).values())


def plan(ctx: StudyContext, name: str, experiment: Adaptive) -> None:
    dataset = experiment.dataset
    paper = ctx.config.protocol == "paper"
    loc = ("experiments", name, "dataset")
    if not paper:
        ctx.require_rows(dataset, "val", loc, "adaptive allocation measures every round on the real validation "
                                              "split, never on the test split: give the dataset a val split (e.g. "
                                              "speakers not in its test split), or use protocol: paper (optimistic: "
                                              "rounds measured on test)")
    ctx.require_rows(dataset, "test", loc, "the study tests on the real test split")
    if experiment.real_fraction is not None:
        ctx.require_rows(dataset, "train", loc, "real_fraction mixes in real training data")
    for index, generator in enumerate(experiment.generators):
        if generator not in ctx.config.generators or not isinstance(ctx.config.generators[generator],
                                                                     GeneratorEntry):
            raise ctx.config.error(("experiments", name, "generators", index),
                                   f"'{generator}' is not a single generator; an adaptive experiment generates "
                                   f"each round itself, so name one generator entry per run")
    runs = AdaptiveRuns(ctx, name, experiment, "test" if paper else "val")
    for generator in experiment.generators:
        for prompts in experiment.prompts:
            for seed in ctx.seeds:
                runs.plan(generator, prompts, seed)


class AdaptiveRuns:
    """Plans the rounds of one adaptive experiment (see the module docstring)."""

    def __init__(self, ctx: StudyContext, name: str, experiment: Adaptive, split: str):
        self.ctx, self.name, self.experiment, self.split = ctx, name, experiment, split
        self.labels, self.domain = ctx.labels_and_domain(experiment.dataset)
        self.totals = round_totals(experiment.budget * len(self.labels), experiment.rounds)

    def plan(self, generator: str, prompts: str, seed: int) -> None:
        uniform = self._condition(generator, prompts, seed, UNIFORM)
        self._result(self._rounds(generator, prompts, seed, UNIFORM), uniform)
        for rule in self.experiment.rules:
            adaptive = self._condition(generator, prompts, seed, rule)
            self._result(self._rounds(generator, prompts, seed, rule), adaptive)
            self.ctx.compare(adaptive, uniform, "adaptive vs uniform allocation at the same budget")

    def _rounds(self, generator: str, prompts: str, seed: int, rule: str) -> Stage:
        """The rounds of one rule; returns the final training stage."""
        ctx, experiment = self.ctx, self.experiment
        config = ctx.config
        entry, generation = config.prompts[prompts], config.generators[generator]
        generation_seed = ctx.generation_seed(seed)
        dependency = self._dependency()
        prompt_stage = plan_prompt_stage(ctx.planner, self.labels, self.domain, experiment.dataset, prompts, entry,
                                         generation_seed, (dependency,) if dependency else ())
        identity = prompts_identity(entry)
        rewrite = None
        if experiment.rewrite is not None and rule != UNIFORM:
            rewrite = RewriteSpec(experiment.rewrite.classes, dict(experiment.rewrite.llm),
                                  dict(experiment.rewrite.options), self.domain)
        described = f"{self.name}: {experiment.dataset} by {generator}/{prompts}"
        pools: list[Stage] = []
        allocation: Stage | None = None
        for round_index, total in enumerate(self.totals):
            measured = None
            if round_index > 0 and rule != UNIFORM:  # the model of the rounds so far (round_index of them)
                training = self._train(pools, seed, f"{described}, {rule} after round {round_index} seed {seed}")
                measured = ctx.evaluate(training, ctx.real(experiment.dataset), seed, split=self.split)
            round_rule = rule if round_index > 0 else UNIFORM  # round 0 is uniform for every rule: shared
            spec = AllocateStage(round_index, round_rule, list(self.labels), total,
                                 None if measured is None else StageRef.of(measured), self.split,
                                 None if allocation is None else StageRef.of(allocation),
                                 rewrite if measured is not None else None, derive_seed(generation_seed, "rewrite"))
            deps = [stage.key for stage in (measured, allocation) if stage is not None]
            allocation = ctx.planner.add(spec, deps, f"{described}: allocate round {round_index + 1} of "
                                                     f"{len(self.totals)} ({total} clips, {round_rule}"
                                                     f"{', measured on ' + self.split if measured else ''}) seed "
                                                     f"{seed}")
            self._record(allocation, generator, prompts, seed, rule)
            round_seed = derive_seed(generation_seed, "adaptive round", round_index)
            pool_deps = [allocation.key, *([prompt_stage.key] if prompt_stage else [])]
            pools.append(ctx.planner.add(
                RoundPoolStage(StageRef.of(allocation), list(self.labels), self.domain, entry, identity,
                               None if prompt_stage is None else StageRef.of(prompt_stage), generation, round_seed),
                pool_deps, f"{described}: generate round {round_index + 1} ({round_rule}) seed {seed}"))
        return self._train(pools, seed, f"{described}, {rule} allocation, all {len(self.totals)} rounds seed {seed}")

    def _dependency(self) -> str | None:
        prepared = self.ctx.prepared.get(self.experiment.dataset)
        return prepared.stage if prepared is not None else None

    def _train(self, pools: list[Stage], seed: int, title: str) -> Stage:
        ctx, experiment = self.ctx, self.experiment
        synthetic = [Data(_pool_manifest(pool), pool.key, pool.key) for pool in pools]
        real = [] if experiment.real_fraction is None else \
            [ctx.real_train(experiment.dataset, experiment.real_fraction, seed)]
        # under the paper protocol a dataset may lack a val split: the run is selected on the test split anyway
        val_split = "test" if self.split == "test" and not ctx.prepared[experiment.dataset].splits.get("val") \
            else None
        return ctx.train(self.name, experiment.dataset, [*real, *synthetic], ctx.real(experiment.dataset), seed,
                         title, val_split=val_split)

    def _result(self, training: Stage, condition: Condition) -> None:
        evaluation = self.ctx.evaluate(training, self.ctx.real(self.experiment.dataset), condition.seed)
        pools = tuple(key for key in training.deps if self.ctx.planner.plan.stages[key].kind == RoundPoolStage.kind)
        self.ctx.result(evaluation, training, condition, pools)

    def _condition(self, generator: str, prompts: str, seed: int, rule: str) -> Condition:
        experiment = self.experiment
        variant = "uniform allocation" if rule == UNIFORM else f"adaptive ({rule})"
        if experiment.real_fraction is not None:
            variant += " + real"
        return Condition(self.name, experiment.kind, experiment.dataset, variant, generator, prompts,
                         experiment.budget, experiment.real_fraction or 0.0, experiment.validation, seed, None)

    def _record(self, allocation: Stage, generator: str, prompts: str, seed: int, rule: str) -> None:
        """The report's allocation table reads this stage (per class, per round)."""
        self.ctx.planner.plan.allocations.append((allocation.key, {
            "experiment": self.name, "dataset": self.experiment.dataset, "generator": generator,
            "prompts": prompts, "rule": rule, "seed": seed}))


def _pool_manifest(pool: Stage) -> Path:
    """Where a round pool's training manifest is (post-processed clips where the generator entry asks)."""
    spec = pool.spec
    assert isinstance(spec, RoundPoolStage)
    return pool.folder / (f"{DERIVED_FOLDER}/manifest.jsonl" if spec.generation.postprocess else POOL_MANIFEST)
