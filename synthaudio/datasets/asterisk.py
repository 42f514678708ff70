"""Asterisk PBX voice prompts (Debian `asterisk-core-sounds-<lang>-{wav,g722}` and `asterisk-prompt-*`): real
studio recordings of one professional speaker per voice folder, 8 kHz telephone-band WAV or GSM 06.10, or 16 kHz
G.722 (decoded with PyAV).

ROOT is one voice folder, e.g. /usr/share/asterisk/sounds/en_US_f_Allison, or, with `voices`, the folder holding
several (root /usr/share/asterisk/sounds, voices [en_US_f_Allison, fr_CA_f_June, fr, ...]). A voice folder holds

    digits/0.wav ... digits/9.wav     the ten digits spoken alone (plus 10.wav ... and other number words)
    letters/a.wav ... letters/z.wav   the letters spoken alone (plus symbols: dot, dash, ascii42, ...)
    phonetic/a_p.wav ... z_p.wav      the phonetic alphabet, alpha ... zulu
    <prompt>.wav, dictate/, followme/ the system prompts: whole sentences ("the person at extension ...")
    silence/                          silent padding files

with .gsm (asterisk-prompt-fr-armelle, asterisk-prompt-es-co) or .g722 files (asterisk-core-sounds-en-g722: the
same recordings as -en-wav at 16 kHz) in place of or beside the .wav files. `audio_format` picks one of them
(wav, gsm, g722); "auto" takes, per recording, the first of wav, gsm, g722 that exists.

kind="digits" | "letters" | "phonetic": one clip per word (digits labelled zero ... nine, letters a ... z,
phonetic alpha ... zulu), every clip in the test split (one speaker's single takes are far too few to train on:
they are the real test set of a zero-shot study), except the voices named in `val_voices`, whose clips form a
real validation split of other speakers (a voice whose speaker also has a test voice is refused: the validation
speakers must not be heard in the test). The folder's other files (10.wav, h-1.wav, dot.wav, ...) are
counted in `excluded`; a missing word is an error, never a smaller test set.

kind="babble": the sentence prompts (top level, dictate/, followme/) as a noise manifest of real competing speech,
one row per recording, label = file stem. Left out (counted in `excluded`): letters/, phonetic/ and digits/
(isolated words, not running speech), silence/, the non-speech files in NON_SPEECH (beeps, tones, the "monkeys"
sound effect) and recordings shorter than `min_seconds`. Every recording goes to split "train" or "test" by a
seeded hash of its path (about half each, disjoint, and a file keeps its half when others are added or removed),
so one half can augment training while the other corrupts the test speech: noise heard in training is never the
noise of the test. Note: it is ONE talker, not a crowd.

Speakers: every row's group is `asterisk/<voice folder>`, one group per real speaker, so that intervals resample
speakers; voices recorded by a speaker who also recorded another folder share that folder's group (SAME_SPEAKER:
Allison Smith speaks the US-English and the Mexican-Spanish prompts). `meta` names the speaker, the voice folder
and its language (the folder name's first two letters: en, es, fr, it, ru).
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
WORD_KINDS = ("digits", "letters", "phonetic")
KINDS = (*WORD_KINDS, "babble")
FORMATS = ("wav", "gsm", "g722")  # the order "auto" tries them in
LAYOUT = ("an Asterisk voice folder such as /usr/share/asterisk/sounds/en_US_f_Allison (Debian package "
          "asterisk-core-sounds-en-wav): digits/0.wav ... digits/9.wav, letters/, phonetic/ and the prompt recordings")
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
LETTERS = tuple("abcdefghijklmnopqrstuvwxyz")
PHONETIC_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett",
                  "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
                  "uniform", "victor", "whiskey", "xray", "yankee", "zulu")
# file stem -> label, per kind
WORDS = {
    "digits": {str(digit): word for digit, word in enumerate(DIGIT_WORDS)},
    "letters": {letter: letter for letter in LETTERS},
    "phonetic": {f"{letter}_p": word for letter, word in zip(LETTERS, PHONETIC_WORDS, strict=True)},
}
# Voice folders spoken by the same person as another folder: the group of the first is the second's. Allison Smith
# recorded both (the packages' copyright files credit her for every file that is not fr-*, ru-* or it-*).
SAME_SPEAKER = {"es_MX_f_Allison": "en_US_f_Allison"}
SENTENCE_FOLDERS = ("", "dictate", "followme")  # "" = the voice folder itself
# Non-speech files shipped among the prompts of every language (tones and a sound effect).
NON_SPEECH = frozenset({"beep", "beeperr", "ascending-2tone", "descending-2tone", "tt-monkeys"})
BABBLE_SPLITS = ("train", "test")


def prepare_asterisk(root: Path | str, kind: Literal["digits", "letters", "phonetic", "babble"] = "digits",
                     voices: list[str] | str | None = None, audio_format: str = "auto", seed: int = 0,
                     min_seconds: float = 1.0, on_error: OnError = "stop", verify: bool = False,
                     val_voices: list[str] | str | None = None) -> PreparedDataset:
    """The spoken digits, letters or phonetic alphabet of Asterisk voices (all test), or a voice's sentence prompts
    as babble noise (train/test).

    Args:
        kind: digits, letters, phonetic or babble (see the module docstring).
        voices: voice folders under ROOT (a list, or names separated by commas); none: ROOT is the voice folder.
        audio_format: wav, gsm, g722 or auto (per recording, the first of them that exists).
        seed: decides which half of the babble recordings is "train" and which "test".
        min_seconds: babble recordings shorter than this are left out (single words, clicks).
        val_voices: voices (of `voices`) whose words go to the val split instead of test (see the module docstring).
    """
    if kind not in KINDS:
        raise ConfigError(f"--kind must be one of {', '.join(KINDS)} for asterisk, got '{kind}'")
    if audio_format not in (*FORMATS, "auto"):
        raise ConfigError(f"audio_format must be one of {', '.join(FORMATS)} or auto for asterisk, got "
                          f"'{audio_format}'")
    if not isinstance(min_seconds, int | float) or min_seconds < 0:
        raise ConfigError(f"min_seconds must be a number >= 0, got {min_seconds!r}")
    names = _voice_names(voices)
    held_out = _validation_voices(val_voices, names, kind)
    root = dataset_root(root, "Asterisk sounds", LAYOUT)
    folders = [root] if not names else [require(root, name, "Asterisk sounds", LAYOUT, folder=True)
                                        for name in names]
    probe = FileProbe(on_error, verify)
    extensions = FORMATS if audio_format == "auto" else (audio_format,)
    clips, excluded = [], {}
    for folder in folders:
        if kind == "babble":
            found, left_out = _babble(folder, probe, seed, float(min_seconds), extensions)
        else:
            found, left_out = _words(folder, kind, probe, extensions)
        clips += found
        for reason, count in left_out.items():
            excluded[reason] = excluded.get(reason, 0) + count
    if held_out:
        clips = [clip.model_copy(update={"split": "val"}) if clip.meta["voice"] in held_out else clip
                 for clip in clips]
    if kind == "babble" and clips and len({clip.split for clip in clips}) < 2:
        raise DatasetError(f"{root}: only {len(clips)} babble recording(s), all in one half; a training and a test "
                           "half need more recordings (lower min_seconds or use a fuller voice folder)")
    what = "Asterisk babble" if kind == "babble" else f"Asterisk {kind}"
    return PreparedDataset(NAME, require_clips(clips, what, root, probe.problems), problems=probe.problems,
                           excluded=excluded)


def _voice_names(voices: list[str] | str | None) -> list[str]:
    names = [part.strip() for part in voices.split(",")] if isinstance(voices, str) else list(voices or ())
    if any(not isinstance(name, str) or not name or "/" in name for name in names) or len(set(names)) < len(names):
        raise ConfigError(f"voices must be distinct voice folder names under the root (e.g. [en_US_f_Allison, "
                          f"fr]), got {voices!r}")
    return names


def _validation_voices(val_voices: list[str] | str | None, names: list[str], kind: str) -> set[str]:
    """The voices held out for validation, checked: some of `voices`, not all, sharing no speaker with the rest."""
    held_out = _voice_names(val_voices) if val_voices else []
    if not held_out:
        return set()
    if kind == "babble":
        raise ConfigError("val_voices holds out speakers of the words (digits, letters, phonetic); babble has its "
                          "own train/test halves: remove val_voices")
    unknown = [name for name in held_out if name not in names]
    if unknown:
        raise ConfigError(f"val_voices {', '.join(unknown)} not among voices ({', '.join(names) or 'none given'}); "
                          f"name voice folders listed in voices")
    tested = [name for name in names if name not in held_out]
    if not tested:
        raise ConfigError("val_voices holds out every voice, which leaves no test split; keep at least one voice "
                          "for testing")
    shared = sorted({SAME_SPEAKER.get(name, name) for name in held_out}
                    & {SAME_SPEAKER.get(name, name) for name in tested})
    if shared:
        raise ConfigError(f"val_voices: speaker {', '.join(shared)} also speaks a test voice; the validation "
                          f"speakers must not be heard in the test: hold out all of that speaker's voices or none")
    return set(held_out)


def speaker(folder: Path) -> str:
    """The speaker group of a voice folder: asterisk/<folder>, or the folder of the same speaker's other voice."""
    return f"{NAME}/{SAME_SPEAKER.get(folder.name, folder.name)}"


