"""Zero-shot: train on synthetic clips only, test on the real test split; per generator x prompt strategy x clips
per class x seed. Per-class precision comes with every evaluation (the class filter and the report read it), and
each condition's per-class domain gap (synthaudio.study.domain_gap) says how far its clips lie from the real ones.

Compared (paired, in the report): LLM-assisted prompts (strategy llm or caption) against label prompts on the same
generator and clips per class, where the experiment has both; and a merged generator (generators.<name>.merge)
against each of its members the experiment lists, at the same prompts and clips per class (the same budget)."""

from synthaudio.report.results import Condition
from synthaudio.study.context import StudyContext
from synthaudio.study.domain_gap import plan_domain_gap
from synthaudio.study.schema import ZeroShot
from synthaudio.study.synthetic import MERGED_VS_SINGLE, merged_pairs


def plan(ctx: StudyContext, name: str, experiment: ZeroShot) -> None:
    dataset = experiment.dataset
    holdout = experiment.holdout_fraction if experiment.validation == "synthetic_holdout" else None
    if holdout is None:
        ctx.require_rows(dataset, "val", ("experiments", name, "validation"),
                         "or set validation: synthetic_holdout to select on held-out synthetic clips")
    ctx.require_rows(dataset, "test", ("experiments", name, "dataset"), "the study tests on the real test split")
    for generator in experiment.generators:
        for prompts in experiment.prompts:
            for count in experiment.counts:
                for seed in ctx.seeds:
                    training, synthetic = zero_shot_run(ctx, name, dataset, generator, prompts, count, seed, holdout)
                    evaluation = ctx.evaluate(training, ctx.real(dataset), seed)
                    ctx.result(evaluation, training, condition(name, experiment, generator, prompts, count, seed),
                               synthetic.pools)
                    if seed == ctx.seeds[0]:  # the gap is a property of the clips: one classifier embeds them
                        plan_domain_gap(ctx, training, synthetic.train, {
                            "experiment": name, "dataset": dataset, "generator": generator, "prompts": prompts,
                            "clips_per_class": count})
    label = [prompts for prompts in experiment.prompts if ctx.config.prompts[prompts].strategy == "label"]
    assisted = [prompts for prompts in experiment.prompts if prompts not in label]
    for generator in experiment.generators:
        for count in experiment.counts:
            for llm in assisted:
                for plain in label:
                    ctx.compare(condition(name, experiment, generator, llm, count, ctx.seeds[0]),
                                condition(name, experiment, generator, plain, count, ctx.seeds[0]),
                                "LLM-assisted vs label prompts")
    for merged, member in merged_pairs(ctx.config, experiment.generators):
        for prompts in experiment.prompts:
            for count in experiment.counts:
                ctx.compare(condition(name, experiment, merged, prompts, count, ctx.seeds[0]),
                            condition(name, experiment, member, prompts, count, ctx.seeds[0]), MERGED_VS_SINGLE)


def condition(name: str, experiment: ZeroShot, generator: str, prompts: str, count: int, seed: int) -> Condition:
    """What a zero-shot (or quantity) result measured."""
    return Condition(name, experiment.kind, experiment.dataset, "synthetic only", generator, prompts, count, 0.0,
                     experiment.validation, seed, None)


def zero_shot_run(ctx: StudyContext, experiment: str, dataset: str, generator: str, prompts: str, count: int,
                  seed: int, holdout: float | None = None):
    """(train stage, synthetic subset) of the zero-shot run; shared with the class filter, which reads it."""
    synthetic = ctx.synthetic(dataset, generator, prompts, count, seed, holdout)
    val = synthetic.val if holdout else ctx.real(dataset)
    title = f"{experiment}: {dataset} zero-shot {generator}/{prompts} {count} clips/class seed {seed}"
    return ctx.train(experiment, dataset, [synthetic.train], val, seed, title), synthetic
