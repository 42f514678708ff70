"""What every dataset recipe shares: the result type, measuring files (bad ones skipped and listed, or one error),
walking audio folders with a progress bar, layout checks, and seeded stratified splits.
"""

import inspect
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from synthaudio.audio import AUDIO_EXTENSIONS, audio_info, load_audio_native
from synthaudio.errors import AudioError, ConfigError, DatasetError, NoAudioTrackError, shown_path
from synthaudio.manifest import Clip
from synthaudio.seeding import derive_seed
from synthaudio.splits import stratified_split

OnError = Literal["stop", "skip"]
ProblemKind = Literal["bad", "no_audio", "missing"]
ON_ERROR_CHOICES = ("stop", "skip")
SKIP_HINT = "rerun with --on-error skip to skip such files and list them at the end"
DEFAULT_VAL_FRACTION = 0.1
MIN_CLIP_SECONDS = 0.001  # a segment that leaves less of a file than this is no clip


@dataclass(frozen=True)
class Problem:
    """A file that could not be used, and why.

    kind: "bad" (unreadable or inconsistent: skipped only under on_error="skip"), "no_audio" (a video without
    an audio track) or "missing" (listed by the dataset but not on disk, e.g. an ActivityNet video never
    downloaded): the last two are expected in real copies of video datasets and never stop a run.
    """

    path: str
    reason: str
    kind: ProblemKind = "bad"


@dataclass(frozen=True)
class Recipe:
    """A dataset recipe and the facts it declares about itself.

    Attributes:
        prepare: `prepare(root, **options) -> PreparedDataset` over the dataset's official layout.
        domain: what its labels describe, for prompts (sound, music, speech, action; None: say it in the study).
        extras: the extra manifests it writes besides the main one (e.g. ("noise",) for Speech Commands).
    """

    prepare: Callable[..., "PreparedDataset"]
    domain: str | None = None
    extras: tuple[str, ...] = ()

    def options(self) -> list[str]:
        """The keyword options `prepare` takes besides the root."""
        return [name for name in inspect.signature(self.prepare).parameters if name != "root"]


@dataclass
class PreparedDataset:
    """The outcome of a recipe: clips for the manifest, extra manifests, and everything that was left out.

    Attributes:
        clips: the rows of the main manifest, sorted by id.
        extra: further manifests by name, e.g. {"noise": [...]} for Speech Commands' background noise.
        problems: files that could not be used (skipped bad files, videos without audio, missing videos).
        excluded: items the dataset's protocol leaves out, counted by reason (e.g. IEMOCAP's other emotions).
    """

    name: str
    clips: list[Clip]
    extra: dict[str, list[Clip]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)

    def split_counts(self) -> dict[str, int]:
        counts = Counter(clip.split for clip in self.clips)
        return {split: counts[split] for split in ("train", "val", "test") if counts[split]}


class FileProbe:
    """Measures the files of a dataset; a bad file stops the run with one error, or is skipped and listed.

    Args:
        on_error: "stop" (the first bad file raises DatasetError naming it) or "skip" (it becomes a Problem).
        verify: also decode each clip (slow), so truncated or corrupt audio is caught now, not during training.
        hints: extra advice for known bad files, by file name (e.g. GTZAN's unreadable jazz.00054.wav).
    """

    def __init__(self, on_error: OnError = "stop", verify: bool = False, hints: dict[str, str] | None = None):
        if on_error not in ON_ERROR_CHOICES:
            raise ConfigError(f"--on-error must be one of {', '.join(ON_ERROR_CHOICES)}, got '{on_error}'")
        self.on_error = on_error
        self.verify = verify
        self.hints = hints or {}
        self.problems: list[Problem] = []

    def bad(self, path: Path | str, reason: str) -> None:
        """A file that should have been usable: raise under 'stop', list it under 'skip'."""
        if self.on_error == "stop":
            hint = self.hints.get(Path(path).name)
            known = f" ({hint})" if hint else ""
            raise DatasetError(f"{shown_path(path)}: {reason}{known}; fix or remove it, or {SKIP_HINT}")
        self.problems.append(Problem(shown_path(path), reason))

    def unusable(self, path: Path | str, reason: str, kind: ProblemKind) -> None:
        """A file the dataset is known to contain but that cannot serve (no audio track, not downloaded): listed."""
        self.problems.append(Problem(shown_path(path), reason, kind))

    def measure(self, path: Path, offset: float = 0.0, duration: float | None = None,
                allow_no_audio: bool = False) -> tuple[float, int] | None:
        """(duration in seconds, native rate) of `path`, or None when the file is unusable (then recorded).

        Args:
            offset, duration: the segment that `verify` decodes.
            allow_no_audio: a file without an audio track is expected (most UCF101 videos): listed, never fatal.
        """
        try:
            total, rate = audio_info(path)
            if self.verify and offset < total:  # a segment past the end is the caller's to report
                load_audio_native(path, offset, duration if duration is None else min(duration, total - offset))
        except NoAudioTrackError as error:
            if allow_no_audio:
                self.unusable(path, error.problem, "no_audio")
            else:
                self.bad(path, error.problem)
            return None
        except AudioError as error:
            self.bad(path, error.problem)
            return None
        return total, rate


