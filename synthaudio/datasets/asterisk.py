"""Asterisk PBX core sounds (Debian `asterisk-core-sounds-<lang>-wav`, CC-BY-SA-3.0): real studio recordings of
one professional speaker per language, 8 kHz telephone-band 16-bit WAV.

ROOT is one voice folder of such a package, e.g. /usr/share/asterisk/sounds/en_US_f_Allison (English) or
/usr/share/asterisk/sounds/es_MX_f_Allison (Spanish):

    digits/0.wav ... digits/9.wav     the ten digits spoken alone (plus 10.wav ... and other number words)
    <prompt>.wav                      the system prompts: whole sentences ("the person at extension ...")
    dictate/*.wav, followme/*.wav     more sentence prompts
    letters/, phonetic/, silence/     single letters, the phonetic alphabet, silent padding files

kind="digits": one clip per single digit, labels zero ... nine from the file names, every clip in the test split
(ten clips by one speaker are far too few to train on: they are the real test set of a zero-shot study). Other
files of digits/ (10.wav, h-1.wav, ...) are counted in `excluded`.

kind="babble": the sentence prompts (top level, dictate/, followme/) as a noise manifest of real competing speech,
one row per recording, label = file stem. Left out (counted in `excluded`): letters/, phonetic/ and digits/
(isolated words, not running speech), silence/, the non-speech files in NON_SPEECH (beeps, tones, the "monkeys"
sound effect) and recordings shorter than `min_seconds`. Every recording goes to split "train" or "test" by a
seeded hash of its path (about half each, disjoint, and a file keeps its half when others are added or removed),
so one half can augment training while the other corrupts the test speech: noise heard in training is never the
noise of the test. Note: it is ONE talker, not a crowd, and in the Debian packages of several languages that
talker is the same voice actress as the English digits; the demo documents that choice.
"""

from pathlib import Path
from typing import Literal

from synthaudio.datasets.common import (
    FileProbe,
    OnError,
    PreparedDataset,
    Recipe,
    audio_files,
    dataset_root,
    progress,
    real_clip,
    require,
    require_clips,
)
from synthaudio.errors import ConfigError, DatasetError
from synthaudio.seeding import derive_seed

NAME = "asterisk"
KINDS = ("digits", "babble")
LAYOUT = ("an Asterisk voice folder such as /usr/share/asterisk/sounds/en_US_f_Allison (Debian package "
          "asterisk-core-sounds-en-wav): digits/0.wav ... digits/9.wav and the prompt recordings")
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SENTENCE_FOLDERS = ("", "dictate", "followme")  # "" = the voice folder itself
# Non-speech files shipped among the prompts of every language (tones and a sound effect).
NON_SPEECH = frozenset({"beep", "beeperr", "ascending-2tone", "descending-2tone", "tt-monkeys"})
BABBLE_SPLITS = ("train", "test")


def prepare_asterisk(root: Path | str, kind: Literal["digits", "babble"] = "digits", seed: int = 0,
                     min_seconds: float = 1.0, on_error: OnError = "stop", verify: bool = False) -> PreparedDataset:
    """The spoken digits of an Asterisk voice (all test), or its sentence prompts as babble noise (train/test).

    Args:
        kind: "digits" or "babble" (see the module docstring).
        seed: decides which half of the babble recordings is "train" and which "test".
        min_seconds: babble recordings shorter than this are left out (single words, clicks).
    """
    if kind not in KINDS:
        raise ConfigError(f"--kind must be one of {', '.join(KINDS)} for asterisk, got '{kind}'")
    if not isinstance(min_seconds, int | float) or min_seconds < 0:
        raise ConfigError(f"min_seconds must be a number >= 0, got {min_seconds!r}")
    root = dataset_root(root, "Asterisk sounds", LAYOUT)
    probe = FileProbe(on_error, verify)
    if kind == "digits":
        return _digits(root, probe)
    return _babble(root, probe, seed, float(min_seconds))


def _digits(root: Path, probe: FileProbe) -> PreparedDataset:
    folder = require(root, "digits", "Asterisk sounds", LAYOUT, folder=True)
    files = audio_files(folder, recursive=False, extensions=(".wav",))
    wanted = {f"{digit}.wav": word for digit, word in enumerate(DIGIT_WORDS)}
    missing = sorted(set(wanted) - {path.name for path in files}, key=lambda name: int(name.split(".")[0]))
    if missing:
        raise DatasetError(f"{folder}: digit recording(s) {', '.join(missing)} missing; the ten digits 0.wav ... "
                           f"9.wav are the test set: reinstall the package or restore them (expected {LAYOUT})")
    clips = []
    for path in progress([p for p in files if p.name in wanted], "asterisk digits"):
        measured = probe.measure(path)
        if measured is not None:
            word = wanted[path.name]
            clips.append(real_clip(f"{NAME}/{root.name}/digits/{path.stem}", path, word, "test", None, *measured,
                                   meta={"speaker": root.name}, group=f"{NAME}/{root.name}"))
    others = len(files) - len(wanted)
    excluded = {"digits/ files that are not a single digit (10.wav, h-1.wav, ...)": others} if others else {}
    return PreparedDataset(NAME, require_clips(clips, "Asterisk digit", root, probe.problems),
                           problems=probe.problems, excluded=excluded)


def babble_split(relative: str, seed: int) -> str:
    """'train' or 'test' for a babble recording: a seeded hash of its path inside the voice folder."""
    return BABBLE_SPLITS[derive_seed(seed, NAME, "babble-half", relative) % 2]


def _babble(root: Path, probe: FileProbe, seed: int, min_seconds: float) -> PreparedDataset:
    files = [path for sub in SENTENCE_FOLDERS if (root / sub).is_dir()
             for path in audio_files(root / sub, recursive=False, extensions=(".wav",))]
    excluded: dict[str, int] = {}
    for sub in ("digits", "letters", "phonetic", "silence"):
        if (root / sub).is_dir():
            count = len(audio_files(root / sub, extensions=(".wav",)))
            if count:
                excluded[f"{sub}/: isolated words or silence, not running speech"] = count
    speech = [path for path in files if path.stem not in NON_SPEECH]
    if len(speech) < len(files):
        excluded["non-speech prompts (beeps, tones, sound effects)"] = len(files) - len(speech)
    clips = []
    short = 0
    for path in progress(speech, "asterisk babble"):
        measured = probe.measure(path)
        if measured is None:
            continue
        if measured[0] < min_seconds:
            short += 1
            continue
        relative = path.relative_to(root).as_posix()
        clips.append(real_clip(f"{NAME}/{root.name}/{relative.removesuffix('.wav')}", path, path.stem,
                               babble_split(relative, seed), None, *measured,
                               meta={"role": "babble", "speaker": root.name}, group=f"{NAME}/{root.name}"))
    if short:
        excluded[f"prompts shorter than {min_seconds:g} s"] = short
    if clips and len({clip.split for clip in clips}) < 2:
        raise DatasetError(f"{root}: only {len(clips)} babble recording(s), all in one half; a training and a test "
                          "half need more recordings (lower min_seconds or use a fuller voice folder)")
    return PreparedDataset(NAME, require_clips(clips, "Asterisk babble", root, probe.problems),
                           problems=probe.problems, excluded=excluded)


RECIPE = Recipe(prepare_asterisk, domain="speech")
