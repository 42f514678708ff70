"""Pool prompts: the prompts of N clips are the first N of any larger pool (so a pool can grow), for every
strategy, built from the prompts stage's material without asking the LLM again. The relevance screen's study
settings reach the screen, and only a changed setting changes the prompts stage's cache key."""

import pytest
import yaml

from synthaudio.prompts.build import build_prompt_set
from synthaudio.prompts.promptfile import read_prompts, write_prompts
from synthaudio.prompts.relevance import RelevanceSettings
from synthaudio.prompts.screening import SAFETY
from synthaudio.study.cache import stage_key
from synthaudio.study.prompting import (
    MATERIAL,
    _request,
    build_pool_prompts,
    relevance_settings,
    write_prompt_material,
)
from synthaudio.study.schema import PromptsEntry, load_study
from synthaudio.study.stages import stage_identity
from synthaudio.study.synthetic import PromptsStage, prompts_identity
from tests.prompts.prompts_helpers import LLMServer, chat_reply, numbered

LABELS = ["dog", "car_horn"]


@pytest.fixture
def llm_server():
    server = LLMServer()
    yield server
    server.close()


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


# ---------------------------------------------------------------- the relevance screen's study settings

def llm_entry(**options) -> PromptsEntry:
    return PromptsEntry(strategy="llm", llm={"backend": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
                        options=options)


def prompts_stage_key(entry: PromptsEntry) -> str:
    return stage_key("prompts", stage_identity(PromptsStage(LABELS, "sound", entry, prompts_identity(entry), 0)))


def test_relevance_options_reach_the_screen_as_the_cli_flags_do():
    assert _request(LABELS, "sound", llm_entry(), 0, 1).relevance == RelevanceSettings()
    request = _request(LABELS, "sound", llm_entry(relevance_threshold=0.3, embedding_model="org/model",
                                                  retries=2), 0, 1)
    assert request.relevance == RelevanceSettings(threshold=0.3, model="org/model") and request.retries == 2
    assert _request(LABELS, "sound", llm_entry(relevance=False), 0, 1).relevance.enabled is False


def test_a_changed_threshold_asks_again_and_an_entry_without_one_keeps_its_cache():
    # the identity of an entry that sets no relevance option is what it was before these options existed
    assert prompts_identity(llm_entry()) == {"strategy": "llm", "llm": llm_entry().llm, "descriptors": None,
                                              "options": {}}
    keys = {prompts_stage_key(llm_entry(**options)) for options in (
        {}, {"relevance_threshold": 0.2}, {"relevance_threshold": 0.3}, {"relevance": False},
        {"embedding_model": "org/model"})}
    assert len(keys) == 5
    assert prompts_stage_key(llm_entry(relevance_threshold=0.2)) == prompts_stage_key(llm_entry(
        relevance_threshold=0.2))


def test_an_embedding_model_folder_is_found_beside_the_study_file_and_keyed_as_written(tmp_path):
    (tmp_path / "models" / "minilm").mkdir(parents=True)
    study = {"name": "t", "datasets": {"d": {"manifest": "d.jsonl", "domain": "sound"}},
             "prompts": {"llm": {"strategy": "llm", "llm": {"backend": "smollm2"},
                                 "options": {"embedding_model": "models/minilm"}},
                         "hub": {"strategy": "llm", "llm": {"backend": "smollm2"},
                                 "options": {"embedding_model": "org/model"}}},
             "generators": {"g": {"generator": "audioldm2", "checkpoint": "tiny-random", "duration": 1.0}},
             "experiments": {"zs": {"kind": "zero_shot", "dataset": "d", "generators": ["g"], "prompts": ["llm"],
                                    "clips_per_class": 2}}}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study))
    config = load_study(path)
    local, hub = config.prompts["llm"], config.prompts["hub"]
    assert relevance_settings(local).model == str((tmp_path / "models" / "minilm").resolve())
    assert prompts_identity(local)["options"] == {"embedding_model": "models/minilm"}  # a moved folder keeps it
    assert relevance_settings(hub).model == "org/model"  # no such folder: a Hugging Face id


def test_relevance_off_keeps_what_the_screen_would_drop(tmp_path, llm_server):
    # "nice" is generic praise: dropped (and re-asked) by default, kept with relevance: false
    words = ["barking", "nice", "growling", "howling", "snarling", "yapping", "whimpering", "baying", "woofing",
             "panting"]
    llm_server.script(chat_reply(numbered(words)))
    entry = PromptsEntry(strategy="llm", llm={"backend": "openai", "base_url": llm_server.url, "model": "m"},
                         options={"relevance": False, "retries": 0})
    write_prompt_material(["dog"], "sound", entry, 0, tmp_path)
    made = read_prompts(tmp_path / MATERIAL).provenance
    assert made["descriptors"] == {"dog": words}
    assert made["screen"] == {"safety": SAFETY, "relevance": "off"}
    assert len(llm_server.requests) == 1