def progress(items: Iterable, description: str, total: int | None = None) -> Iterator:
    """A progress bar on stderr (shown on terminals only) over `items`."""
    from tqdm import tqdm

    return iter(tqdm(items, desc=description, total=total, unit="file", disable=None, leave=False))


def is_hidden(name: str) -> bool:
    """Dot files, including the macOS AppleDouble '._x.wav' copies that some archives of GTZAN/IEMOCAP ship."""
    return name.startswith(".")


def audio_files(folder: Path, recursive: bool = True, extensions: Iterable[str] = AUDIO_EXTENSIONS) -> list[Path]:
    """Audio (and video) files below `folder`, hidden files and folders left out, in a stable sorted order."""
    wanted = {extension.lower() for extension in extensions}
    found = []
    for directory, subdirectories, files in os.walk(folder):
        subdirectories[:] = sorted(name for name in subdirectories if not is_hidden(name)) if recursive else []
        for name in files:
            if not is_hidden(name) and os.path.splitext(name)[1].lower() in wanted:
                found.append(Path(directory) / name)
    return sorted(found)


def dataset_root(root: Path | str, dataset: str, layout: str) -> Path:
    """`root` as an absolute path; DatasetError if it is not a folder."""
    path = Path(root).expanduser()
    if not path.is_dir():
        raise DatasetError(f"{path}: {dataset} root not found (not a folder); expected {layout}")
    return path.resolve()


def require(root: Path, relative: str, dataset: str, layout: str, folder: bool = False) -> Path:
    """root/relative, or DatasetError naming what is missing and the expected layout."""
    path = root / relative
    if not (path.is_dir() if folder else path.is_file()):
        kind = "folder" if folder else "file"
        raise DatasetError(f"{root}: no {relative} {kind}; this is not the {dataset} layout, expected {layout}")
    return path


def real_clip(clip_id: str, path: Path, label: str, split: str, fold: int | None, duration: float,
              sample_rate: int, offset: float = 0.0, meta: dict[str, Any] | None = None,
              group: str | None = None) -> Clip:
    """A manifest row for a clip of a real dataset (plain Python numbers, rounded to microseconds); `group` is the
    speaker, source recording or video it shares with other clips."""
    return Clip(id=clip_id, path=str(path), label=label, split=split, fold=fold, source="real",
                duration=round(float(duration), 6), sample_rate=int(sample_rate), offset=round(float(offset), 6),
                meta=meta or {}, group=group)


def check_fraction(value: float, option: str = "--val-fraction") -> float:
    if not isinstance(value, int | float) or not 0 <= value < 1:
        raise ConfigError(f"{option} must be a number in [0, 1), got {value!r}")
    return float(value)


