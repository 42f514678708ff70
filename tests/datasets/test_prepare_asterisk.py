"""The asterisk recipe: the ten spoken digits as a test-only set, and the sentence prompts as babble noise in two
disjoint, seeded halves; on fixture voice folders and, where Debian's packages are installed, on the real ones."""

from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthaudio.cli import app
from synthaudio.datasets import prepare_dataset, summary_lines, write_prepared
from synthaudio.datasets.asterisk import DIGIT_WORDS, PHONETIC_WORDS, babble_split
from synthaudio.errors import ConfigError, DatasetError
from synthaudio.manifest import read_manifest
from tests.fixtures.asterisk import make_asterisk_voice, make_qabcs_letters

REAL_ENGLISH = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
REAL_SPANISH = Path("/usr/share/asterisk/sounds/es_MX_f_Allison")
REAL_SOUNDS = Path("/usr/share/asterisk/sounds")
REAL_QABCS = Path("/usr/share/qabcs/abcs/en/sounds/alpha")
# the digit voices of the demo's five-language task, and the Debian packages that install them
REAL_DIGIT_VOICES = {"en_US_f_Allison": "asterisk-core-sounds-en-wav", "es_MX_f_Allison": "asterisk-core-sounds-es-wav",
                     "fr_CA_f_June": "asterisk-core-sounds-fr-wav", "it_IT_m_Carlo": "asterisk-core-sounds-it-wav",
                     "ru_RU_f_IvrvoiceRU": "asterisk-core-sounds-ru-wav", "fr": "asterisk-prompt-fr-armelle",
                     "it_IT_f_Menardi": "asterisk-prompt-it-menardi-wav", "es": "asterisk-prompt-es-co"}


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    return make_asterisk_voice(tmp_path_factory.mktemp("asterisk"))


def test_digits_are_ten_test_clips_labelled_by_word(voice):
    prepared = prepare_dataset("asterisk", voice)
    clips = prepared.clips
    assert sorted((c.label, Path(c.path).name) for c in clips) == sorted(
        (word, f"{digit}.wav") for digit, word in enumerate(DIGIT_WORDS))
    assert {(c.split, c.source, c.sample_rate, c.duration) for c in clips} == {("test", "real", 8000, 0.8)}
    assert clips[0].id == "asterisk/en_US_f_Allison/digits/0"
    assert clips[0].meta == {"speaker": "en_US_f_Allison", "voice": "en_US_f_Allison", "language": "en"}
    assert prepared.excluded == {"digits/ files that are not one of its words (10, h-1, dot, ...)": 2}
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
    with pytest.raises(ConfigError, match="^--kind must be one of digits, letters, phonetic, babble for asterisk, "
                                          "got 'words'$"):
        prepare_dataset("asterisk", voice, kind="words")
    with pytest.raises(ConfigError, match="^audio_format must be one of wav, gsm, g722 or auto for asterisk, got "
                                          "'mp3'$"):
        prepare_dataset("asterisk", voice, audio_format="mp3")
    with pytest.raises(ConfigError, match=r"^voices must be distinct voice folder names under the root"):
        prepare_dataset("asterisk", voice.parent, voices=["en_US_f_Allison", "en_US_f_Allison"])
    with pytest.raises(DatasetError, match=f"^{voice.parent}: no nowhere folder; this is not the Asterisk sounds"):
        prepare_dataset("asterisk", voice.parent, voices="en_US_f_Allison,nowhere")
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
    with pytest.raises(DatasetError, match=r"digits: digits recording\(s\) 7 missing \(formats tried: wav, gsm, "
                                           r"g722\); every word of the kind is part of the test set"):
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


@pytest.fixture(scope="module")
def sounds(tmp_path_factory):
    """A sounds folder with four voices: WAV (two of them the same speaker), GSM and G.722 beside WAV."""
    root = tmp_path_factory.mktemp("sounds")
    make_asterisk_voice(root, "en_US_f_Allison", prompts=2, alphabet=True)
    make_asterisk_voice(root, "es_MX_f_Allison", prompts=2)
    make_asterisk_voice(root, "fr", prompts=2, audio_format="gsm", alphabet=True)
    make_asterisk_voice(root, "it_IT_m_Carlo", prompts=2, alphabet=True)
    make_asterisk_voice(root, "it_IT_m_Carlo", prompts=2, audio_format="g722", alphabet=True)
    return root


