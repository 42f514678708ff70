"""A key given by environment, option, config field or inside an endpoint URL reaches the server and nothing
else: no file a study or the prompts command writes (outputs, caches, copied study file), no terminal line."""

import base64

import pytest
import yaml

from tests.fixtures.generation import run_cli
from tests.prompts.prompts_helpers import Reply, answering_server, chat_reply, numbered
from tests.study.test_plan_errors import tone_manifest

STYLES = ["husky", "nasal", "mumbled", "crisp", "drawling", "booming", "shrill", "robotic", "elderly", "childlike"]
IN_URL = "sk-PLANTED-in-url-0123456789"
IN_QUERY = "PLANTEDinquery0123456789"
IN_ENV = "sk-PLANTED-in-env-0123456789"
BY_OPTION = "opt-PLANTED-by-option-0123456789"
IN_FIELD = "sk-PLANTED-in-field-0123456789"
PLANTED = (IN_URL, IN_QUERY, IN_ENV, BY_OPTION, IN_FIELD)


@pytest.fixture
def llm_server():
    yield from answering_server(numbered(STYLES))


def leaks(folder, *texts) -> list[str]:
    """Where a planted key appears: `grep -r` over every file below `folder`, and the given texts."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {key}" for key in PLANTED if key.encode() in data]
    found += [f"output: {key}" for text in texts for key in PLANTED if key in text]
    return found


@pytest.mark.slow
def test_a_study_writes_no_key_given_by_url_or_environment(tmp_path, llm_server):
    inputs = tmp_path / "in"
    words = tone_manifest(inputs, "words", {"val": 1, "test": 1}, labels=("yes", "no"))
    url = f"http://user:{IN_URL}@127.0.0.1:{llm_server.port}/v1"
    study = {"name": "secret", "seeds": [0],
             "datasets": {"words": {"manifest": str(words), "domain": "sound"}},
             "prompts": {"styles": {"strategy": "llm", "llm": {"backend": "openai", "base_url": url,
                                                               "model": "test-model"}}},
             "generators": {"g": {"generator": "audioldm2", "checkpoint": "tiny-random", "duration": 0.5,
                                  "batch_size": 2, "settings": {"steps": 2}}},
             "training": {"epochs": 1, "batch_size": 2, "features": {"target_frames": 50}},
             "experiments": {"zs": {"kind": "zero_shot", "dataset": "words", "generators": ["g"],
                                    "prompts": ["styles"], "clips_per_class": 2}}}
    (inputs / "study.yaml").write_text(yaml.safe_dump(study))
    out = tmp_path / "out"
    result = run_cli("study", str(inputs / "study.yaml"), "--out", str(out),
                     env={"OPENAI_API_KEY": IN_ENV, "SYNTHAUDIO_CACHE": str(tmp_path / "cache")}, timeout=600)
    assert result.returncode == 0, result.stderr
    # the keys were really used: the URL's user-info as basic auth (httpx), the environment's as the bearer token
    sent = " ".join(request["headers"].get("authorization", "") for request in llm_server.requests)
    assert llm_server.requests and base64.b64encode(f"user:{IN_URL}".encode()).decode() in sent or IN_ENV in sent
    assert (out / "study.yaml").is_file() and list(out.glob("stages/prompts/*/inputs.json"))
    assert f"127.0.0.1:{llm_server.port}/v1" in (out / "study.yaml").read_text()  # the endpoint itself is kept
    assert leaks(out, result.stdout, result.stderr) == [] and leaks(tmp_path / "cache") == []

    # the same study without the credentials in the URL is the same study: every stage is reused
    study["prompts"]["styles"]["llm"]["base_url"] = f"http://127.0.0.1:{llm_server.port}/v1"
    (inputs / "study.yaml").write_text(yaml.safe_dump(study))
    again = run_cli("study", str(inputs / "study.yaml"), "--out", str(out), "--dry-run",
                    env={"SYNTHAUDIO_CACHE": str(tmp_path / "cache")})
    assert again.returncode == 0, again.stderr
    assert "\nrun " not in "\n" + again.stdout and "cached" in again.stdout


def test_a_key_in_a_study_field_is_refused_without_showing_it(tmp_path):
    words = tone_manifest(tmp_path, "words", {"test": 1}, labels=("yes", "no"))
    study = {"name": "secret", "datasets": {"words": {"manifest": str(words), "domain": "sound"}},
             "prompts": {"styles": {"strategy": "llm", "llm": {"backend": "openai", "api_key": IN_FIELD}}},
             "generators": {"g": {"generator": "audioldm2", "checkpoint": "tiny-random", "duration": 0.5}},
             "experiments": {"zs": {"kind": "zero_shot", "dataset": "words", "generators": ["g"],
                                    "prompts": ["styles"], "clips_per_class": 2}}}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    result = run_cli("study", str(tmp_path / "study.yaml"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "API keys never go into a study file" in result.stderr
    assert not (tmp_path / "out").exists()  # refused before anything is written
    assert IN_FIELD not in result.stdout + result.stderr


def test_prompts_write_no_key_given_by_option_or_in_the_query(tmp_path, llm_server):
    result = run_cli("prompts", "--labels", "siren", "--domain", "sound", "--clips-per-class", "2", "--strategy",
                     "llm", "--llm", "openai", "--llm-model", "m", "--llm-api-key", BY_OPTION,
                     "--llm-base-url", f"http://127.0.0.1:{llm_server.port}/v1?key={IN_QUERY}",
                     "--descriptors-out", str(tmp_path / "out" / "cache.json"),
                     "--out", str(tmp_path / "out" / "prompts.json"))
    assert result.returncode == 0, result.stderr
    assert llm_server.requests[-1]["headers"]["authorization"] == f"Bearer {BY_OPTION}"
    assert leaks(tmp_path / "out", result.stdout, result.stderr) == []


@pytest.mark.parametrize("echo", [f"Authorization: Bearer {BY_OPTION}", f"bad key {BY_OPTION}",
                                  f"url http://127.0.0.1/v1?key={IN_QUERY}"])
def test_an_endpoint_echoing_the_key_in_its_error_does_not_show_it(tmp_path, llm_server, echo):
    import json

    body = json.dumps({"error": {"message": f"refused: {echo}", "code": 400}}).encode()
    llm_server.script(Reply(400, body, {}))
    result = run_cli("prompts", "--labels", "siren", "--domain", "sound", "--clips-per-class", "2", "--strategy",
                     "llm", "--llm", "openai", "--llm-model", "m", "--llm-api-key", BY_OPTION,
                     "--llm-base-url", f"http://127.0.0.1:{llm_server.port}/v1",
                     "--out", str(tmp_path / "prompts.json"))
    assert result.returncode == 2 and result.stderr.startswith("error: ")
    assert "refused" in result.stderr or "HTTP 400" in result.stderr, result.stderr
    assert leaks(tmp_path, result.stdout, result.stderr) == []


def test_the_copied_study_file_keeps_the_endpoint_without_its_credentials():
    from synthaudio.secrets import redact_study_text

    text = ("llm: {backend: openai, base_url: \"http://user:" + IN_URL + "@h:1/v1?key=" + IN_QUERY + "&v=2\"}\n"
            "other: https://example.org/a\n")
    assert redact_study_text(text) == "llm: {backend: openai, base_url: \"http://h:1/v1?v=2\"}\n" \
                                      "other: https://example.org/a\n"



def test_a_retried_failure_echoing_the_key_is_logged_without_it(llm_server, caplog):
    import json
    import logging

    from synthaudio.llm import LLMOptions, RetryPolicy, make_llm
    from synthaudio.prompts.descriptors import DescriptorRequest, ask_descriptors

    echo = json.dumps({"error": {"message": f"overloaded; request had Authorization: Bearer {BY_OPTION}"}}).encode()
    llm_server.script(Reply(503, echo, {}), chat_reply(numbered(STYLES)))
    llm = make_llm("openai", LLMOptions(model="m", base_url=llm_server.url, api_key=BY_OPTION,
                                        retry=RetryPolicy(attempts=2, initial_backoff_s=0.01)))
    with caplog.at_level(logging.WARNING, logger="synthaudio"):
        ask_descriptors(llm, "siren", DescriptorRequest("sound"))
    assert "HTTP 503" in caplog.text and "Bearer ***" in caplog.text
    assert BY_OPTION not in caplog.text
