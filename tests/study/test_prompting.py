"""Pool prompts: the prompts of N clips are the first N of any larger pool (so a pool can grow), for every
strategy, built from the prompts stage's material without asking the LLM again."""

import pytest

from synthaudio.prompts.build import build_prompt_set
from synthaudio.prompts.promptfile import write_prompts
from synthaudio.study.prompting import MATERIAL, build_pool_prompts
from synthaudio.study.schema import PromptsEntry

LABELS = ["dog", "car_horn"]


def material(folder, strategy):
    made = {"descriptors": {label: [f"{label} word {i}" for i in range(10)] for label in LABELS}} \
        if strategy == "llm" else {"captions": {label: [f"a {label} caption number {i}." for i in range(4)]
                                                for label in LABELS}}
    write_prompts(folder / MATERIAL, build_prompt_set(LABELS, "sound", strategy, 1, 7, provenance={"llm": "x"},
                                                      **made))
    return PromptsEntry(strategy=strategy, llm={"backend": "openai"})


@pytest.mark.parametrize("strategy", ["llm", "caption"])
def test_prompts_of_fewer_clips_are_a_prefix(tmp_path, strategy):
    entry = material(tmp_path, strategy)
    small = build_pool_prompts(LABELS, "sound", entry, 7, tmp_path, 3)
    large = build_pool_prompts(LABELS, "sound", entry, 7, tmp_path, 9)
    for label in LABELS:
        assert large.prompts[label][:3] == small.prompts[label]
        assert len(set(large.prompts[label])) > 1  # clips differ
    assert large.provenance["llm"] == "x" and large.seed == 7 and large.strategy == strategy


def test_label_prompts_need_no_material():
    entry = PromptsEntry(strategy="label")
    assert build_pool_prompts(LABELS, "sound", entry, 0, None, 2).prompts == {"dog": ["dog sound"] * 2,
                                                                              "car_horn": ["car horn sound"] * 2}
