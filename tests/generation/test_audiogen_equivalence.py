"""The transformers AudioGen port computes what audiocraft computes, on tiny random AudioGen checkpoints written by
audiocraft's own builders in the published file format, converted by synthaudio's converter.

audiocraft (a test-only dependency, see the Makefile) imports torchaudio at module level, which has no wheel for
our torch; a stand-in package (tests/generation/torchaudio_standin) takes its place for this module only and raises
the moment any torchaudio function is called. Compared: LM logits for the same codes and text, EnCodec decoding and
encoding, greedy generation with guidance (codes and waveforms), and a prompt padded in a mixed batch against
audiocraft alone. Not compared: the real t5-large and the published weights (no download here), sampling with
top-k > 1 (the port draws per-clip Gumbel noise, audiocraft the global RNG: same distribution, different draws).
"""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

STANDIN = Path(__file__).parent / "torchaudio_standin"
TOLERANCE = 1e-4


def _audiocraft_missing() -> str | None:
    if importlib.util.find_spec("audiocraft") is None:
        return "audiocraft is not installed (make setup installs it for the tests: pip install --no-deps " \
               "audiocraft==1.3.0 plus the runtime modules it imports)"
    return None


pytestmark = pytest.mark.skipif(_audiocraft_missing() is not None, reason=str(_audiocraft_missing()))


@pytest.fixture(scope="module")
def audiocraft_checkpoint(tmp_path_factory):
    """(folder, audiocraft LMModel, audiocraft EncodecModel, port); the stand-in and audiocraft leave afterwards."""
    before = set(sys.modules)
    real_torchaudio = importlib.util.find_spec("torchaudio")
    sys.path.insert(0, str(STANDIN))
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        if real_torchaudio is None:
            import torchaudio

            assert Path(torchaudio.__file__).parent.parent == STANDIN
        from audiocraft_tiny import write_tiny_audiogen

        from synthaudio.generators.audiogen_convert import load_converted
        from synthaudio.generators.audiogen_port import AudioGenPort, place

        folder, language_model, codec = write_tiny_audiogen(tmp_path_factory.mktemp("audiogen"))
        cache = tmp_path_factory.mktemp("cache")
        model, processor, facts = load_converted(folder, text_encoder=str(folder / "text_encoder"), cache_dir=cache)
        port = AudioGenPort(place(model, "cpu", None), processor, facts, str(folder), "cpu")
        yield folder, language_model, codec, port, cache
    finally:
        sys.path.remove(str(STANDIN))
        sys.path.remove(str(Path(__file__).parent))
        for name in set(sys.modules) - before:
            if name.split(".")[0] in ("torchaudio", "audiocraft", "audiocraft_tiny"):
                del sys.modules[name]


def audiocraft_conditions(language_model, prompts):
    from audiocraft.modules.conditioners import ConditioningAttributes

    attributes = [ConditioningAttributes(text={"description": prompt}) for prompt in prompts]
    tokens = language_model.condition_provider.tokenize(attributes)
    return tokens["description"]["attention_mask"], language_model.condition_provider(tokens)


