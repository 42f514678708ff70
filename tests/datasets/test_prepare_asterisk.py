"""The asterisk recipe: the ten spoken digits as a test-only set, and the sentence prompts as babble noise in two
disjoint, seeded halves; on fixture voice folders and, where Debian's packages are installed, on the real ones."""

from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthaudio.cli import app
from synthaudio.datasets import prepare_dataset, summary_lines, write_prepared
from synthaudio.datasets.asterisk import DIGIT_WORDS, babble_split
from synthaudio.errors import ConfigError, DatasetError
from synthaudio.manifest import read_manifest
from tests.fixtures.asterisk import make_asterisk_voice

REAL_ENGLISH = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
REAL_SPANISH = Path("/usr/share/asterisk/sounds/es_MX_f_Allison")


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    return make_asterisk_voice(tmp_path_factory.mktemp("asterisk"))


def test_digits_are_ten_test_clips_labelled_by_word(voice):
    prepared = prepare_dataset("asterisk", voice)
    clips = prepared.clips
    assert sorted((c.label, Path(c.path).name) for c in clips) == sorted(
        (word, f"{digit}.wav") for digit, word in enumerate(DIGIT_WORDS))
    assert {(c.split, c.source, c.sample_rate, c.duration) for c in clips} == {("test", "real", 8000, 0.8)}
    assert clips[0].id == "asterisk/en_US_f_Allison/digits/0" and clips[0].meta == {"speaker": "en_US_f_Allison"}
    assert prepared.excluded == {"digits/ files that are not a single digit (10.wav, h-1.wav, ...)": 2}
    assert summary_lines(prepared)[0] == "asterisk: 10 clips, 10 labels (test 10)"


def test_babble_is_running_speech_in_two_disjoint_seeded_halves(voice):
    prepared = prepare_dataset("asterisk", voice, kind="babble")
    names = sorted(Path(c.path).relative_to(voice).as_posix() for c in prepared.clips)
    # sentence prompts only: no digits, letters, phonetic, silence, beep/monkeys, nor the 0.4-s "ok"
    assert names == sorted([f"prompt-{i:02d}.wav" for i in range(12)] + ["dictate/both_help.wav",
                                                                         "followme/sorry.wav"])
    assert prepared.excluded == {"digits/: isolated words or silence, not running speech": 12,
                                 "letters/: isolated words or silence, not running speech": 1,
                                 "phonetic/: isolated words or silence, not running speech": 1,
                                 "silence/: isolated words or silence, not running speech": 1,
                                 "non-speech prompts (beeps, tones, sound effects)": 2,
                                 "prompts shorter than 1 s": 1}
    halves = {c.split for c in prepared.clips}
    assert halves == {"train", "test"}
    for clip in prepared.clips:
        assert clip.label == Path(clip.path).stem and clip.meta["role"] == "babble"
        assert clip.split == babble_split(Path(clip.path).relative_to(voice).as_posix(), 0)
    other_seed = {c.id: c.split for c in prepare_dataset("asterisk", voice, kind="babble", seed=1).clips}
    assert other_seed != {c.id: c.split for c in prepared.clips}  # the seed decides the halves
    shorter = prepare_dataset("asterisk", voice, kind="babble", min_seconds=0.3).clips
    assert "asterisk/en_US_f_Allison/ok" in {c.id for c in shorter}


def test_a_recording_keeps_its_half_when_others_are_removed(tmp_path):
    voice = make_asterisk_voice(tmp_path, prompts=12)
    before = {c.id: c.split for c in prepare_dataset("asterisk", voice, kind="babble").clips}
    for index in range(6):
        (voice / f"prompt-{index:02d}.wav").unlink()
    after = {c.id: c.split for c in prepare_dataset("asterisk", voice, kind="babble").clips}
    assert len(after) == len(before) - 6 and all(before[clip] == split for clip, split in after.items())


