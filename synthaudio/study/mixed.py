"""Mixed training: a seeded, stratified fraction of the real training split plus synthetic clips, against the
real-only baseline at the same fraction; selection on the real validation split.

Compared (paired, in the report): each mixed setting against real-only at the same real fraction, and a merged
generator against each of its members the experiment lists, at the same real fraction, prompts and clips per
class."""

from synthaudio.report.results import Condition
from synthaudio.study.context import StudyContext
from synthaudio.study.schema import Mixed
from synthaudio.study.synthetic import MERGED_VS_SINGLE, merged_pairs


def plan(ctx: StudyContext, name: str, experiment: Mixed) -> None:
    dataset = experiment.dataset
    check_real_data(ctx, name, dataset)
    for fraction in experiment.real_fractions:
        for seed in ctx.seeds:
            baseline(ctx, name, experiment, fraction, seed)
            for generator in experiment.generators:
                for prompts in experiment.prompts:
                    for count in experiment.clips_per_class:
                        synthetic = ctx.synthetic(dataset, generator, prompts, count, seed)
                        training = ctx.train(name, dataset, [ctx.real_train(dataset, fraction, seed), synthetic.train],
                                             ctx.real(dataset), seed,
                                             f"{name}: {dataset} {fraction:g} real + {generator}/{prompts} {count} "
                                             f"clips/class seed {seed}")
                        mixed = Condition(name, experiment.kind, dataset, "mixed", generator, prompts, count,
                                          fraction, "real", seed, None)
                        result(ctx, experiment, training, mixed, synthetic.pools)
                        ctx.compare(mixed, real_only(name, experiment, fraction, seed), "mixed vs real only")
    compare_merged(ctx, name, experiment)


def compare_merged(ctx: StudyContext, name: str, experiment: Mixed, variants: tuple[str, ...] = ("mixed",)) -> None:
    """Declare each merged generator against each of its members listed, per real fraction, prompts, clips per
    class and variant (e.g. class-filtered)."""
    for merged, member in merged_pairs(ctx.config, experiment.generators):
        for fraction in experiment.real_fractions:
            for prompts in experiment.prompts:
                for count in experiment.clips_per_class:
                    for variant in variants:
                        ctx.compare(*(Condition(name, experiment.kind, experiment.dataset, variant, generator,
                                                prompts, count, fraction, "real", ctx.seeds[0], None)
                                      for generator in (merged, member)), MERGED_VS_SINGLE)


def check_real_data(ctx: StudyContext, name: str, dataset: str) -> None:
    ctx.require_rows(dataset, "train", ("experiments", name, "dataset"), "mixed training needs real training data")
    ctx.require_rows(dataset, "val", ("experiments", name, "dataset"), "the model is selected on the real val split")
    ctx.require_rows(dataset, "test", ("experiments", name, "dataset"), "the study tests on the real test split")


def real_only_run(ctx: StudyContext, name: str, dataset: str, fraction: float, seed: int):
    """The real-only run at `fraction` (also the clip filter's scorer)."""
    return ctx.train(name, dataset, [ctx.real_train(dataset, fraction, seed)], ctx.real(dataset), seed,
                     f"{name}: {dataset} {fraction:g} real only seed {seed}")


def real_only(name: str, experiment, fraction: float, seed: int) -> Condition:
    """The condition of the real-only baseline at `fraction`."""
    return Condition(name, experiment.kind, experiment.dataset, "real only", None, None, 0, fraction, "real", seed,
                     None)


def baseline(ctx: StudyContext, name: str, experiment, fraction: float, seed: int) -> None:
    training = real_only_run(ctx, name, experiment.dataset, fraction, seed)
    result(ctx, experiment, training, real_only(name, experiment, fraction, seed), ())


def result(ctx: StudyContext, experiment, training, condition: Condition, pools: tuple[str, ...]) -> None:
    """Evaluate a mixed-training run on the real test split and show it in the report."""
    evaluation = ctx.evaluate(training, ctx.real(experiment.dataset), condition.seed)
    ctx.result(evaluation, training, condition, pools)
