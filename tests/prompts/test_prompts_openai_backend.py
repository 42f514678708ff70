"""The openai backend against a real HTTP server on 127.0.0.1: answers, HTTP errors, malformed JSON, wrong item
counts and slow answers, with small timeouts and backoff set through parameters."""

import json
import time

import pytest
from prompts_helpers import Reply, chat_reply, error_reply, numbered, system_text

from synthaudio.errors import ConfigError
from synthaudio.llm import LLMError, LLMOptions, RetryPolicy, make_llm
from synthaudio.llm.base import public_url
from synthaudio.prompts.descriptors import DescriptorRequest, ask_descriptors

TEN = ["wailing", "loud", "rising", "falling", "piercing", "urgent", "electronic", "doppler shift", "distant",
       "two-tone"]
FAST = RetryPolicy(attempts=3, initial_backoff_s=0.01, max_backoff_s=1.0, timeout_s=2.0)


def make(server, retry=FAST, **options):
    return make_llm("openai", LLMOptions(model="test-model", base_url=server.url, retry=retry, **options))


def ask(llm, label="siren", retries=2):
    return ask_descriptors(llm, label, DescriptorRequest("sound", context="ESC-50 environmental sounds",
                                                         retries=retries, seed=5))


def test_a_good_answer_gives_the_descriptors_and_the_request_is_a_real_chat_completion(llm_server):
    llm_server.script(chat_reply("Here are 10 characteristics:\n" + numbered(TEN)))
    descriptors, attempts = ask(make(llm_server, api_key="sk-test"))
    assert (descriptors, attempts) == (TEN, 1)
    [request] = llm_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == "Bearer sk-test"
    body = request["json"]
    assert body["model"] == "test-model" and body["temperature"] == 0.7 and body["top_p"] == 0.95
    assert isinstance(body["seed"], int) and body["max_tokens"] == 1024  # room for reasoning models
    assert body["messages"][-1]["content"].startswith("Dataset: ESC-50 environmental sounds.")


def test_http_500_is_retried(llm_server):
    llm_server.script(error_reply(500, "boom"), error_reply(503), chat_reply(", ".join(TEN)))
    assert ask(make(llm_server)) == (TEN, 1)
    assert len(llm_server.requests) == 3


def test_429_waits_as_long_as_retry_after_says(llm_server):
    llm_server.script(error_reply(429, "slow down", {"Retry-After": "0.4"}), chat_reply(", ".join(TEN)))
    policy = RetryPolicy(attempts=2, initial_backoff_s=0.0, max_backoff_s=5.0, timeout_s=2.0)
    started = time.monotonic()
    assert ask(make(llm_server, retry=policy)) == (TEN, 1)
    assert time.monotonic() - started >= 0.4  # the server's wish, not the 0 s backoff of the policy


def test_429_without_retry_after_backs_off_then_fails_clearly(llm_server):
    llm_server.script(error_reply(429, "rate limited"))
    with pytest.raises(LLMError) as error:
        ask(make(llm_server))
    message = str(error.value)
    assert message.startswith(f"openai backend at {llm_server.url} (model test-model): HTTP 429")
    assert "gave up after 3 attempts" in message and "check that the server is up" in message
    assert len(llm_server.requests) == 3


def test_malformed_json_is_retried_then_reported(llm_server):
    llm_server.script(Reply(200, b"{not json"), chat_reply(", ".join(TEN)))
    assert ask(make(llm_server)) == (TEN, 1)
    llm_server.script(Reply(200, b"{not json"))
    with pytest.raises(LLMError, match=r"malformed answer .* \(gave up after 3 attempts\)"):
        ask(make(llm_server))


def test_an_answer_without_choices_is_malformed(llm_server):
    llm_server.script(Reply(200, json.dumps({"id": "x", "object": "chat.completion"}).encode()))
    with pytest.raises(LLMError, match="malformed answer .*no choices"):
        ask(make(llm_server))