def _meta(folder: Path) -> dict[str, str]:
    return {"speaker": SAME_SPEAKER.get(folder.name, folder.name), "voice": folder.name,
            "language": folder.name[:2].lower()}


def _words(folder: Path, kind: str, probe: FileProbe, extensions: tuple[str, ...]) -> tuple[list, dict[str, int]]:
    words = require(folder, kind, "Asterisk sounds", LAYOUT, folder=True)
    files = audio_files(words, recursive=False, extensions=tuple(f".{ext}" for ext in extensions))
    by_stem: dict[str, Path] = {}
    for extension in extensions:  # the first format in order wins for a recording that exists in several
        for path in files:
            if path.suffix == f".{extension}":
                by_stem.setdefault(path.stem, path)
    wanted = WORDS[kind]
    missing = [stem for stem in wanted if stem not in by_stem]
    if missing:
        raise DatasetError(f"{words}: {kind} recording(s) {', '.join(missing)} missing (formats tried: "
                           f"{', '.join(extensions)}); every word of the kind is part of the test set: reinstall "
                           f"the package, restore them or pick audio_format (expected {LAYOUT})")
    clips = []
    for stem in progress(list(wanted), f"asterisk {kind} {folder.name}"):
        path = by_stem[stem]
        measured = probe.measure(path)
        if measured is not None:
            clips.append(real_clip(f"{NAME}/{folder.name}/{kind}/{stem}", path, wanted[stem], "test", None,
                                   *measured, meta=_meta(folder), group=speaker(folder)))
    others = len(set(by_stem) - set(wanted))
    return clips, ({f"{kind}/ files that are not one of its words (10, h-1, dot, ...)": others} if others else {})


