"""Confusion-aware rewrites of a class's descriptors (as in Synthio's caption refinement): the LLM is told what a
recognition model mistakes the class for ("b is mistaken for d and e") and asked for ways of rendering it that set
it apart. The answer passes the same screen as every LLM descriptor (screening.py: offensive words, then
relevance) before it is used; dropped words are counted, never listed.

A rewrite that the LLM cannot deliver within its retries is returned as failed, with the reason: the caller keeps
the class's previous prompts and says so, rather than stopping a study on a weak LLM's bad answer.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from synthaudio.llm import ChatModel, LLMError
from synthaudio.prompts.descriptors import DescriptorRequest, ask_descriptors
from synthaudio.prompts.screening import DescriptorScreen


@dataclass(frozen=True)
class Rewrite:
    """One class's rewritten descriptors (empty when `failed` says why there are none)."""

    label: str
    confused_with: list[str]
    descriptors: list[str]
    attempts: int
    dropped: dict[str, int] = field(default_factory=dict)  # screened-out items per reason
    failed: str | None = None

    def record(self) -> dict:
        return {"label": self.label, "confused_with": self.confused_with, "descriptors": self.descriptors,
                "attempts": self.attempts, "dropped": self.dropped, "failed": self.failed}


def rewrite_descriptors(llm: ChatModel, label: str, confused_with: Sequence[str], request: DescriptorRequest,
                        screen: DescriptorScreen | None = None) -> Rewrite:
    """New descriptors of `label` that set it apart from `confused_with` (see the module docstring)."""
    screen = screen or DescriptorScreen(request.domain, request.relevance)
    try:
        descriptors, attempts = ask_descriptors(llm, label, request, screen, confused_with=list(confused_with))
    except LLMError as error:
        return Rewrite(label, list(confused_with), [], 1 + request.retries, screen.counts(label), str(error))
    return Rewrite(label, list(confused_with), list(descriptors), attempts, screen.counts(label))
