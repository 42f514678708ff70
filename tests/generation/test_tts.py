"""The tts generator speaks with the real espeak-ng; descriptors steer it, seeds vary what they leave open.

No skip when espeak-ng is missing: `make test` installs it, and without it these tests fail with the apt command.
"""

import numpy as np
import pytest

from synthaudio.errors import ConfigError, MissingDependencyError
from synthaudio.generators import get_generator
from synthaudio.generators.base import GenerationRequest
from synthaudio.generators.tts import (
    ENGLISH_ACCENTS,
    FEMALE_VARIANTS,
    MALE_VARIANTS,
    RANGES,
    choose_controls,
    split_prompt,
)


@pytest.fixture(scope="module")
def tts():
    return get_generator("tts")


def test_prompt_text_is_before_the_first_comma():
    assert split_prompt("seven") == ("seven", [])
    assert split_prompt(" seven , fast,deep ,, whispered") == ("seven", ["fast", "deep", "whispered"])


def test_descriptors_map_onto_espeak_controls():
    controls, provenance = choose_controls("seven, fast, deep, whispered, scottish, woman", seed=1,
                                           voices=ENGLISH_ACCENTS)
    assert controls.text == "seven"
    assert RANGES["rate"]["fast"][0] <= controls.rate <= RANGES["rate"]["fast"][1]
    assert RANGES["pitch"]["low"][0] <= controls.pitch <= RANGES["pitch"]["low"][1]
    assert controls.variant == "whisperf" and controls.voice == "en-gb-scotland"
    assert provenance == {"descriptors_used": ["fast", "deep", "whispered", "scottish", "woman"],
                          "descriptors_ignored": []}
    slow, _ = choose_controls("seven, very slow, loud, hoarse", seed=1, voices=ENGLISH_ACCENTS)
    assert slow.rate <= RANGES["rate"]["slow"][1] and slow.amplitude >= RANGES["amplitude"]["loud"][0]
    assert slow.variant == "croak"
    _, odd = choose_controls("seven, sparkling, sad", seed=1, voices=ENGLISH_ACCENTS)
    assert odd == {"descriptors_used": ["sad"], "descriptors_ignored": ["sparkling"]}  # recorded, not dropped


def test_controls_left_open_are_drawn_from_the_seed():
    choices = [choose_controls("seven", seed, ENGLISH_ACCENTS)[0] for seed in range(40)]
    assert len({choice.voice for choice in choices}) >= 5
    assert {choice.variant for choice in choices} <= set(MALE_VARIANTS + FEMALE_VARIANTS)
    assert len({choice.variant for choice in choices}) >= 6
    assert len({choice.rate for choice in choices}) >= 20
    assert choose_controls("seven", 7, ENGLISH_ACCENTS) == choose_controls("seven", 7, ENGLISH_ACCENTS)
    # a descriptor changes what it names and nothing else
    plain, steered = choose_controls("seven", 7, ENGLISH_ACCENTS)[0], choose_controls("seven, fast", 7,
                                                                                       ENGLISH_ACCENTS)[0]
    assert (plain.voice, plain.variant, plain.pitch) == (steered.voice, steered.variant, steered.pitch)


def test_espeak_ng_speaks_the_word_at_a_seeded_offset(tts):
    requests = [GenerationRequest("seven", 1, 1.0), GenerationRequest("seven", 2, 1.0),
                GenerationRequest("seven, fast, high", 3, 1.0)]
    results = tts.generate_with_meta(requests)
    assert tts.native_sample_rate == 22050
    for clip, meta in results:
        assert clip.shape == (22050,)
        assert np.max(np.abs(clip)) > 0.05  # speech, not silence
        assert 0.1 < meta["speech_s"] < 1.0 and not meta["truncated"]
        start = int(meta["offset_s"] * 22050)
        assert np.max(np.abs(clip[:max(start - 10, 0)]), initial=0.0) < 1e-6  # silence before the word
    assert not np.array_equal(results[0][0], results[1][0])  # label-guided clips still differ
    assert results[2][1]["descriptors_used"] == ["fast", "high"]
    again = tts.generate_with_meta(requests)
    assert all(np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(results, again, strict=True))


def test_speech_longer_than_the_clip_is_flagged(tts):
    clip, meta = tts.generate_with_meta([GenerationRequest("a rather long sentence, slow", 1, 0.5)])[0]
    assert meta["truncated"] and len(clip) > 0.5 * 22050  # the engine cuts it to the clip length


def test_a_prompt_without_text_and_unknown_voices_are_clear_errors(tts):
    with pytest.raises(ConfigError, match="no text before its first comma"):
        tts.generate([GenerationRequest(", fast", 1, 1.0)])
    with pytest.raises(ConfigError, match="tts voices not known to espeak-ng: xx-nowhere"):
        get_generator("tts", voices="en-us, xx-nowhere")
    with pytest.raises(ConfigError, match="runs no neural network"):
        get_generator("tts", device="cuda")


def test_missing_espeak_ng_names_the_apt_command(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without espeak-ng, as on a machine without the package
    with pytest.raises(MissingDependencyError, match="the tts generator needs espeak-ng.*apt-get install espeak-ng"):
        get_generator("tts")


LANGUAGES = {"en": {"voices": ["en-us", "en-gb"]},
             "es": {"voices": ["es", "es-419"], "words": {"seven": "siete", "two": "dos"}},
             "ru": {"voices": ["ru"], "words": {"seven": "семь", "two": "два"}}}


def test_languages_speak_each_languages_word_for_the_label():
    tts = get_generator("tts", languages=LANGUAGES)
    requests = [GenerationRequest("seven, british, fast", seed, 1.0) for seed in range(30)]
    results = tts.generate_with_meta(requests)
    spoken = {(meta["language"], meta["voice"], meta["text"]) for _, meta in results}
    assert {language for language, _, _ in spoken} == {"en", "es", "ru"}  # drawn per clip
    for language, voice, text in spoken:
        assert voice in LANGUAGES[language]["voices"]
        assert text == LANGUAGES[language].get("words", {}).get("seven", "seven")
    for clip, meta in results:
        assert meta["label_text"] == "seven" and np.abs(clip).max() > 0.01
        # "british" picks en-gb in English and is recorded as ignored where it names another language's voice
        assert (meta["voice"] == "en-gb") if meta["language"] == "en" else meta["voice_ignored"] == "en-gb"
    again = tts.generate_with_meta(requests[:3])
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(again, results[:3], strict=True))  # seeded


def test_languages_errors_name_the_setting():
    tts = get_generator("tts", languages=LANGUAGES)
    with pytest.raises(ConfigError, match=r"^tts settings\.languages\.(es|ru)\.words has no word for label 'nine'; "
                                          r"add 'nine: <the word in (es|ru)>'"):
        tts.generate_with_meta([GenerationRequest("nine", seed, 1.0) for seed in range(10)])
    with pytest.raises(ConfigError, match="^tts setting languages .* replaces the setting voices"):
        get_generator("tts", languages=LANGUAGES, voices=["en-us"])
    with pytest.raises(ConfigError, match="^tts voices not known to espeak-ng: xx-nowhere"):
        get_generator("tts", languages={"xx": {"voices": ["xx-nowhere"]}})