def test_language_model_logits_match_audiocraft(audiocraft_checkpoint):
    _, language_model, _, port, _ = audiocraft_checkpoint
    prompts = ["dog barking", "cat meowing"]  # same token count: no padding on either side
    mask, conditions = audiocraft_conditions(language_model, prompts)
    assert bool(mask.all())
    codes = torch.randint(0, 64, (2, 4, 30), generator=torch.Generator().manual_seed(3))
    inputs = port.processor(text=prompts, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = language_model(codes, [], conditions)
        logits = port.model(**inputs, decoder_input_ids=codes.reshape(8, 30)).logits.reshape(expected.shape)
    assert torch.allclose(logits, expected, atol=TOLERANCE, rtol=0)
    assert expected.abs().max() > 0.5  # the comparison is not between near-zero tensors


def test_encodec_decodes_and_encodes_like_audiocraft(audiocraft_checkpoint):
    _, _, codec, port, _ = audiocraft_checkpoint
    generator = torch.Generator().manual_seed(4)
    codes = torch.randint(0, 64, (3, 4, 40), generator=generator)
    with torch.no_grad():
        expected = codec.decode(codes, None)
        audio = port.model.audio_encoder.decode(codes[None], [None]).audio_values
        assert audio.shape == expected.shape == (3, 1, 40 * 320)
        assert torch.allclose(audio, expected, atol=TOLERANCE, rtol=0) and expected.abs().max() > 0.01
        waveform = 0.3 * torch.randn(2, 1, 16000, generator=generator)
        audiocraft_codes, _ = codec.encode(waveform)
        assert torch.equal(port.model.audio_encoder.encode(waveform).audio_codes[0], audiocraft_codes)


def recorded_codes(port):
    """Wrap the port's EnCodec decode to keep the codes generation hands it."""
    seen = []
    decode = port.model.audio_encoder.decode

    def recording(audio_codes, *args, **kwargs):
        seen.append(audio_codes[0].clone())
        return decode(audio_codes, *args, **kwargs)

    port.model.audio_encoder.decode = recording
    return seen, decode


def audiocraft_greedy(language_model, codec, prompts, duration):
    from audiocraft.models import AudioGen

    model = AudioGen("tiny", codec, language_model, max_duration=10.0)
    model.set_generation_params(duration=duration, use_sampling=False, cfg_coef=3.0)
    with torch.no_grad():
        return model.generate(prompts, progress=False, return_tokens=True)


def test_greedy_generation_with_guidance_gives_audiocraft_codes(audiocraft_checkpoint):
    from synthaudio.generators.base import GenerationRequest

    _, language_model, codec, port, _ = audiocraft_checkpoint
    prompts = ["dog barking", "cat meowing"]
    waveform, tokens = audiocraft_greedy(language_model, codec, prompts, 0.5)
    seen, decode = recorded_codes(port)
    try:
        # top-k 1 makes the port's per-clip sampler an argmax, whatever the seeds
        clips = port.generate([GenerationRequest(prompt, seed, 0.5) for seed, prompt in enumerate(prompts)],
                              guidance_scale=3.0, top_k=1, temperature=1.0)
    finally:
        port.model.audio_encoder.decode = decode
    assert tokens.shape == (2, 4, 25)
    assert torch.equal(seen[0], tokens)
    assert len(set(tokens.flatten().tolist())) > 4  # the model does not just repeat one code
    assert all(torch.allclose(torch.from_numpy(clip), expected[0], atol=TOLERANCE, rtol=0)
               for clip, expected in zip(clips, waveform, strict=True))


def test_a_padded_prompt_gets_what_audiocraft_gives_it_alone(audiocraft_checkpoint):
    """audiocraft lets the LM attend to zeroed padding, so its clips shift with their batch's longest prompt; the
    port masks padding: a short prompt next to a long one gets audiocraft's single-prompt codes."""
    from synthaudio.generators.base import GenerationRequest

    _, language_model, codec, port, _ = audiocraft_checkpoint
    _, alone = audiocraft_greedy(language_model, codec, ["rain"], 0.3)
    seen, decode = recorded_codes(port)
    try:
        port.generate([GenerationRequest("rain", 0, 0.3), GenerationRequest("a very long description of rain", 1,
                                                                            0.3)],
                      guidance_scale=3.0, top_k=1, temperature=1.0)
    finally:
        port.model.audio_encoder.decode = decode
    assert torch.equal(seen[0][:1], alone)


def test_conversion_is_cached_by_source_hashes(audiocraft_checkpoint, monkeypatch):
    from synthaudio.generators import audiogen_convert

    folder, _, _, port, cache = audiocraft_checkpoint
    entries = [path for path in cache.iterdir() if path.is_dir()]
    assert len(entries) == 1 and {"model.safetensors", "config.json", "audiogen_facts.json"} <= {
        path.name for path in entries[0].iterdir()}

    def no_conversion(*args, **kwargs):
        raise AssertionError("converted again although the cache holds this checkpoint")

    monkeypatch.setattr(audiogen_convert, "convert", no_conversion)
    model, _, facts = audiogen_convert.load_converted(folder, text_encoder=str(folder / "text_encoder"),
                                                      cache_dir=cache)
    assert facts == port.facts and facts.segment_duration == 10.0 and facts.guidance_scale == 3.0
    assert model.config.audio_encoder.pad_mode == "constant"  # what the checkpoint's SEANet says
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, port.model.state_dict()[name]), name
    # a changed source file is a different checkpoint: converted again
    torch.save(torch.load(folder / "state_dict.bin", weights_only=True), folder / "state_dict.bin")
    with (folder / "state_dict.bin").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(AssertionError, match="converted again"):
        audiogen_convert.load_converted(folder, text_encoder=str(folder / "text_encoder"), cache_dir=cache)


def test_the_audiocraft_backend_still_runs_through_the_generator(audiocraft_checkpoint):
    from synthaudio.generators import get_generator
    from synthaudio.generators.base import GenerationRequest

    generator = get_generator("audiogen", checkpoint="tiny-random", backend="audiocraft")
    requests = [GenerationRequest("dog barking", 1, 0.5), GenerationRequest("rain", 2, 0.5)]
    clips = generator.generate(requests)
    # the tiny audiocraft model's debug codec runs at 25 Hz (640 samples a frame): 0.5 s rounds down to 12 frames
    assert [clip.shape for clip in clips] == [(7680,), (7680,)] and generator.random_weights
    assert all((a == b).all() for a, b in zip(clips, generator.generate(requests), strict=True))  # seeded per batch
    assert generator.provenance()["seeding"].startswith("per batch")
