"""qABCs letter recordings (Debian `qabcs-data`, GPL-3+): English letters a ... z spoken by one man, 44.1 kHz Ogg
Vorbis with real room noise.

ROOT is the package's English letter folder, /usr/share/qabcs/abcs/en/sounds/alpha, holding a.ogg ... z.ogg.
Every letter is one test clip labelled a ... z (as the `asterisk` recipe's letters), group `qabcs/<language>`:
one speaker. Only English: the package's other languages sound synthetic (24 kHz, digital silence between words)
and are not real speech; use them as real data only after checking by ear.
"""

from pathlib import Path

from synthaudio.datasets.common import (
    FileProbe,
    OnError,
    PreparedDataset,
    Recipe,
    audio_files,
    dataset_root,
    progress,
    real_clip,
    require_clips,
)
from synthaudio.errors import DatasetError

NAME = "qabcs"
LETTERS = tuple("abcdefghijklmnopqrstuvwxyz")
LAYOUT = ("the qABCs English letter folder /usr/share/qabcs/abcs/en/sounds/alpha (Debian package qabcs-data): "
          "a.ogg ... z.ogg")


def prepare_qabcs(root: Path | str, seed: int = 0, on_error: OnError = "stop", verify: bool = False
                  ) -> PreparedDataset:
    """The 26 spoken letters, all test. `seed` is unused (no split is drawn): every recipe takes one."""
    root = dataset_root(root, "qABCs letters", LAYOUT)
    probe = FileProbe(on_error, verify)
    files = {path.stem: path for path in audio_files(root, recursive=False, extensions=(".ogg",))}
    missing = [letter for letter in LETTERS if letter not in files]
    if missing:
        raise DatasetError(f"{root}: letter recording(s) {', '.join(f'{letter}.ogg' for letter in missing)} "
                           f"missing; every letter is part of the test set: reinstall qabcs-data or restore them "
                           f"(expected {LAYOUT})")
    language = root.parent.parent.name if root.parent.name == "sounds" else "en"
    clips = []
    for letter in progress(list(LETTERS), "qabcs letters"):
        measured = probe.measure(files[letter])
        if measured is not None:
            clips.append(real_clip(f"{NAME}/{language}/{letter}", files[letter], letter, "test", None, *measured,
                                   meta={"speaker": f"{NAME}-{language}", "language": language},
                                   group=f"{NAME}/{language}"))
    others = len(set(files) - set(LETTERS))
    return PreparedDataset(NAME, require_clips(clips, "qABCs letter", root, probe.problems), problems=probe.problems,
                           excluded={"files that are not a single letter": others} if others else {})


RECIPE = Recipe(prepare_qabcs, domain="speech")