def test_wrong_item_counts_are_sent_back_and_finally_fail_clearly(llm_server):
    llm_server.script(chat_reply(", ".join(TEN[:9])), chat_reply(numbered(TEN + ["shrill"])),
                      chat_reply(", ".join(TEN[:8])))
    with pytest.raises(LLMError) as error:
        ask(make(llm_server), retries=2)
    assert str(error.value) == (
        "the openai LLM (test-model) gave no usable list of 10 descriptors for 'siren' in 3 attempts (last answer: "
        "it has 8 items, expected exactly 10); raise --retries, use a stronger --llm, or pass a descriptor file "
        "with --descriptors")
    first, second, third = llm_server.requests
    assert "rejected" not in system_text(first)
    assert "Your last answer to this question was rejected: it has 9 items, expected exactly 10." in \
        system_text(second)
    assert "it has 11 items, expected exactly 10" in system_text(third)
    assert first["json"]["seed"] != second["json"]["seed"]


def test_a_retry_with_feedback_can_succeed(llm_server):
    llm_server.script(chat_reply(", ".join(TEN[:5] + ["siren wail"] + TEN[6:])), chat_reply(", ".join(TEN)))
    assert ask(make(llm_server)) == (TEN, 2)
    assert "repeats the name itself: 'siren wail'" in system_text(llm_server.requests[1])


def test_an_answer_cut_at_max_tokens_is_rejected(llm_server):
    llm_server.script(chat_reply(", ".join(TEN), finish_reason="length"), chat_reply(", ".join(TEN)))
    assert ask(make(llm_server)) == (TEN, 2)
    assert "it was cut off at 84 tokens" in system_text(llm_server.requests[1])


def test_slow_answers_time_out_are_retried_and_reported(llm_server):
    policy = RetryPolicy(attempts=2, initial_backoff_s=0.01, timeout_s=0.3)
    slow = chat_reply(", ".join(TEN))
    slow.delay_s = 1.5
    llm_server.script(slow, chat_reply(", ".join(TEN)))
    assert ask(make(llm_server, retry=policy)) == (TEN, 1)  # first call timed out, the retry answered
    llm_server.script(slow)
    with pytest.raises(LLMError) as error:
        ask(make(llm_server, retry=policy))
    assert "no answer within 0.3 s (gave up after 2 attempts)" in str(error.value)
    assert "raise --llm-timeout" in str(error.value)


def test_refused_key_and_wrong_path_fail_at_once(llm_server):
    llm_server.script(error_reply(401, "invalid api key"))
    with pytest.raises(LLMError, match="HTTP 401, the API key was refused; set OPENAI_API_KEY or pass --llm-api-key"):
        ask(make(llm_server))
    assert len(llm_server.requests) == 1
    llm_server.script(error_reply(404, "not found"))
    with pytest.raises(LLMError, match=r"HTTP 404; check --llm-base-url \(it usually ends in /v1\)"):
        ask(make(llm_server))


def test_nothing_listening_is_a_connection_error(llm_server):
    url = llm_server.url
    llm_server.close()
    llm = make_llm("openai", LLMOptions(model="m", base_url=url, retry=FAST))
    with pytest.raises(LLMError, match=r"cannot connect .* \(gave up after 3 attempts\)"):
        ask(llm)


def test_settings_come_from_the_environment(llm_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("SYNTHAUDIO_LLM_MODEL", "env-model")
    llm_server.script(chat_reply(", ".join(TEN)))
    assert ask(make_llm("openai", LLMOptions(retry=FAST))) == (TEN, 1)
    [request] = llm_server.requests
    assert request["headers"]["authorization"] == "Bearer sk-env" and request["json"]["model"] == "env-model"


def test_a_model_is_required(monkeypatch):
    monkeypatch.delenv("SYNTHAUDIO_LLM_MODEL", raising=False)
    with pytest.raises(ConfigError, match="the openai LLM backend needs a model: pass --llm-model NAME"):
        make_llm("openai", LLMOptions(base_url="http://127.0.0.1:9/v1"))


def test_provenance_keeps_the_endpoint_without_credentials(llm_server):
    llm = make_llm("openai", LLMOptions(model="m", base_url=f"http://user:pw@127.0.0.1:{llm_server.port}/v1?key=k1",
                                        api_key="sk-secret"))
    assert llm.provenance() == {"backend": "openai", "model": "m", "base_url": f"http://127.0.0.1:{llm_server.port}/v1",
                                "sampling": {"temperature": 0.7, "top_p": 0.95, "greedy": False,
                                             "repetition_penalty": None}}
    assert public_url("https://generativelanguage.googleapis.com/v1beta/openai/") == \
        "https://generativelanguage.googleapis.com/v1beta/openai/"
