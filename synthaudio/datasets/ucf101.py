"""UCF101 (Soomro et al. 2012): 13,320 YouTube videos of 101 actions; the audio comes from the videos.

Official data: https://www.crcv.ucf.edu/data/UCF101.php: `UCF101.rar` (the videos) and
`UCF101TrainTestSplits-RecognitionTask.zip` (the split lists). ROOT holds both, unpacked:

    UCF-101/<Class>/v_<Class>_g<GG>_c<CC>.avi      25 groups per class (g01..g25), several clips each
    ucfTrainTestlist/classInd.txt                  "1 ApplyEyeMakeup" ... "101 YoYo"
    ucfTrainTestlist/trainlist0N.txt               "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1"
    ucfTrainTestlist/testlist0N.txt                "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"

Protocol (the study): the 20 classes whose actions make sound (`PAPER_CLASSES`; any list of class names can be
given), the official split list `split_list` (1-3) for train/test, and `val_fraction` of each class's training
clips carved as validation, seeded, whole groups at a time (clips of one group share actors and scene). Videos
without an audio track cannot be used: each is listed in `problems` and counted per class in `excluded`; only
a class left with no clip in the train or the test split is an error.
"""

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from synthaudio.datasets.common import (
    DEFAULT_VAL_FRACTION,
    FileProbe,
    OnError,
    PreparedDataset,
    Recipe,
    carve_validation,
    dataset_root,
    progress,
    real_clip,
    require,
    require_clips,
)
from synthaudio.errors import ConfigError, DatasetError

NAME = "ucf101"
LAYOUT = ("UCF-101/<Class>/v_<Class>_gXX_cYY.avi and ucfTrainTestlist/{classInd,trainlist0N,testlist0N}.txt "
          "(UCF101.rar and UCF101TrainTestSplits-RecognitionTask.zip from www.crcv.ucf.edu/data/UCF101.php)")
PAPER_CLASSES = (
    "BasketballDunk", "Bowling", "BoxingPunchingBag", "SoccerPenalty", "TableTennisShot", "PlayingCello",
    "PlayingDhol", "PlayingFlute", "PlayingSitar", "BandMarching", "BlowDryHair", "BlowingCandles", "BrushingTeeth",
    "CuttingInKitchen", "Haircut", "Hammering", "Knitting", "ShavingBeard", "Typing", "WritingOnBoard",
)
_GROUP_CLIP = re.compile(r"_g(\d+)_c(\d+)$")


def read_class_index(path: Path) -> list[str]:
    """Class names from classInd.txt ("<index> <Class>" per line; the official files end lines with CRLF)."""
    names = []
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise DatasetError(f"{path}:{line_number}: expected '<index> <Class>', got '{line.strip()}'")
        names.append(parts[1])
    return names


def read_split_list(path: Path) -> list[str]:
    """The 'Class/v_...avi' entries of a trainlist/testlist file (a trailing class index is ignored)."""
    return [line.split()[0] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def check_classes(classes: Sequence[str], valid: Sequence[str]) -> list[str]:
    unknown = [name for name in classes if name not in valid]
    if unknown:
        raise ConfigError(f"unknown UCF101 class(es): {', '.join(unknown)}; valid classes (classInd.txt): "
                          f"{', '.join(valid)}")
    if not classes:
        raise ConfigError("--classes is empty; give at least one UCF101 class name")
    return list(dict.fromkeys(classes))


def prepare_ucf101(root: Path | str, classes: Sequence[str] | None = None, split_list: int = 1,
                   val_fraction: float = DEFAULT_VAL_FRACTION, seed: int = 0, on_error: OnError = "stop",
                   verify: bool = False) -> PreparedDataset:
    """The audio tracks of UCF101 videos of `classes` (default: the study's 20), split by official list `split_list`."""
    if split_list not in (1, 2, 3):
        raise ConfigError(f"--split-list must be 1, 2 or 3 (the official UCF101 splits), got {split_list}")
    root = dataset_root(root, "UCF101", LAYOUT)
    videos = require(root, "UCF-101", "UCF101", LAYOUT, folder=True)
    lists = "ucfTrainTestlist"
    valid = read_class_index(require(root, f"{lists}/classInd.txt", "UCF101", LAYOUT))
    wanted = check_classes(list(PAPER_CLASSES if classes is None else classes), valid)
    entries = []
    for split, list_name in (("train", f"trainlist{split_list:02d}.txt"), ("test", f"testlist{split_list:02d}.txt")):
        for entry in read_split_list(require(root, f"{lists}/{list_name}", "UCF101", LAYOUT)):
            label = entry.split("/")[0]
            if label in wanted:
                entries.append((split, label, list_name, videos / entry))
    probe = FileProbe(on_error, verify)
    usable = []
    for split, label, list_name, path in progress(entries, "UCF101"):
        if not path.is_file():
            probe.bad(path, f"listed in {list_name} but missing")
            continue
        measured = probe.measure(path, allow_no_audio=True)
        if measured is None:
            continue
        match = _GROUP_CLIP.search(path.stem)
        group, clip = (int(match[1]), int(match[2])) if match else (0, 0)
        usable.append((split, label, path, group, clip, *measured))
    pool = [item for item in usable if item[0] == "train"]
    is_val = carve_validation([item[1] for item in pool], val_fraction, seed, NAME,
                              groups=[f"{item[1]}/g{item[3]:02d}" for item in pool])  # groups are per class
    val_paths = {item[2] for item, val in zip(pool, is_val, strict=True) if val}
    clips = [real_clip(f"{NAME}/{path.stem}", path, label, "val" if path in val_paths else split, None, duration, rate,
                       meta={"group": group, "clip": clip}, group=f"{NAME}/{label}/g{group:02d}")
             for split, label, path, group, clip, duration, rate in usable]
    silent = Counter(Path(problem.path).parent.name for problem in probe.problems if problem.kind == "no_audio")
    for label in wanted:
        for split in ("train", "test"):
            if not any(clip.label == label and clip.split == split for clip in clips):
                raise DatasetError(f"UCF101 class {label} has no usable clip in the {split} split of "
                                   f"{lists}/{'trainlist' if split == 'train' else 'testlist'}{split_list:02d}.txt "
                                   f"({silent.get(label, 0)} of its videos have no audio track); leave it out of "
                                   f"--classes")
    excluded = {f"videos without an audio track: {label}": count for label, count in sorted(silent.items())}
    return PreparedDataset(NAME, require_clips(clips, "UCF101", root, probe.problems), problems=probe.problems,
                           excluded=excluded)


RECIPE = Recipe(prepare_ucf101, domain="action")