def test_letters_and_the_phonetic_alphabet_are_26_test_clips(sounds):
    letters = prepare_dataset("asterisk", sounds / "en_US_f_Allison", kind="letters")
    assert [c.label for c in letters.clips] == list("abcdefghijklmnopqrstuvwxyz")
    assert {c.split for c in letters.clips} == {"test"} and letters.clips[1].id == "asterisk/en_US_f_Allison/letters/b"
    assert letters.excluded == {"letters/ files that are not one of its words (10, h-1, dot, ...)": 1}  # dot.wav
    phonetic = prepare_dataset("asterisk", sounds / "en_US_f_Allison", kind="phonetic")
    assert sorted(c.label for c in phonetic.clips) == sorted(PHONETIC_WORDS)
    assert {Path(c.path).name: c.label for c in phonetic.clips}["j_p.wav"] == "juliett"


def test_a_missing_letter_is_an_error(tmp_path):
    voice = make_asterisk_voice(tmp_path, alphabet=True)
    (voice / "letters" / "q.wav").unlink()
    with pytest.raises(DatasetError, match=r"letters: letters recording\(s\) q missing"):
        prepare_dataset("asterisk", voice, kind="letters")


def test_several_voices_one_group_per_speaker(sounds):
    prepared = prepare_dataset("asterisk", sounds, voices="en_US_f_Allison,es_MX_f_Allison,fr,it_IT_m_Carlo")
    assert len(prepared.clips) == 40 and {c.split for c in prepared.clips} == {"test"}
    by_voice = {c.meta["voice"]: (c.group, c.meta["language"]) for c in prepared.clips}
    # Allison Smith speaks the English and the Mexican-Spanish prompts: one speaker, so one group
    assert by_voice == {"en_US_f_Allison": ("asterisk/en_US_f_Allison", "en"),
                        "es_MX_f_Allison": ("asterisk/en_US_f_Allison", "es"),
                        "fr": ("asterisk/fr", "fr"), "it_IT_m_Carlo": ("asterisk/it_IT_m_Carlo", "it")}
    assert len({c.id for c in prepared.clips}) == 40
    babble = prepare_dataset("asterisk", sounds, kind="babble", voices=["es_MX_f_Allison"]).clips
    assert {c.group for c in babble} == {"asterisk/en_US_f_Allison"}