def test_same_bytes_twice(voice, tmp_path):
    for name in ("a", "b"):
        write_prepared(prepare_dataset("asterisk", voice, kind="babble", seed=3), tmp_path / f"{name}.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_errors_name_the_problem(voice, tmp_path):
    with pytest.raises(ConfigError, match="^--kind must be one of digits, babble for asterisk, got 'letters'$"):
        prepare_dataset("asterisk", voice, kind="letters")
    with pytest.raises(ConfigError, match="^min_seconds must be a number >= 0, got -1$"):
        prepare_dataset("asterisk", voice, kind="babble", min_seconds=-1)
    with pytest.raises(DatasetError, match=f"^{tmp_path / 'nowhere'}: Asterisk sounds root not found .*"
                                           "asterisk-core-sounds-en-wav"):
        prepare_dataset("asterisk", tmp_path / "nowhere")
    with pytest.raises(DatasetError, match=f"^{tmp_path}: no digits folder; this is not the Asterisk sounds "
                                           "layout"):
        prepare_dataset("asterisk", tmp_path)


def test_a_missing_digit_is_an_error_not_a_smaller_test_set(tmp_path):
    voice = make_asterisk_voice(tmp_path)
    (voice / "digits" / "7.wav").unlink()
    with pytest.raises(DatasetError, match=r"digits: digit recording\(s\) 7.wav missing; the ten digits 0.wav "):
        prepare_dataset("asterisk", voice)


def test_babble_that_falls_in_one_half_only_is_refused(tmp_path):
    voice = make_asterisk_voice(tmp_path, prompts=1)
    for path in ("dictate/both_help.wav", "followme/sorry.wav"):
        (voice / path).unlink()
    with pytest.raises(DatasetError, match="only 1 babble recording.*all in one half"):
        prepare_dataset("asterisk", voice, kind="babble")


def test_cli_kind_option(voice, tmp_path):
    out = tmp_path / "babble.jsonl"
    result = CliRunner().invoke(app, ["prepare", "asterisk", "--root", str(voice), "--kind", "babble",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("asterisk: 14 clips, 14 labels (train ") and f"-> {out}" in result.output
    assert {c.split for c in read_manifest(out)} == {"train", "test"}


@pytest.mark.skipif(not REAL_ENGLISH.is_dir(), reason=f"{REAL_ENGLISH} not found: the Debian package "
                    "asterisk-core-sounds-en-wav is not installed (sudo apt-get install asterisk-core-sounds-en-wav)")
def test_the_real_english_digits():
    clips = prepare_dataset("asterisk", REAL_ENGLISH, verify=True).clips
    assert sorted(c.label for c in clips) == sorted(DIGIT_WORDS)
    assert {(c.split, c.sample_rate) for c in clips} == {("test", 8000)}
    assert all(0.5 < c.duration < 1.0 for c in clips)  # single words, shorter than the 1-s model window


@pytest.mark.skipif(not REAL_SPANISH.is_dir(), reason=f"{REAL_SPANISH} not found: the Debian package "
                    "asterisk-core-sounds-es-wav is not installed (sudo apt-get install asterisk-core-sounds-es-wav)")
def test_the_real_spanish_babble():
    clips = prepare_dataset("asterisk", REAL_SPANISH, kind="babble").clips
    seconds = Counter()
    for clip in clips:
        seconds[clip.split] += clip.duration
    assert len(clips) > 200 and seconds["train"] > 600 and seconds["test"] > 600  # minutes of speech per half
    assert not {Path(c.path).parent.name for c in clips} & {"digits", "letters", "phonetic", "silence"}


def test_group_is_the_voice(voice):
    assert {c.group for c in prepare_dataset("asterisk", voice).clips} == {"asterisk/en_US_f_Allison"}
    assert {c.group for c in prepare_dataset("asterisk", voice, kind="babble").clips} == {"asterisk/en_US_f_Allison"}
