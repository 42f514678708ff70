"""The real diffusers/transformers generation code paths, on tiny random-weight models of the real architectures."""

import numpy as np
import pytest

from synthaudio.errors import ConfigError
from synthaudio.generators import get_generator
from synthaudio.generators.base import GenerationRequest


@pytest.fixture(scope="module")
def audioldm2():
    return get_generator("audioldm2", checkpoint="tiny-random", steps=3)


@pytest.fixture(scope="module")
def musicgen():
    return get_generator("musicgen", checkpoint="tiny-random")


def close(a, b):
    return np.allclose(a, b, rtol=1e-3, atol=1e-3 * float(np.max(np.abs(b))))


def test_audioldm2_clips_depend_on_their_own_seed_not_on_their_batch(audioldm2):
    requests = [GenerationRequest("dog barking sound", 11, 1.0), GenerationRequest("rain sound", 12, 1.0),
                GenerationRequest("dog barking sound", 13, 1.0)]
    batch = audioldm2.generate(requests)
    assert audioldm2.native_sample_rate == 16000 and audioldm2.random_weights
    assert [clip.shape for clip in batch] == [(16000,)] * 3 and all(clip.dtype == np.float32 for clip in batch)
    alone = [audioldm2.generate([request])[0] for request in requests]
    assert all(close(a, b) for a, b in zip(batch, alone, strict=True))  # same seed, same audio, whatever the batch
    assert not close(batch[0], batch[2])  # same prompt, different seeds: different clips
    assert all(np.array_equal(a, b) for a, b in zip(batch, audioldm2.generate(requests), strict=True))  # deterministic


def test_audioldm2_negative_prompt_steers_the_clip(audioldm2):
    plain = audioldm2.generate([GenerationRequest("dog barking sound", 5, 1.0)])[0]
    steered = audioldm2.generate([GenerationRequest("dog barking sound", 5, 1.0, negative_prompt="low quality")])[0]
    assert not close(plain, steered)
    assert audioldm2.supports_negative_prompt


def test_audioldm2_encodes_each_distinct_text_once_per_run(audioldm2, monkeypatch):
    encoded = []
    original = audioldm2._encode_one
    monkeypatch.setattr(audioldm2.encodings, "encode", lambda text: encoded.append(text) or original(text))
    audioldm2.encodings.entries.clear()
    audioldm2.generate([GenerationRequest("dog sound", seed, 0.5) for seed in range(4)]
                       + [GenerationRequest("cat sound", 9, 0.5)])
    assert encoded == ["dog sound", "cat sound", ""]  # "" is the unconditional text of guidance
    audioldm2.generate([GenerationRequest("cat sound", seed, 0.5) for seed in range(3)])
    assert encoded == ["dog sound", "cat sound", ""]  # the next batch of a label encodes nothing


def test_musicgen_samples_with_per_clip_seeds(musicgen):
    requests = [GenerationRequest("jazz music", 1, 0.5), GenerationRequest("rock music", 2, 0.5),
                GenerationRequest("jazz music", 3, 0.5)]
    batch = musicgen.generate(requests)
    assert musicgen.native_sample_rate == 32000
    assert [clip.shape for clip in batch] == [(16000,)] * 3  # 25 frames at 50 Hz of 640 samples
    alone = [musicgen.generate([request])[0] for request in requests]
    assert all(close(a, b) for a, b in zip(batch, alone, strict=True))
    assert not close(batch[0], batch[2])
    assert musicgen.max_new_tokens(10.0) == 503  # frame rate * seconds + 3 delay steps


def test_musicgen_refuses_clips_longer_than_its_positions(musicgen):
    with pytest.raises(ConfigError, match="--duration 30.0: tiny-random generates at most 20.4 s per clip"):
        musicgen.generate([GenerationRequest("jazz", 1, 30.0)])


def test_stable_audio_tiny_runs_the_real_pipeline():
    generator = get_generator("stable-audio", checkpoint="tiny-random", steps=3)
    requests = [GenerationRequest("door knock", 1, 1.0), GenerationRequest("door knock", 2, 1.0)]
    clips = generator.generate(requests)
    assert generator.native_sample_rate == 44100
    assert [clip.shape for clip in clips] == [(44100,)] * 2  # stereo made mono
    assert not close(clips[0], clips[1])
    assert close(clips[1], generator.generate(requests[1:])[0])
    with pytest.raises(ConfigError, match="generates at most 1.49 s"):
        generator.generate([GenerationRequest("door knock", 1, 5.0)])


def test_full_size_published_architectures_have_the_published_parameter_counts():
    """Built on the meta device (no memory, no time): the GPU benchmark builds exactly these."""
    from synthaudio.generators.published import audioldm2_large_pipeline, musicgen_medium

    def count(module):
        return sum(parameter.numel() for parameter in module.parameters())

    pipe = audioldm2_large_pipeline("meta")
    assert count(pipe.unet) == pytest.approx(2.87e9 / 4, rel=0.01)  # unet/diffusion_pytorch_model: 2.87 GB float32
    assert count(pipe.language_model) == pytest.approx(498e6 / 4, rel=0.01)  # language_model: 498 MB
    modules = [component for component in pipe.components.values() if hasattr(component, "parameters")]
    assert sum(count(module) for module in modules) == pytest.approx(1.5e9, rel=0.02)  # "1.5B" on the model card
    model, processor = musicgen_medium("meta")
    assert count(model) == pytest.approx(8.04e9 / 4, rel=0.01)  # pytorch_model.bin: 8.04 GB float32
    assert model.decoder.num_codebooks == 4 and model.config.audio_encoder.frame_rate == 50
    assert processor.tokenizer("jazz").input_ids  # the in-code tokenizer serves the full-size model too


def test_random_weight_full_size_checkpoints_load_through_the_generators():
    """The wiring the GPU benchmark uses (`random-weights:<id>`), checked on the meta device in float16."""
    from synthaudio.errors import CheckpointError

    musicgen = get_generator("musicgen", checkpoint="random-weights:facebook/musicgen-medium", device="meta",
                             dtype="float16")
    assert musicgen.random_weights and musicgen.model.dtype.is_floating_point and musicgen.native_sample_rate == 32000
    audioldm2 = get_generator("audioldm2", checkpoint="random-weights:cvssp/audioldm2-large", device="meta",
                              dtype="float16")
    assert audioldm2.random_weights and str(audioldm2.pipe.unet.dtype) == "torch.float16"
    assert audioldm2.provenance()["checkpoint"] == "random-weights:cvssp/audioldm2-large"
    with pytest.raises(CheckpointError, match="random full-size builds exist for random-weights:cvssp/audioldm2-large"):
        get_generator("musicgen", checkpoint="random-weights:facebook/musicgen-large", device="meta")
