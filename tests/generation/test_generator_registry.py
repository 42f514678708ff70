"""Registry, settings, device and optional-backend errors: each a one-line message a user can act on."""

import pytest

from synthaudio.errors import ConfigError, MissingDependencyError
from synthaudio.generators import generator_class, generator_names, get_generator
from synthaudio.generators.audiogen import audiocraft_problem
from synthaudio.generators.base import select_device, select_dtype


def test_unknown_generator_lists_the_known_ones():
    with pytest.raises(ConfigError) as error:
        get_generator("audioldm3")
    message = str(error.value)
    assert "unknown generator 'audioldm3'" in message
    for name in ("audioldm2", "musicgen", "audiogen", "stable-audio", "tts"):
        assert name in message
    assert generator_names() == ["audioldm2", "musicgen", "audiogen", "stable-audio", "tts"]


def test_a_setting_the_backend_does_not_take_is_named_with_the_accepted_ones():
    with pytest.raises(ConfigError) as error:
        generator_class("musicgen").validate_settings({"steps": 20})
    assert "generator 'musicgen' has no setting 'steps'" in str(error.value)
    assert "guidance_scale, top_k, temperature" in str(error.value)
    with pytest.raises(ConfigError, match="setting 'steps'"):
        generator_class("audioldm2").validate_settings({"steps": 0})


def test_unset_settings_take_the_study_defaults():
    settings = generator_class("audioldm2").validate_settings({"steps": None, "guidance_scale": None})
    assert settings.model_dump() == {"steps": 50, "guidance_scale": 3.5}  # 50 DDIM steps, as the study
    assert generator_class("musicgen").validate_settings({}).model_dump() == {
        "guidance_scale": 3.0, "top_k": 250, "temperature": 1.0}  # audiocraft's sampler defaults


def test_device_and_dtype_selection():
    import torch

    assert select_device(None) == ("cuda" if torch.cuda.is_available() else "cpu")
    assert select_dtype("cpu", None) is torch.float32  # half precision is for GPUs
    assert select_dtype("cuda", None) is torch.float16
    assert select_dtype("cpu", "bfloat16") is torch.bfloat16
    with pytest.raises(ConfigError, match="--dtype float8: choose one of float32, float16, bfloat16"):
        select_dtype("cpu", "float8")
    with pytest.raises(ConfigError, match="not a torch device"):
        select_device("tpu7")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="sees no CUDA device; use --device cpu"):
            select_device("cuda")


def test_missing_audiocraft_is_one_error_with_the_install_command():
    problem = audiocraft_problem()
    if problem is None:
        pytest.skip("audiocraft imports here, so the missing-audiocraft error cannot occur")
    with pytest.raises(MissingDependencyError) as error:
        get_generator("audiogen", checkpoint="tiny-random", backend="audiocraft")
    message = str(error.value)
    assert message.startswith("the audiogen generator")
    assert "pip install --no-deps audiocraft==1.3.0" in message
    assert "torchaudio" in message  # the part of the install that fails on current torch
    assert "\n" not in message


def test_audiogen_adapter_runs_real_audiocraft_where_it_imports():
    problem = audiocraft_problem()
    if problem is not None:
        pytest.skip(f"audiocraft not importable: {problem}")
    from synthaudio.generators.base import GenerationRequest

    generator = get_generator("audiogen", checkpoint="tiny-random", backend="audiocraft")
    clips = generator.generate([GenerationRequest("dog barking", 1, 0.5), GenerationRequest("rain", 2, 0.5)])
    assert generator.native_sample_rate == 16000 and generator.random_weights
    assert [clip.shape for clip in clips] == [(7680,), (7680,)]  # its debug codec: 25 Hz, whole frames only
    again = generator.generate([GenerationRequest("dog barking", 1, 0.5), GenerationRequest("rain", 2, 0.5)])
    assert all((a == b).all() for a, b in zip(clips, again, strict=True))  # seeded per batch
