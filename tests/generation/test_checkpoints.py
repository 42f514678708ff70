"""Checkpoint resolution: a local folder, the Hugging Face cache, or one clear error saying how to provide it."""

import pytest
from huggingface_hub import constants

from synthaudio.errors import CheckpointError
from synthaudio.generators import get_generator
from synthaudio.generators.checkpoints import resolve_checkpoint
from tests.fixtures.generation import label_prompts, make_prompt_file, run_cli


@pytest.fixture
def empty_offline_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


def test_offline_with_nothing_cached_names_the_checkpoint_and_how_to_provide_it(empty_offline_cache):
    with pytest.raises(CheckpointError) as error:
        get_generator("audioldm2")  # default checkpoint: cvssp/audioldm2-large, as in the study
    message = str(error.value)
    assert "checkpoint 'cvssp/audioldm2-large' is not in the Hugging Face cache" in message
    assert str(empty_offline_cache) in message
    assert "hf download cvssp/audioldm2-large" in message
    assert "--checkpoint /path/to/a/local/copy" in message
    assert "\n" not in message


def test_a_cached_snapshot_resolves_to_its_folder(empty_offline_cache):
    snapshot = empty_offline_cache / "models--owner--model" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (empty_offline_cache / "models--owner--model" / "refs").mkdir()
    (empty_offline_cache / "models--owner--model" / "refs" / "main").write_text("abc123")
    assert resolve_checkpoint("owner/model") == str(snapshot)


def test_local_paths(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    assert resolve_checkpoint(str(folder)) == str(folder.resolve())
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="is a file; pass the folder"):
        resolve_checkpoint(str(tmp_path / "weights.bin"))
    with pytest.raises(CheckpointError, match="checkpoint folder .*missing.* does not exist"):
        resolve_checkpoint(str(tmp_path / "missing"))
    with pytest.raises(CheckpointError, match="neither a folder nor a Hugging Face id"):
        resolve_checkpoint("not a model id")


def test_an_incomplete_local_checkpoint_is_one_error(tmp_path):
    folder = tmp_path / "half-copied"
    folder.mkdir()
    with pytest.raises(CheckpointError) as error:
        get_generator("musicgen", checkpoint=str(folder))
    assert f"checkpoint '{folder}' could not be loaded" in str(error.value)


def test_cli_offline_with_an_empty_cache_exits_2_with_the_message(tmp_path):
    prompts = make_prompt_file(tmp_path, label_prompts(["jazz"], 1, "{} music"), domain="music")
    result = run_cli("generate", "--prompts", str(prompts), "--generator", "musicgen", "--out", str(tmp_path / "out"),
                     env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "empty-home"),
                          "HF_HUB_CACHE": str(tmp_path / "empty-home" / "hub")})
    assert result.returncode == 2, result.stderr
    assert "checkpoint 'facebook/musicgen-medium' is not in the Hugging Face cache" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "out").rglob("*.wav"))
