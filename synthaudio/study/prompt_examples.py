"""What the report shows of the prompts a study compared: for every set of classes (a dataset or a label set) and
every prompt strategy a generation pool used, a few prompts per class, read from the pool's prompts.json.

A pool's prompts are the same whatever generator reads them (they depend on the classes, the strategy and the
generation seed only), so the first pool planned for each (classes, strategy) speaks for them all. For speech, where
the prompt file records it, the descriptors the voice realises and those it cannot are kept beside the examples.
Pools whose prompts.json does not exist (a study stopped before them) are left out.
"""

from pathlib import Path
from typing import Any

from synthaudio.prompts.promptfile import PromptSet, read_prompts
from synthaudio.report.results import PromptExamples
from synthaudio.study.plan import Plan

EXAMPLES_PER_CLASS = 3
POOL_PROMPTS = "prompts.json"  # written by PoolStage into the pool's folder


def prompt_examples(prompt_set: PromptSet, labels_from: str, prompts: str, per_class: int = EXAMPLES_PER_CLASS
                    ) -> PromptExamples:
    """The first `per_class` distinct prompts of each class of `prompt_set`, with where they come from."""
    made = prompt_set.provenance
    examples = {label: list(dict.fromkeys(texts))[:per_class] for label, texts in prompt_set.prompts.items()}
    applied: dict[str, list[str]] = {}
    ignored: dict[str, list[str]] = {}
    if "descriptors_ignored" in made:  # speech descriptors an LLM wrote, screened for what the voice can do
        applied = {label: list(made.get("descriptors", {}).get(label, [])) for label in examples}
        ignored = {label: list(made["descriptors_ignored"].get(label, [])) for label in examples}
    return PromptExamples(labels_from=labels_from, domain=prompt_set.domain, prompts=prompts,
                          strategy=prompt_set.strategy, source=_source(made), examples=examples, applied=applied,
                          ignored=ignored)


def _source(made: dict[str, Any]) -> str:
    """Where the prompts come from, in a few words."""
    llm = made.get("llm")
    if isinstance(llm, dict):
        name = " ".join(str(llm[key]) for key in ("backend", "model") if llm.get(key)) or "an LLM"
        return f"{'captions' if made.get('strategy') == 'caption' else 'descriptors'} by {name}"
    if made.get("descriptor_file"):
        return f"descriptor file {Path(made['descriptor_file']).name}"
    if made.get("template"):
        return f"template '{made['template']}'"
    return str(made.get("strategy", "unknown"))


def collect_prompt_examples(plan: Plan) -> list[PromptExamples]:
    """One PromptExamples per (classes, prompt strategy) the plan's pools used, sorted by those names."""
    found: dict[tuple[str, str], PromptExamples] = {}
    for key, use in plan.pool_uses.items():
        name = (use.labels_from, use.prompts)
        path = Path(plan.stages[key].folder) / POOL_PROMPTS
        if name in found or not path.is_file():
            continue
        found[name] = prompt_examples(read_prompts(path), use.labels_from, use.prompts)
    return [found[name] for name in sorted(found)]
