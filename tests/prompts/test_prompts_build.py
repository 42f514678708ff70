"""Building prompts.json: the prompts per clip, determinism, and refused inputs."""

import pytest
from prompts_helpers import ESC50_LABELS, paper_file

from synthaudio.errors import ConfigError
from synthaudio.prompts.build import PromptRequest, build_prompt_set, make_prompt_set
from synthaudio.prompts.descriptor_file import descriptors_for_labels
from synthaudio.prompts.promptfile import read_prompts, write_prompts


def test_esc50_label_prompts_for_50_labels_by_30_clips(tmp_path):
    prompt_set = build_prompt_set(ESC50_LABELS, "sound", "label", 30, seed=0)
    write_prompts(tmp_path / "prompts.json", prompt_set)
    back = read_prompts(tmp_path / "prompts.json")
    assert list(back.prompts) == ESC50_LABELS
    assert sum(len(p) for p in back.prompts.values()) == 1500
    assert back.prompts["car_horn"] == ["car horn sound"] * 30
    assert back.prompts["door_wood_creaks"][29] == "door wood creaks sound"
    assert back.provenance == {"strategy": "label", "template": "{label} sound"}


def _study_prompts(seed, clips=30, draws=3):
    descriptors = descriptors_for_labels(paper_file("esc50"), ESC50_LABELS)
    return build_prompt_set(ESC50_LABELS, "sound", "llm", clips, seed, descriptors=descriptors,
                            descriptors_per_prompt=draws), descriptors


def test_llm_prompts_are_the_label_prompt_and_three_distinct_descriptors():
    prompt_set, descriptors = _study_prompts(seed=0)
    for label, prompts in prompt_set.prompts.items():
        base = label.replace("_", " ") + " sound, "
        for prompt in prompts:
            assert prompt.startswith(base)
            drawn = prompt[len(base):].split(", ")
            assert len(drawn) == 3 and len(set(drawn)) == 3
            assert set(drawn) <= set(descriptors[label])
    assert prompt_set.provenance["descriptors"]["siren"] == descriptors["siren"]
    assert prompt_set.provenance["descriptors_per_prompt"] == 3


def test_draw_count_is_configurable():
    prompt_set, _ = _study_prompts(seed=0, draws=5)
    assert all(len(p.split(", ")) == 1 + 5 for p in prompt_set.prompts["dog"])


def test_same_seed_same_bytes_other_seed_other_draws(tmp_path):
    first, second, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    write_prompts(first, _study_prompts(seed=7)[0])
    write_prompts(second, _study_prompts(seed=7)[0])
    write_prompts(other, _study_prompts(seed=8)[0])
    assert first.read_bytes() == second.read_bytes()
    a, c = read_prompts(first).prompts, read_prompts(other).prompts
    differing = sum(x != y for label in a for x, y in zip(a[label], c[label], strict=True))
    assert differing > 1000  # of 1500 clips; a clip's draw depends only on (seed, label, clip index)


def test_a_clips_prompt_does_not_depend_on_how_many_clips_are_asked():
    ten, _ = _study_prompts(seed=3, clips=10)
    thirty, _ = _study_prompts(seed=3, clips=30)
    assert all(thirty.prompts[label][:10] == ten.prompts[label] for label in ESC50_LABELS)


def test_captions_cycle_through_every_caption_each_round():
    captions = {"dog": [f"A dog barks {n} times in a yard." for n in range(4)]}
    prompt_set = build_prompt_set(["dog"], "sound", "caption", 10, seed=1, captions=captions)
    prompts = prompt_set.prompts["dog"]
    assert sorted(prompts[:4]) == sorted(captions["dog"]) and sorted(prompts[4:8]) == sorted(captions["dog"])
    assert set(prompts[8:]) <= set(captions["dog"])
    assert prompt_set.provenance["captions"] == captions


def test_negative_prompt_auto_is_the_domain_default():
    request = PromptRequest(labels=["dog"], domain="sound", clips_per_class=2, negative_prompt="auto")
    assert make_prompt_set(request).negative_prompt == "low quality, distorted, clipping, muffled, music"
    request.negative_prompt = "rain"
    assert make_prompt_set(request).negative_prompt == "rain"


@pytest.mark.parametrize(("labels", "domain", "strategy", "clips", "message"), [
    ([], "sound", "label", 3, "no labels: pass --labels \"a,b,c\" or --labels-from MANIFEST"),
    (["dog", ""], "sound", "label", 3, "empty label in ['dog', '']; remove the blank entry"),
    (["dog", "dog"], "sound", "label", 3, "label 'dog' is given twice"),
    (["dog"], "noise", "label", 3, "unknown domain 'noise'; choose one of: sound, music, speech, action"),
    (["dog"], "sound", "gpt", 3, "unknown strategy 'gpt'; choose one of: label, llm, caption"),
    (["dog"], "sound", "label", 0, "--clips-per-class must be a positive whole number, got 0"),
    (["dog"], "sound", "label", -5, "--clips-per-class must be a positive whole number, got -5"),
])
def test_bad_inputs_are_refused_with_the_fix(labels, domain, strategy, clips, message):
    with pytest.raises(ConfigError) as error:
        build_prompt_set(labels, domain, strategy, clips, seed=0)
    assert str(error.value) == message


def test_more_draws_than_descriptors_is_refused():
    with pytest.raises(ConfigError, match="--descriptors-per-prompt 3 is not possible for label 'dog', which has 2"):
        build_prompt_set(["dog"], "sound", "llm", 2, 0, descriptors={"dog": ["barking", "loud"]})


@pytest.mark.parametrize(("changes", "message"), [
    ({"strategy": "label", "descriptors_file": "x.json"}, "--descriptors and --descriptors-out only apply to"),
    ({"strategy": "llm", "descriptors_file": "x.json", "llm_backend": "openai"}, "--descriptors reuses a descriptor"),
    ({"strategy": "label", "llm_backend": "openai"}, "--llm has no effect with --strategy label"),
    ({"strategy": "llm", "llm_backend": "chatgpt"},
     "unknown LLM backend 'chatgpt'; known LLM backends: openai, gemini, transformers, smollm2"),
])
def test_options_that_do_not_fit_the_strategy_are_refused(changes, message):
    request = PromptRequest(labels=["dog"], domain="sound", clips_per_class=2, **changes)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        make_prompt_set(request)


def test_zero_draws_is_refused():
    with pytest.raises(ConfigError, match="--descriptors-per-prompt must be at least 1, got 0"):
        build_prompt_set(["dog"], "sound", "llm", 2, 0, descriptors={"dog": ["barking"]}, descriptors_per_prompt=0)
