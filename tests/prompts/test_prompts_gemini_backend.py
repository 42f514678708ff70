"""The gemini backend (google-genai SDK) against a real HTTP server on 127.0.0.1."""

import pytest
from prompts_helpers import Reply, error_reply, gemini_reply

from synthaudio.errors import ConfigError
from synthaudio.llm import LLMError, LLMOptions, RetryPolicy, make_llm
from synthaudio.prompts.descriptors import DescriptorRequest, ask_descriptors

TEN = ["wailing", "loud", "rising", "falling", "piercing", "urgent", "electronic", "doppler shift", "distant",
       "two-tone"]
FAST = RetryPolicy(attempts=3, initial_backoff_s=0.01, timeout_s=2.0)


def make(server, **options):
    return make_llm("gemini", LLMOptions(model="gemini-test", base_url=f"http://127.0.0.1:{server.port}/",
                                         retry=FAST, **options))


def ask(llm):
    return ask_descriptors(llm, "siren", DescriptorRequest("sound", context="ESC-50", retries=1))


def test_answers_arrive_through_the_sdk_with_system_instruction_and_seed(llm_server, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-test")
    llm_server.script(error_reply(500, "internal"), gemini_reply(", ".join(TEN)))
    assert ask(make(llm_server)) == (TEN, 1)
    request = llm_server.requests[-1]
    assert request["path"].endswith("/models/gemini-test:generateContent")
    assert request["headers"]["x-goog-api-key"] == "AIza-test"
    body = request["json"]
    assert "text-to-audio" in body["systemInstruction"]["parts"][0]["text"]
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user", "model", "user"]
    assert isinstance(body["generationConfig"]["seed"], int)


def test_persistent_errors_end_in_one_message(llm_server):
    llm_server.script(Reply(200, b"{oops"))
    with pytest.raises(LLMError) as error:
        ask(make(llm_server, api_key="AIza-test"))
    assert str(error.value).startswith(f"gemini backend at http://127.0.0.1:{llm_server.port}/ (model gemini-test): "
                                       "malformed answer")
    assert "gave up after 3 attempts" in str(error.value)


def test_a_refused_key_is_not_retried(llm_server):
    llm_server.script(error_reply(400, "API key not valid. Please pass a valid API key."))
    with pytest.raises(LLMError, match="HTTP 400, the API key was refused; set GEMINI_API_KEY"):
        ask(make(llm_server, api_key="AIza-bad"))
    assert len(llm_server.requests) == 1


def test_a_key_is_required(monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="the gemini LLM backend needs an API key: set GEMINI_API_KEY"):
        make_llm("gemini", LLMOptions())
