"""API keys reach the server and nothing else: no written file, no output, no log record, no error message."""

import logging

import pytest
from prompts_helpers import chat_reply, error_reply, gemini_reply, numbered
from typer.testing import CliRunner

from synthaudio.cli import app
from synthaudio.llm import LLMError, LLMOptions, RetryPolicy, make_llm
from synthaudio.prompts.descriptors import DescriptorRequest, ask_descriptors

TEN = ["wailing", "loud", "rising", "falling", "piercing", "urgent", "electronic", "doppler shift", "distant",
       "two-tone"]
SECRET = "sk-SECRET-0123456789abcdef"


def everything_written(folder):
    return b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


@pytest.mark.parametrize("via", ["flag", "env"])
def test_a_key_never_leaves_the_request(tmp_path, llm_server, monkeypatch, caplog, via):
    llm_server.script(error_reply(500), chat_reply(numbered(TEN)))
    args = ["prompts", "--labels", "siren", "--domain", "sound", "--clips-per-class", "3", "--strategy", "llm",
            "--llm", "openai", "--llm-model", "m", "--llm-base-url", llm_server.url,
            "--descriptors-out", str(tmp_path / "cache.json"), "--out", str(tmp_path / "prompts.json")]
    if via == "flag":
        args += ["--llm-api-key", SECRET]
    else:
        monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with caplog.at_level(logging.DEBUG):
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert llm_server.requests[-1]["headers"]["authorization"] == f"Bearer {SECRET}"  # it was really used
    assert len(caplog.records) > 0  # the retry after HTTP 500 and the SDK's own debug lines were logged
    assert (tmp_path / "prompts.json").exists() and (tmp_path / "cache.json").exists()
    assert SECRET.encode() not in everything_written(tmp_path)
    assert SECRET not in result.stdout + result.stderr
    assert SECRET not in caplog.text


def test_a_failing_call_does_not_show_the_key(llm_server, caplog):
    llm_server.script(error_reply(503, "unavailable"))
    llm = make_llm("openai", LLMOptions(model="m", base_url=llm_server.url, api_key=SECRET,
                                        retry=RetryPolicy(attempts=2, initial_backoff_s=0.01)))
    with caplog.at_level(logging.DEBUG), pytest.raises(LLMError) as error:
        ask_descriptors(llm, "siren", DescriptorRequest("sound"))
    assert SECRET not in str(error.value) and SECRET not in caplog.text
    assert SECRET not in repr(LLMOptions(api_key=SECRET)) and SECRET not in str(llm.provenance())


def test_a_gemini_key_stays_in_the_header(llm_server, monkeypatch, caplog):
    monkeypatch.setenv("GEMINI_API_KEY", SECRET)
    llm_server.script(gemini_reply(", ".join(TEN)))
    llm = make_llm("gemini", LLMOptions(model="g", base_url=f"http://127.0.0.1:{llm_server.port}/"))
    with caplog.at_level(logging.DEBUG):
        ask_descriptors(llm, "siren", DescriptorRequest("sound"))
    assert llm_server.requests[-1]["headers"]["x-goog-api-key"] == SECRET
    assert SECRET not in caplog.text and SECRET not in str(llm.provenance())
