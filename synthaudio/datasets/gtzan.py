"""GTZAN (Tzanetakis & Cook 2002): 10 genres x 100 tracks of 30 s, 22,050 Hz mono.

Official data: the `genres.tar.gz` archive of the Marsyas project (http://marsyas.info/downloads/datasets.html;
tracks in Sun .au), or the Kaggle copy "GTZAN Dataset - Music Genre Classification" (WAV, folder
`Data/genres_original`). Accepted layouts under ROOT (the first that exists):

    genres/<genre>/<genre>.000NN.{au,wav}
    genres_original/<genre>/<genre>.000NN.wav
    Data/genres_original/<genre>/<genre>.000NN.wav

Protocol (the study): only the 10-20 s segment of each track is used (offset 10, duration 10; `segment=None`
keeps whole tracks); a seeded stratified train/val/test split (default 0.8/0.1/0.1). `jazz.00054.wav` of the
Kaggle copy is not a WAV file at all: it is reported (listed under on_error="skip"; under "stop" the error
names it). Known limits of GTZAN itself (Sturm 2013: duplicates, same-artist tracks across splits) are not
corrected here, as in the study.
"""

from collections.abc import Sequence
from pathlib import Path

from synthaudio.datasets.common import (
    MIN_CLIP_SECONDS,
    FileProbe,
    OnError,
    PreparedDataset,
    Recipe,
    audio_files,
    dataset_root,
    is_hidden,
    parse_fractions,
    progress,
    real_clip,
    require_clips,
    three_way_split,
)
from synthaudio.errors import ConfigError, DatasetError

NAME = "gtzan"
GENRE_FOLDERS = ("genres", "genres_original", "Data/genres_original")
LAYOUT = "genres/<genre>/<genre>.000NN.au|wav (or Kaggle's genres_original/ or Data/genres_original/)"
STUDY_SEGMENT = (10.0, 20.0)
KNOWN_BAD = {"jazz.00054.wav": "jazz.00054.wav is a known unreadable file of the GTZAN release; skipping it is "
                               "the usual remedy"}


def parse_segment(text: str) -> tuple[float, float] | None:
    """'10:20' -> (10.0, 20.0); 'full' -> None (whole tracks)."""
    if text.strip().lower() == "full":
        return None
    try:
        start, end = (float(part) for part in text.split(":"))
    except ValueError:
        raise ConfigError(f"--segment must be START:END in seconds (e.g. 10:20) or 'full', got '{text}'") from None
    return check_segment((start, end))


def check_segment(segment: Sequence[float]) -> tuple[float, float]:
    start, end = (float(value) for value in segment)
    if not 0 <= start < end:
        raise ConfigError(f"--segment needs 0 <= START < END, got {start:g}:{end:g}")
    return start, end


def genre_folder(root: Path) -> Path:
    for relative in GENRE_FOLDERS:
        if (root / relative).is_dir():
            return root / relative
    raise DatasetError(f"{root}: no genres/ (or genres_original/) folder; this is not the GTZAN layout, "
                       f"expected {LAYOUT}")


def prepare_gtzan(root: Path | str, segment: Sequence[float] | None = STUDY_SEGMENT,
                  fractions: str | Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0, on_error: OnError = "stop",
                  verify: bool = False) -> PreparedDataset:
    """GTZAN tracks (or their `segment` = (start, end) seconds) with a seeded stratified train/val/test split."""
    segment = None if segment is None else check_segment(segment)
    split_fractions = parse_fractions(fractions)
    root = dataset_root(root, "GTZAN", LAYOUT)
    genres = sorted(p for p in genre_folder(root).iterdir() if p.is_dir() and not is_hidden(p.name))
    files = [(genre.name, path) for genre in genres for path in audio_files(genre, recursive=False)]
    if not files:
        raise DatasetError(f"{root}: no audio files in the genre folders; expected {LAYOUT}")
    probe = FileProbe(on_error, verify, hints=KNOWN_BAD)
    usable = []
    for genre, path in progress(files, "GTZAN", total=len(files)):
        start, end = segment if segment is not None else (0.0, None)
        measured = probe.measure(path, start, None if end is None else end - start)
        if measured is None:
            continue
        total, rate = measured
        if start > total - MIN_CLIP_SECONDS:
            probe.bad(path, f"is {total:.2f} s long, shorter than the segment start ({start:g} s)")
            continue
        usable.append((genre, path, start, min(total, end) - start if end is not None else total, rate))
    splits = three_way_split([genre for genre, *_ in usable], split_fractions, seed, NAME)
    clips = []
    for (genre, path, offset, duration, rate), split in zip(usable, splits, strict=True):
        suffix = "" if segment is None else f":{segment[0]:g}-{segment[1]:g}"
        clips.append(real_clip(f"{NAME}/{path.stem}{suffix}", path, genre, split, None, duration, rate,
                               offset=offset, group=f"{NAME}/{path.stem}"))
    return PreparedDataset(NAME, require_clips(clips, "GTZAN", root, probe.problems), problems=probe.problems)


RECIPE = Recipe(prepare_gtzan, domain="music")