def babble_split(relative: str, seed: int) -> str:
    """'train' or 'test' for a babble recording: a seeded hash of its path inside the voice folder."""
    return BABBLE_SPLITS[derive_seed(seed, NAME, "babble-half", relative) % 2]


def _babble(root: Path, probe: FileProbe, seed: int, min_seconds: float,
            extensions: tuple[str, ...]) -> tuple[list, dict[str, int]]:
    suffixes = tuple(f".{ext}" for ext in extensions)
    found = [path for sub in SENTENCE_FOLDERS if (root / sub).is_dir()
             for path in audio_files(root / sub, recursive=False, extensions=suffixes)]
    by_stem: dict[tuple[Path, str], Path] = {}
    for extension in extensions:  # one recording per prompt, in the first format that has it
        for path in found:
            if path.suffix == f".{extension}":
                by_stem.setdefault((path.parent, path.stem), path)
    files = sorted(by_stem.values())
    excluded: dict[str, int] = {}
    for sub in ("digits", "letters", "phonetic", "silence"):
        if (root / sub).is_dir():
            count = len({path.stem for path in audio_files(root / sub, extensions=suffixes)})
            if count:
                excluded[f"{sub}/: isolated words or silence, not running speech"] = count
    speech = [path for path in files if path.stem not in NON_SPEECH]
    if len(speech) < len(files):
        excluded["non-speech prompts (beeps, tones, sound effects)"] = len(files) - len(speech)
    clips = []
    short = 0
    for path in progress(speech, f"asterisk babble {root.name}"):
        measured = probe.measure(path)
        if measured is None:
            continue
        if measured[0] < min_seconds:
            short += 1
            continue
        relative = path.relative_to(root).as_posix()
        clips.append(real_clip(f"{NAME}/{root.name}/{relative.removesuffix(path.suffix)}", path, path.stem,
                               babble_split(relative, seed), None, *measured,
                               meta={"role": "babble", **_meta(root)}, group=speaker(root)))
    if short:
        excluded[f"prompts shorter than {min_seconds:g} s"] = short
    return clips, excluded


RECIPE = Recipe(prepare_asterisk, domain="speech")
