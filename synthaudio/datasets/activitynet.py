"""ActivityNet 1.3 (Caba Heilbron et al. 2015): ~20k YouTube videos, 200 activity classes, annotated segments.

Official data: http://activity-net.org/download.html. The annotations are `activity_net.v1-3.min.json`
(also in https://github.com/activitynet/ActivityNet, Evaluation/data):

    {"version": "VERSION 1.3", "taxonomy": [...],
     "database": {"<youtube id>": {"subset": "training" | "validation" | "testing", "duration": 92.55,
                                   "url": "https://www.youtube.com/watch?v=<youtube id>",
                                   "annotations": [{"segment": [0.01, 92.55], "label": "Dodgeball"}, ...]}}}

The videos come from YouTube (the official crawler) or from the organisers' archives on request; ROOT holds the
JSON and the videos, found ANYWHERE below ROOT (e.g. `videos/`, `v1-2/train/`) and named `v_<id>.<ext>` (the
organisers' naming) or `<id>.<ext>`, any audio/video extension (mp4, mkv, webm, ...).

Protocol: one clip per annotated segment (offset and duration from the segment, clamped to the file; the label
as spelt in the JSON). "training" videos are the train pool, from which `val_fraction` of each class is carved
as validation, seeded, whole videos at a time; "validation" videos are the test split, because the labels of
the official "testing" subset are withheld (that subset is skipped and counted). Videos that were never
downloaded, or have no audio track, are listed in `problems` and counted in `excluded`: real copies always
miss some videos that were removed from YouTube.
"""

import json
from collections import Counter
from pathlib import Path

from synthaudio.datasets.common import (
    DEFAULT_VAL_FRACTION,
    MIN_CLIP_SECONDS,
    FileProbe,
    OnError,
    PreparedDataset,
    Recipe,
    audio_files,
    carve_validation,
    dataset_root,
    progress,
    real_clip,
    require,
    require_clips,
)
from synthaudio.errors import DatasetError

NAME = "activitynet"
ANNOTATIONS = "activity_net.v1-3.min.json"
LAYOUT = (f"{ANNOTATIONS} and the videos named v_<id>.<ext> or <id>.<ext> anywhere below the root "
          "(activity-net.org/download.html)")
SUBSET_SPLITS = {"training": "train", "validation": "test"}


def read_annotations(path: Path) -> dict[str, dict]:
    """The "database" of an ActivityNet annotations file, checked for the fields the recipe reads."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: not valid JSON ({error}); expected the official {ANNOTATIONS}") from None
    database = data.get("database") if isinstance(data, dict) else None
    if not isinstance(database, dict):
        raise DatasetError(f"{path}: no \"database\" object; expected the official {ANNOTATIONS} schema")
    for video_id, entry in database.items():
        if not isinstance(entry, dict) or "subset" not in entry:
            raise DatasetError(f"{path}: video {video_id} has no \"subset\"")
        for annotation in entry.get("annotations", []) if entry["subset"] in SUBSET_SPLITS else []:
            segment = annotation.get("segment") if isinstance(annotation, dict) else None
            if (not isinstance(annotation.get("label"), str) or not isinstance(segment, list) or len(segment) != 2
                    or not all(isinstance(value, int | float) for value in segment)):
                raise DatasetError(f"{path}: video {video_id}: each annotation needs \"label\" (text) and "
                                   f"\"segment\" [start, end] in seconds, got {json.dumps(annotation)[:120]}")
    return database


def index_videos(root: Path) -> dict[str, Path]:
    """YouTube id -> video file, for files named v_<id>.<ext> or <id>.<ext> below `root` (first in sorted order)."""
    found: dict[str, Path] = {}
    for path in audio_files(root):
        stem = path.stem
        found.setdefault(stem[2:] if stem.startswith("v_") else stem, path)
    return found


def prepare_activitynet(root: Path | str, annotations: Path | str | None = None,
                        val_fraction: float = DEFAULT_VAL_FRACTION, seed: int = 0, on_error: OnError = "stop",
                        verify: bool = False) -> PreparedDataset:
    """One clip per annotated segment of the videos found; training -> train/val, validation -> test."""
    root = dataset_root(root, "ActivityNet", LAYOUT)
    if annotations is None:
        annotations = require(root, ANNOTATIONS, "ActivityNet", LAYOUT)
    elif not Path(annotations).is_file():
        raise DatasetError(f"{annotations}: annotations file not found; expected the official {ANNOTATIONS}")
    database = read_annotations(Path(annotations))
    videos = index_videos(root)
    if not videos:
        raise DatasetError(f"{root}: no video files found below it; expected {LAYOUT}")
    probe = FileProbe(on_error, verify)
    excluded: Counter = Counter()
    usable = []
    for video_id in progress(sorted(database), "ActivityNet"):
        entry = database[video_id]
        split = SUBSET_SPLITS.get(entry["subset"])
        if split is None:
            excluded[f"videos of the '{entry['subset']}' subset (no labels)"] += 1
            continue
        if not entry.get("annotations"):
            excluded["videos without annotations"] += 1
            continue
        path = videos.get(video_id)
        if path is None:
            probe.unusable(root / f"v_{video_id}.*", "video not found below the root (not downloaded?)", "missing")
            continue
        measured = probe.measure(path, allow_no_audio=True)
        if measured is None:
            continue
        total, rate = measured
        for index, annotation in enumerate(entry["annotations"]):
            start, end = (float(value) for value in annotation["segment"])
            offset, stop = max(0.0, start), min(end, total)
            if end <= start:
                excluded["empty annotated segments (end <= start)"] += 1
            elif stop - offset < MIN_CLIP_SECONDS:
                probe.bad(path, f"annotated segment {start:.2f}-{end:.2f} s lies beyond the end of the file "
                                f"({total:.2f} s); the download may be truncated")
            else:
                usable.append((split, annotation["label"], video_id, index, path, offset, stop - offset, rate,
                               [start, end], entry["subset"]))
    kinds = Counter(problem.kind for problem in probe.problems)
    excluded.update({"videos not found": kinds["missing"], "videos without an audio track": kinds["no_audio"]})
    pool = [item for item in usable if item[0] == "train"]
    is_val = carve_validation([item[1] for item in pool], val_fraction, seed, NAME, groups=[item[2] for item in pool])
    val_keys = {(item[2], item[3]) for item, val in zip(pool, is_val, strict=True) if val}
    clips = [real_clip(f"{NAME}/{video_id}/{index}", path, label, "val" if (video_id, index) in val_keys else split,
                       None, duration, rate, offset=offset,
                       meta={"video_id": video_id, "segment": segment, "subset": subset},
                       group=f"{NAME}/{video_id}")
             for split, label, video_id, index, path, offset, duration, rate, segment, subset in usable]
    return PreparedDataset(NAME, require_clips(clips, "ActivityNet", root, probe.problems), problems=probe.problems,
                           excluded={reason: count for reason, count in sorted(excluded.items()) if count})


RECIPE = Recipe(prepare_activitynet, domain="action")
