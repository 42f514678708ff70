"""Quantity: zero-shot accuracy as a function of clips per class (nested subsets of one pool per generator and
prompt strategy, so the larger amounts contain the smaller ones).

Compared (paired, in the report): each amount against the smallest, per generator and prompts; and, as in
zero-shot, LLM-assisted against label prompts where the experiment has both, and a merged generator against each
of its members listed, at every clips per class."""

from synthaudio.study import zero_shot
from synthaudio.study.context import StudyContext
from synthaudio.study.schema import Quantity


def plan(ctx: StudyContext, name: str, experiment: Quantity) -> None:
    zero_shot.plan(ctx, name, experiment)
    smallest, *larger = experiment.counts
    for generator in experiment.generators:
        for prompts in experiment.prompts:
            for count in larger:
                ctx.compare(zero_shot.condition(name, experiment, generator, prompts, count, ctx.seeds[0]),
                            zero_shot.condition(name, experiment, generator, prompts, smallest, ctx.seeds[0]),
                            "more clips per class vs the fewest")
