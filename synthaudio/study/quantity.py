"""Quantity: zero-shot accuracy as a function of clips per class (nested subsets of one pool per generator and
prompt strategy, so the larger amounts contain the smaller ones)."""

from synthaudio.study import zero_shot
from synthaudio.study.context import StudyContext
from synthaudio.study.schema import Quantity


def plan(ctx: StudyContext, name: str, experiment: Quantity) -> None:
    zero_shot.plan(ctx, name, experiment)
