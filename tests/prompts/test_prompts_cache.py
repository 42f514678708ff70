"""The descriptor cache: kept across runs, extended one label at a time, never overwritten by a failed run."""

import json

import pytest
from prompts_helpers import chat_reply, error_reply, last_user_text, numbered

from synthaudio.errors import ConfigError
from synthaudio.llm import LLMError, LLMOptions, RetryPolicy, make_llm
from synthaudio.prompts.descriptors import DescriptorRequest, collect_descriptors
from synthaudio.prompts.relevance import RelevanceSettings

LISTS = {
    "dog": ["barking", "growling", "howling", "whining", "yelping", "panting", "snarling", "loud", "sharp", "playful"],
    "rain": ["pattering", "dripping", "steady", "splashing", "soft", "heavy", "drumming", "wet", "gurgling",
             "hissing"],
    "siren": ["wailing", "loud", "rising", "falling", "piercing", "urgent", "electronic", "doppler shift", "distant",
              "two-tone"],
}


@pytest.fixture
def llm(llm_server):
    broken = set()

    def answer(request):
        label = next(name for name in LISTS if f"'{name}'" in last_user_text(request))
        return error_reply(500) if label in broken else chat_reply(numbered(LISTS[label]))

    llm_server.handler = answer
    llm_server.broken = broken
    return make_llm("openai", LLMOptions(model="m", base_url=llm_server.url,
                                         retry=RetryPolicy(attempts=2, initial_backoff_s=0.01)))


def request(count=10):
    # Caching only: the relevance screen (tested in test_prompts_screening.py) stays off.
    return DescriptorRequest("sound", count=count, context="ESC-50 environmental sounds", retries=1, seed=0,
                             relevance=RelevanceSettings(enabled=False))


def test_a_failed_run_keeps_the_lists_it_got_and_the_rerun_asks_only_for_the_rest(tmp_path, llm, llm_server):
    cache = tmp_path / "descriptors.json"
    llm_server.broken.add("siren")
    with pytest.raises(LLMError, match="HTTP 500"):
        collect_descriptors(llm, ["dog", "rain", "siren"], request(), cache)
    saved = json.loads(cache.read_text())
    assert saved["descriptors"] == {"dog": LISTS["dog"], "rain": LISTS["rain"]}
    assert saved["provenance"]["dog"]["backend"] == "openai" and saved["provenance"]["dog"]["count"] == 10
    asked_before = len(llm_server.requests)

    llm_server.broken.clear()
    found, provenance = collect_descriptors(llm, ["dog", "rain", "siren"], request(), cache)
    assert found == LISTS
    assert len(llm_server.requests) == asked_before + 1  # only siren
    assert json.loads(cache.read_text())["descriptors"] == LISTS
    assert provenance["made_by"] == {label: "openai m" for label in LISTS}


def test_labels_match_cached_keys_whatever_their_spelling(tmp_path, llm, llm_server):
    cache = tmp_path / "descriptors.json"
    collect_descriptors(llm, ["dog"], request(), cache)
    found, _ = collect_descriptors(llm, ["Dog"], request(), cache)
    assert found == {"Dog": LISTS["dog"]} and len(llm_server.requests) == 1


def test_a_list_made_for_another_count_is_replaced_only_by_a_valid_one(tmp_path, llm, llm_server):
    cache = tmp_path / "descriptors.json"
    collect_descriptors(llm, ["dog"], request(), cache)
    good = cache.read_bytes()
    # 12 are now wanted; the server answers the same 10 each time, never enough, so the old list stays.
    with pytest.raises(LLMError, match="it has 10 items, expected exactly 12; 2 more needed"):
        collect_descriptors(llm, ["dog"], request(count=12), cache)
    assert cache.read_bytes() == good


def test_a_corrupt_cache_is_refused_and_left_alone(tmp_path, llm, llm_server):
    cache = tmp_path / "descriptors.json"
    cache.write_text('{"format": "synthaudio.descriptors/1", "descriptors": {"dog": "barking"}}')
    before = cache.read_bytes()
    with pytest.raises(ConfigError, match="'dog' must map to a non-empty list"):
        collect_descriptors(llm, ["dog"], request(), cache)
    assert cache.read_bytes() == before and llm_server.requests == []


def test_no_temporary_files_are_left_behind(tmp_path, llm):
    collect_descriptors(llm, ["dog", "rain"], request(), tmp_path / "descriptors.json")
    assert [p.name for p in tmp_path.iterdir()] == ["descriptors.json"]


def test_answers_that_fail_as_a_whole_still_give_their_usable_items(tmp_path, llm, llm_server):
    answers = iter([["barking", "loud", "a dog that barks at night", "dog", "furry"],  # 5 items, 2 unusable
                    ["howling", "loud", "playful", "growling", "yapping", "friendly", "alert", "canine"]])

    def answer(request):
        return chat_reply(numbered(next(answers)))

    llm_server.handler = answer
    found, _ = collect_descriptors(llm, ["dog"], request(count=10), tmp_path / "cache.json")
    # the long item and the name itself are never kept; repeats count once; 3 + 7 new items make the ten
    assert found["dog"] == ["barking", "loud", "furry", "howling", "playful", "growling", "yapping", "friendly",
                            "alert", "canine"]
