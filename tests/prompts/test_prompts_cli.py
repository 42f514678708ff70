"""`synthaudio prompts` as a user runs it."""

import json
import subprocess
import sys

import pytest
from prompts_helpers import chat_reply, last_user_text, numbered, paper_file
from typer.testing import CliRunner

from synthaudio.cli import app
from synthaudio.errors import ConfigError, ManifestError
from synthaudio.prompts.promptfile import read_prompts


def invoke(*args):
    return CliRunner().invoke(app, ["prompts", *map(str, args)])


def test_labels_flag_writes_prompts(tmp_path):
    out = tmp_path / "prompts.json"
    result = invoke("--labels", "dog, car_horn", "--domain", "sound", "--clips-per-class", 4, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: 2 labels x 4 prompts (label)" in result.stdout
    assert read_prompts(out).prompts == {"dog": ["dog sound"] * 4, "car_horn": ["car horn sound"] * 4}


def _manifest(path, labels):
    rows = [{"id": f"c{i}", "path": f"audio/{i}.wav", "label": label, "split": "train", "fold": None,
             "source": "real", "duration": 5.0, "sample_rate": 16000} for i, label in enumerate(labels)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_labels_from_a_manifest_are_its_distinct_labels(tmp_path):
    manifest = _manifest(tmp_path / "real.jsonl", ["rain", "dog", "rain", "BlowDryHair"])
    out = tmp_path / "p.json"
    result = invoke("--labels-from", manifest, "--domain", "action", "--clips-per-class", 2, "--out", out)
    assert result.exit_code == 0, result.output
    assert read_prompts(out).prompts == {"BlowDryHair": ["blow dry hair"] * 2, "dog": ["dog"] * 2,
                                         "rain": ["rain"] * 2}


@pytest.mark.parametrize(("content", "message"), [
    (None, "manifest not found"),
    ("", "the manifest has no clips, so no labels"),
    ('{"id": "a"\n', ":1: not valid JSON"),
    ('{"id": "a", "path": "x.wav"}\n', ":1: missing field 'label'"),
])
def test_bad_manifests_are_refused(tmp_path, content, message):
    manifest = tmp_path / "m.jsonl"
    if content is not None:
        manifest.write_text(content)
    result = invoke("--labels-from", manifest, "--domain", "sound", "--clips-per-class", 2, "--out",
                    tmp_path / "p.json")
    assert isinstance(result.exception, ManifestError)
    assert str(result.exception).startswith(str(manifest)) and message in str(result.exception)
    assert not (tmp_path / "p.json").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--domain", "sound"], "pass exactly one of --labels"),
    (["--domain", "sound", "--labels", "a", "--labels-from", "m.jsonl"], "pass exactly one of --labels"),
    (["--domain", "noise", "--labels", "a"], "unknown domain 'noise'"),
    (["--domain", "sound", "--labels", "a", "--strategy", "magic"], "unknown strategy 'magic'"),
    (["--domain", "sound", "--labels", "a", "--strategy", "llm", "--llm", "chatgpt"], "unknown LLM backend 'chatgpt'"),
    (["--domain", "sound", "--labels", "a,,b"], "empty label in ['a', '', 'b']"),
    (["--domain", "sound", "--labels", "a", "--clips-per-class", "0"], "--clips-per-class must be a positive"),
])
def test_bad_options_are_refused(tmp_path, args, message):
    args = ["--clips-per-class", "2", *args] if "--clips-per-class" not in args else args
    result = invoke(*args, "--out", tmp_path / "p.json")
    assert isinstance(result.exception, ConfigError), result.output
    assert message in str(result.exception)


def test_study_descriptors_reused_without_an_llm(tmp_path):
    path = paper_file("esc50")
    out = tmp_path / "p.json"
    result = invoke("--labels", "car_horn,siren", "--domain", "sound", "--clips-per-class", 5, "--strategy", "llm",
                    "--descriptors", path, "--seed", 3, "--out", out)
    assert result.exit_code == 0, result.output
    prompt_set = read_prompts(out)
    assert all(p.startswith("car horn sound, ") and p.count(", ") == 3 for p in prompt_set.prompts["car_horn"])
    assert prompt_set.provenance["descriptor_file"] == str(path.resolve())
    assert len(prompt_set.provenance["descriptor_file_sha256"]) == 64


def test_missing_labels_name_every_one(tmp_path):
    result = invoke("--labels", "car_horn,lawn_mower,jackhammer", "--domain", "sound", "--clips-per-class", 2,
                    "--strategy", "llm", "--descriptors", paper_file("esc50"), "--out", tmp_path / "p.json")
    assert "no descriptors for 2 of 3 labels: 'lawn_mower', 'jackhammer'" in str(result.exception)


def test_llm_strategy_end_to_end_then_served_from_the_cache(tmp_path, llm_server):
    answers = {"'dog'": ["barking", "growling", "howling", "whining", "yelping", "panting", "snarling", "loud",
                         "sharp", "playful"],
               "'rain'": ["pattering", "dripping", "downpour", "splashing", "soft", "heavy", "drumming", "wet",
                          "gurgling", "hissing"]}
    llm_server.handler = lambda request: chat_reply(numbered(next(v for k, v in answers.items()
                                                                  if k in last_user_text(request))))
    cache, first, second = tmp_path / "descriptors.json", tmp_path / "a.json", tmp_path / "b.json"
    args = ["--labels", "dog,rain", "--domain", "sound", "--clips-per-class", 6, "--strategy", "llm", "--llm",
            "openai", "--llm-model", "test-model", "--llm-base-url", llm_server.url, "--context",
            "ESC-50 environmental sounds", "--descriptors-out", cache]
    result = invoke(*args, "--out", first)
    assert result.exit_code == 0, result.output
    assert "dog: asked (1 attempt)" in result.stderr and "(llm, openai)" in result.stdout
    assert len(llm_server.requests) == 2
    prompt_set = read_prompts(first)
    assert prompt_set.provenance["descriptors"] == {"dog": answers["'dog'"], "rain": answers["'rain'"]}
    assert prompt_set.provenance["llm"]["model"] == "test-model"
    assert prompt_set.provenance["made_by"] == {"dog": "openai test-model", "rain": "openai test-model"}
    result = invoke(*args, "--out", second)
    assert result.exit_code == 0 and "dog: cached" in result.stderr
    assert len(llm_server.requests) == 2  # nothing asked again
    assert first.read_bytes() == second.read_bytes()


def test_bad_input_is_one_line_and_exit_status_2(tmp_path):
    result = subprocess.run([sys.executable, "-c", "from synthaudio.cli import main; main()", "prompts", "--labels",
                             "dog", "--domain", "sound", "--clips-per-class", "-1", "--out", str(tmp_path / "p.json")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --clips-per-class must be a positive whole number, got -1"
