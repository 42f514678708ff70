"""`caption` strategy: one-sentence captions per class, each validated, deduplicated, collected to N."""

import pytest
from prompts_helpers import chat_reply, system_text

from synthaudio.llm import LLMError, LLMOptions, RetryPolicy, make_llm
from synthaudio.prompts.build import PromptRequest, make_prompt_set
from synthaudio.prompts.captions import CaptionRequest, ask_captions, caption_problem, parse_captions

GOOD = ["A car horn honks twice on a busy street.", "A distant car horn blares over traffic noise.",
        "Someone leans on a car horn in a parking garage.", "Two short car horn beeps echo between buildings."]


@pytest.mark.parametrize(("caption", "problem"), [
    ("A car horn honks twice on a busy street.", None),
    ("Horns blare in a traffic jam at dusk.", None),  # 'horn' as the start of a word names the class
    ("Here are 4 captions for the car horn:", "an introduction, not a caption"),
    ("Loud horn.", "2 words (captions need 4-40)"),
    ("A dog barks in the yard at night.", "does not name the class"),
    ("A car horn honks. Then it stops abruptly.", "more than one sentence"),
    ("A car horn [honks] twice in the street.", "contains markup"),
])
def test_caption_checks(caption, problem):
    assert caption_problem(caption, "car_horn") == problem


def test_parsing_strips_numbering_and_quotes():
    assert parse_captions('1. "A car horn honks."\n\n- **Two beeps of a car horn.**') == [
        "A car horn honks.", "Two beeps of a car horn."]


def _llm(server):
    return make_llm("openai", LLMOptions(model="m", base_url=server.url,
                                         retry=RetryPolicy(attempts=1, initial_backoff_s=0.0)))


def test_valid_captions_are_kept_across_requests_until_there_are_enough(llm_server):
    llm_server.script(
        chat_reply("Here are the captions:\n1. " + GOOD[0] + "\n2. A dog barks loudly in the yard.\n3. " + GOOD[1]
                   + "\n4. " + GOOD[0].upper()),
        chat_reply("\n".join(GOOD[2:])))
    captions, requests = ask_captions(_llm(llm_server), "car_horn", CaptionRequest("sound", count=4, retries=2))
    assert captions == GOOD and requests == 2
    second = llm_server.requests[1]
    assert "Write 2 different one-sentence captions" in second["json"]["messages"][-1]["content"]
    assert "Do not repeat these: " + " | ".join(GOOD[:2]) in second["json"]["messages"][-1]["content"]
    assert "1 rejected as an introduction, not a caption; 1 rejected as does not name the class; 1 rejected as a " \
           "repeat" in system_text(second)


def test_too_few_captions_end_in_one_clear_error(llm_server):
    llm_server.script(chat_reply(GOOD[0]))
    with pytest.raises(LLMError) as error:
        ask_captions(_llm(llm_server), "car_horn", CaptionRequest("sound", count=3, retries=1))
    assert str(error.value) == ("the openai LLM wrote 1 of 3 usable captions for 'car_horn' in 2 requests (last "
                                "rejections: 1 a repeat); raise --retries, lower --num-captions, or use a stronger "
                                "--llm")


def test_caption_prompt_set_uses_the_captions(llm_server):
    llm_server.script(chat_reply("\n".join(GOOD)))
    request = PromptRequest(labels=["car_horn"], domain="sound", strategy="caption", clips_per_class=6,
                            num_captions=4, llm_backend="openai", negative_prompt="auto",
                            llm_options=LLMOptions(model="m", base_url=llm_server.url))
    prompt_set = make_prompt_set(request)
    assert set(prompt_set.prompts["car_horn"]) <= set(GOOD) and sorted(prompt_set.prompts["car_horn"][:4]) == \
        sorted(GOOD)
    assert prompt_set.negative_prompt == "low quality, distorted, clipping, muffled, music"
    assert prompt_set.provenance["llm"]["backend"] == "openai"
    assert "one-sentence captions" in prompt_set.provenance["instruction"]["question"]
