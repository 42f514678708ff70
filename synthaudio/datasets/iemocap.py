"""IEMOCAP (Busso et al. 2008): dyadic sessions of two actors each, utterances labelled with emotions, 16 kHz.

Official data: https://sail.usc.edu/iemocap/ (released on request, `IEMOCAP_full_release`). ROOT holds:

    Session1 .. Session5/dialog/EmoEvaluation/<dialog>.txt    one block per utterance, first line
        "[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]"
    Session1 .. Session5/sentences/wav/<dialog>/<utterance>.wav

Only the .txt files directly in EmoEvaluation are read (its Categorical/, Attribute/ and Self-evaluation/
sub-folders hold the individual annotators' votes).

Protocol (the study, and the common 4-class setup): neu -> neutral, sad -> sad, ang -> angry, hap and exc ->
happy; every other label (fru, sur, fea, dis, oth, xxx = no agreement) is left out and counted in
`PreparedDataset.excluded`. Sessions are the folds (1-5); session `test_fold` (default 5) is the test split and
`val_fraction` of each class of the other sessions is carved as validation, seeded (not speaker-independent:
validation speakers also occur in training, unlike the test session). Clips are cut to at most `max_seconds`
(10 s): offset 0, duration min(length, 10).
"""

import re
from pathlib import Path

from synthaudio.datasets.common import (
    DEFAULT_VAL_FRACTION,
    FileProbe,
    OnError,
    PreparedDataset,
    Recipe,
    carve_validation,
    check_test_fold,
    dataset_root,
    is_hidden,
    progress,
    real_clip,
    require_clips,
)
from synthaudio.errors import ConfigError, DatasetError

NAME = "iemocap"
LAYOUT = ("Session1..Session5/dialog/EmoEvaluation/<dialog>.txt and Session*/sentences/wav/<dialog>/<utterance>.wav "
          "(IEMOCAP_full_release from sail.usc.edu/iemocap)")
LABELS = {"neu": "neutral", "sad": "sad", "ang": "angry", "hap": "happy", "exc": "happy"}
_SESSION = re.compile(r"Session(\d+)$")
_TURN = re.compile(r"\[\s*(?P<start>[\d.]+)\s*-\s*(?P<end>[\d.]+)\s*\]\s+(?P<utterance>\S+)\s+(?P<emotion>\S+)\s+\[")


def read_emo_evaluation(path: Path) -> list[tuple[str, str]]:
    """(utterance id, emotion code) for each utterance block of one EmoEvaluation file."""
    turns = []
    for line_number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.startswith("["):
            continue  # header ("% [START_TIME - END_TIME] ..."), annotator lines ("C-E2:", "A-E3:"), blanks
        match = _TURN.match(line)
        if match is None:
            raise DatasetError(f"{path}:{line_number}: not an utterance line "
                               f"'[start - end]<TAB>utterance<TAB>emotion<TAB>[v, a, d]': {line.strip()[:80]}")
        turns.append((match["utterance"], match["emotion"]))
    return turns


def speaker_of(utterance: str) -> str:
    """'Ses01F_impro01_M003' -> 'Ses01M': the session and the gender of the actor speaking this turn."""
    return utterance[:5] + utterance.rsplit("_", 1)[-1][:1]


def prepare_iemocap(root: Path | str, test_fold: int = 5, val_fraction: float = DEFAULT_VAL_FRACTION,
                    max_seconds: float = 10.0, seed: int = 0, on_error: OnError = "stop",
                    verify: bool = False) -> PreparedDataset:
    """4-class IEMOCAP utterances, sessions as folds, cut to `max_seconds`."""
    if not max_seconds > 0:
        raise ConfigError(f"max_seconds must be > 0, got {max_seconds}")
    root = dataset_root(root, "IEMOCAP", LAYOUT)
    sessions = {int(m[1]): p for p in sorted(root.iterdir()) if p.is_dir() and (m := _SESSION.match(p.name))}
    if not sessions:
        raise DatasetError(f"{root}: no Session1..Session5 folders; this is not the IEMOCAP layout, expected {LAYOUT}")
    check_test_fold(test_fold, sessions, what="session")
    items, excluded = [], {}
    for number, session in sorted(sessions.items()):
        evaluation = session / "dialog" / "EmoEvaluation"
        files = sorted(p for p in evaluation.glob("*.txt") if not is_hidden(p.name))
        if not files:
            raise DatasetError(f"{evaluation}: no EmoEvaluation .txt files; expected {LAYOUT}")
        for file in files:
            for utterance, emotion in read_emo_evaluation(file):
                if emotion not in LABELS:
                    key = f"emotion '{emotion}' (not in the 4-class protocol)"
                    excluded[key] = excluded.get(key, 0) + 1
                    continue
                wav = session / "sentences" / "wav" / file.stem / f"{utterance}.wav"
                items.append((number, file.stem, utterance, emotion, wav))
    probe = FileProbe(on_error, verify)
    usable = []
    for number, dialog, utterance, emotion, wav in progress(items, "IEMOCAP"):
        if not wav.is_file():
            probe.bad(wav, f"utterance {utterance} is labelled in EmoEvaluation/{dialog}.txt but its wav is missing")
            continue
        measured = probe.measure(wav, 0.0, max_seconds)
        if measured is not None:
            usable.append((number, dialog, utterance, emotion, wav, *measured))
    pool = [item for item in usable if item[0] != test_fold]
    is_val = carve_validation([LABELS[item[3]] for item in pool], val_fraction, seed, NAME)
    val_ids = {item[2] for item, val in zip(pool, is_val, strict=True) if val}
    clips = []
    for number, dialog, utterance, emotion, wav, duration, rate in usable:
        split = "test" if number == test_fold else "val" if utterance in val_ids else "train"
        meta = {"speaker": speaker_of(utterance), "dialog": dialog, "emotion": emotion}
        clips.append(real_clip(f"{NAME}/{utterance}", wav, LABELS[emotion], split, number, min(duration, max_seconds),
                               rate, meta=meta, group=f"{NAME}/{meta['speaker']}"))
    return PreparedDataset(NAME, require_clips(clips, "IEMOCAP", root, probe.problems), problems=probe.problems,
                           excluded=dict(sorted(excluded.items())))


RECIPE = Recipe(prepare_iemocap, domain="speech")