def test_validation_voices_are_other_speakers(sounds, tmp_path):
    prepared = prepare_dataset("asterisk", sounds, voices="en_US_f_Allison,es_MX_f_Allison,fr,it_IT_m_Carlo",
                               val_voices=["fr"])
    split_of = {c.meta["voice"]: c.split for c in prepared.clips}
    assert split_of == {"en_US_f_Allison": "test", "es_MX_f_Allison": "test", "fr": "val", "it_IT_m_Carlo": "test"}
    val_groups = {c.group for c in prepared.clips if c.split == "val"}
    test_groups = {c.group for c in prepared.clips if c.split == "test"}
    assert val_groups == {"asterisk/fr"} and not val_groups & test_groups
    out = tmp_path / "digits.jsonl"
    result = CliRunner().invoke(app, ["prepare", "asterisk", "--root", str(sounds), "--voices", "fr,it_IT_m_Carlo",
                                      "--val-voices", "it_IT_m_Carlo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("asterisk: 20 clips, 10 labels (")
    assert {c.split for c in read_manifest(out) if c.meta["voice"] == "it_IT_m_Carlo"} == {"val"}


@pytest.mark.parametrize("voices, val_voices, message", [
    ("en_US_f_Allison,es_MX_f_Allison,fr", "es_MX_f_Allison",
     r"^val_voices: speaker en_US_f_Allison also speaks a test voice; the validation speakers must not be heard in "
     r"the test: hold out all of that speaker's voices or none$"),
    ("fr,it_IT_m_Carlo", "en_US_f_Allison",
     r"^val_voices en_US_f_Allison not among voices \(fr, it_IT_m_Carlo\); name voice folders listed in voices$"),
    ("fr,it_IT_m_Carlo", "fr,it_IT_m_Carlo", r"^val_voices holds out every voice, which leaves no test split"),
])
def test_validation_voices_refused(sounds, voices, val_voices, message):
    with pytest.raises(ConfigError, match=message):
        prepare_dataset("asterisk", sounds, voices=voices, val_voices=val_voices)


def test_gsm_and_g722_are_decoded(sounds):
    gsm = prepare_dataset("asterisk", sounds / "fr", kind="letters", verify=True).clips
    assert {(Path(c.path).suffix, c.sample_rate) for c in gsm} == {(".gsm", 8000)}
    assert all(abs(c.duration - 0.5) < 0.03 for c in gsm)  # 25 frames of 20 ms
    carlo = sounds / "it_IT_m_Carlo"
    g722 = prepare_dataset("asterisk", carlo, audio_format="g722", verify=True).clips
    assert {(Path(c.path).suffix, c.sample_rate) for c in g722} == {(".g722", 16000)}
    assert all(abs(c.duration - 0.8) < 0.01 for c in g722)
    auto = prepare_dataset("asterisk", carlo).clips  # WAV wins where a recording exists in several formats
    assert {Path(c.path).suffix for c in auto} == {".wav"}
    with pytest.raises(DatasetError, match=r"digits recording\(s\) 0, 1, .* missing \(formats tried: gsm\)"):
        prepare_dataset("asterisk", carlo, audio_format="gsm")


def test_cli_voices_and_audio_format(sounds, tmp_path):
    out = tmp_path / "letters.jsonl"
    result = CliRunner().invoke(app, ["prepare", "asterisk", "--root", str(sounds), "--kind", "letters", "--voices",
                                      "fr,it_IT_m_Carlo", "--audio-format", "auto", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("asterisk: 52 clips, 26 labels (test 52)")
    assert {c.group for c in read_manifest(out)} == {"asterisk/fr", "asterisk/it_IT_m_Carlo"}


def test_qabcs_letters(tmp_path):
    folder = make_qabcs_letters(tmp_path)
    prepared = prepare_dataset("qabcs", folder, verify=True)
    assert [c.label for c in prepared.clips] == list("abcdefghijklmnopqrstuvwxyz")
    assert {(c.split, c.group, c.sample_rate) for c in prepared.clips} == {("test", "qabcs/en", 44100)}
    (folder / "k.ogg").unlink()
    with pytest.raises(DatasetError, match=r"alpha: letter recording\(s\) k.ogg missing; every letter is part of "
                                           "the test set: reinstall qabcs-data"):
        prepare_dataset("qabcs", folder)


@pytest.mark.skipif(not all((REAL_SOUNDS / voice).is_dir() for voice in REAL_DIGIT_VOICES),
                    reason="not every voice of the demo's five-language digits is installed (sudo apt-get install "
                           + " ".join(REAL_DIGIT_VOICES.values()) + ")")
def test_the_real_digits_in_five_languages():
    clips = prepare_dataset("asterisk", REAL_SOUNDS, voices=list(REAL_DIGIT_VOICES), verify=True).clips
    assert len(clips) == 80 and len({c.group for c in clips}) == 7  # 8 voice folders, 7 speakers
    assert {c.meta["language"] for c in clips} == {"en", "es", "fr", "it", "ru"}
    assert {Path(c.path).suffix for c in clips if c.meta["voice"] in ("fr", "es")} == {".gsm"}
    assert all(0.2 < c.duration < 1.5 for c in clips)


@pytest.mark.skipif(not REAL_QABCS.is_dir(), reason=f"{REAL_QABCS} not found: sudo apt-get install qabcs-data")
def test_the_real_qabcs_letters():
    clips = prepare_dataset("qabcs", REAL_QABCS, verify=True).clips
    assert len(clips) == 26 and {c.sample_rate for c in clips} == {44100}