def parse_fractions(text: str | Sequence[float]) -> dict[str, float]:
    """'0.8,0.1,0.1' (or three numbers) -> {'train': 0.8, 'val': 0.1, 'test': 0.1}, checked."""
    if isinstance(text, str):
        parts = [part.strip() for part in text.split(",")]
        try:
            values = [float(part) for part in parts]
        except ValueError:
            raise ConfigError(f"--fractions must be three numbers train,val,test such as 0.8,0.1,0.1; got '{text}'") \
                from None
    else:
        values = [float(value) for value in text]
    shown = ",".join(f"{value:g}" for value in values)
    if len(values) != 3:
        raise ConfigError(f"--fractions must be three numbers train,val,test such as 0.8,0.1,0.1; got {shown}")
    if any(not math.isfinite(value) or value < 0 for value in values) or not math.isclose(sum(values), 1.0,
                                                                                         abs_tol=1e-6):
        raise ConfigError(f"--fractions must be >= 0 and sum to 1; got {shown} (sum {sum(values):g})")
    if values[0] == 0:
        raise ConfigError(f"--fractions: the train fraction must be > 0; got {shown}")
    return dict(zip(("train", "val", "test"), values, strict=True))


def three_way_split(labels: Sequence[str], fractions: dict[str, float], seed: int, dataset: str) -> list[str]:
    """Seeded stratified train/val/test assignment (each class split in the given proportions)."""
    return stratified_split(labels, fractions, derive_seed(seed, dataset, "split"))


def check_test_fold(test_fold: int, folds: Iterable[int], what: str = "fold") -> int:
    available = sorted(set(folds))
    if not isinstance(test_fold, int) or test_fold not in available:
        raise ConfigError(f"--test-fold {test_fold} is out of range: this dataset has {what}s "
                          f"{', '.join(str(fold) for fold in available)}")
    return test_fold


def carve_validation(labels: Sequence[str], fraction: float, seed: int, dataset: str,
                     groups: Sequence[str] | None = None) -> list[bool]:
    """Which items of a training pool become validation: about `fraction` of each class, seeded.

    Items of one group (ESC-50 source recording, UCF101 group, ActivityNet video) stay together, so validation
    never shares a recording with training; a group holding several labels is drawn with the label of its first
    item. Each class is drawn with its own seed, so adding or removing a class leaves the others' choice
    unchanged. A class with a single group keeps everything in training.

    Returns:
        one flag per item, True for validation.
    """
    fraction = check_fraction(fraction)
    groups = list(groups) if groups is not None else [str(index) for index in range(len(labels))]
    stratum: dict[str, str] = {}  # group -> the label it is drawn with
    members: dict[str, dict[str, list[int]]] = {}  # label -> group -> item indices
    for index, (label, group) in enumerate(zip(labels, groups, strict=True)):
        members.setdefault(stratum.setdefault(group, label), {}).setdefault(group, []).append(index)
    chosen = [False] * len(labels)
    if fraction == 0:
        return chosen
    for label, by_group in members.items():
        names = sorted(by_group)
        if len(names) < 2:
            continue
        size = sum(len(items) for items in by_group.values())
        target = max(1, round(fraction * size))
        np.random.default_rng(derive_seed(seed, dataset, "val", label)).shuffle(names)
        taken = 0
        for name in names[:-1]:  # the last group always stays in training
            if taken >= target:
                break
            count = len(by_group[name])
            if taken == 0 or abs(taken + count - target) <= abs(taken - target):
                taken += count
                for index in by_group[name]:
                    chosen[index] = True
    return chosen


def sorted_clips(clips: Iterable[Clip]) -> list[Clip]:
    """Clips in id order, so that the manifest bytes depend only on the data and the seed."""
    return sorted(clips, key=lambda clip: clip.id)


def require_clips(clips: list[Clip], dataset: str, root: Path, problems: list[Problem]) -> list[Clip]:
    """DatasetError when nothing usable was found: an empty manifest helps nobody."""
    if not clips:
        skipped = f" ({len(problems)} file(s) could not be used, e.g. {problems[0].path}: {problems[0].reason})" \
            if problems else ""
        raise DatasetError(f"{root}: no usable {dataset} clips found{skipped}")
    return sorted_clips(clips)
