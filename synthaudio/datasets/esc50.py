"""ESC-50 (Piczak 2015): 2,000 environmental recordings of 5 s, 50 classes of 40 clips, 5 official folds.

Official data: https://github.com/karolpiczak/ESC-50 (the repository archive, CC BY-NC 3.0). ROOT is the unpacked
`ESC-50-master` folder:

    meta/esc50.csv   header: filename,fold,target,category,esc10,src_file,take
    audio/<fold>-<src_file>-<take>-<target>.wav   (44.1 kHz mono, 5 s)

Protocol: every clip keeps its official fold; fold `test_fold` is the test split (a study loops over 1..5). From
the four other folds, `val_fraction` of each class (default 1/8: 4 of the 32 clips per class, 200 in all) is
carved as validation, seeded, keeping the takes of one source recording (`src_file`) together: the official
folds are built the same way, so no recording is heard in both training and validation. The label is the
`category` as the CSV spells it ("dog", "car_horn").
"""

import csv
from pathlib import Path

from synthaudio.datasets.common import (
    FileProbe,
    OnError,
    PreparedDataset,
    Recipe,
    carve_validation,
    check_test_fold,
    dataset_root,
    progress,
    real_clip,
    require,
    require_clips,
)
from synthaudio.errors import DatasetError

NAME = "esc50"
LAYOUT = ("meta/esc50.csv and audio/*.wav (the unpacked ESC-50-master folder from "
          "https://github.com/karolpiczak/ESC-50)")
COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")
VAL_FRACTION = 0.125


def read_esc50_csv(path: Path) -> list[dict[str, str]]:
    """The rows of meta/esc50.csv, checked for the official columns and integer folds and targets."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}; the official header is "
                               f"{','.join(COLUMNS)}")
        rows = []
        for line, row in enumerate(reader, start=2):
            for column in ("fold", "target"):
                if not (row[column] or "").strip().isdigit():
                    raise DatasetError(f"{path}:{line}: {column} must be a whole number, got '{row[column]}'")
            rows.append(row)
    if not rows:
        raise DatasetError(f"{path}: no clips listed")
    return rows


def prepare_esc50(root: Path | str, test_fold: int = 1, val_fraction: float = VAL_FRACTION, seed: int = 0,
                  on_error: OnError = "stop", verify: bool = False) -> PreparedDataset:
    """ESC-50 clips with their official folds; fold `test_fold` is the test split, validation carved from the rest."""
    root = dataset_root(root, "ESC-50", LAYOUT)
    rows = read_esc50_csv(require(root, "meta/esc50.csv", "ESC-50", LAYOUT))
    audio = require(root, "audio", "ESC-50", LAYOUT, folder=True)
    check_test_fold(test_fold, (int(row["fold"]) for row in rows))
    probe = FileProbe(on_error, verify)
    usable = []
    for row in progress(rows, "ESC-50"):
        path = audio / row["filename"]
        measured = probe.measure(path)
        if measured is not None:
            usable.append((row, path, measured))
    pool = [item for item in usable if int(item[0]["fold"]) != test_fold]
    is_val = carve_validation([row["category"] for row, _, _ in pool], val_fraction, seed, NAME,
                              groups=[row["src_file"] for row, _, _ in pool])
    split_of = {row["filename"]: "val" if val else "train" for (row, _, _), val in zip(pool, is_val, strict=True)}
    clips = []
    for row, path, (duration, rate) in usable:
        meta = {"target": int(row["target"]), "esc10": row["esc10"].strip() == "True",
                "src_file": row["src_file"], "take": row["take"]}
        clips.append(real_clip(f"{NAME}/{Path(row['filename']).stem}", path, row["category"],
                               split_of.get(row["filename"], "test"), int(row["fold"]), duration, rate, meta=meta,
                               group=f"{NAME}/{row['src_file']}"))
    return PreparedDataset(NAME, require_clips(clips, "ESC-50", root, probe.problems), problems=probe.problems)


RECIPE = Recipe(prepare_esc50, domain="sound")
