"""Any user's labelled recordings: one sub-folder per class.

Layout under ROOT:

    <class>/<file>.<ext>             any audio extension (wav, flac, ogg, mp3, m4a, ...) or video with audio
    <class>/<any>/<sub>/<file>.<ext> files anywhere below the class folder belong to that class

The label is the class folder's name, exactly. Hidden folders (".git", ".cache") are not classes, and files
directly in ROOT (outside any class folder) and class folders without audio are unlabelled: all are counted in
`excluded`, never guessed at. Hidden files (".x", macOS "._x.wav") below class folders are ignored.
Splits: a seeded stratified train/val/test split by `fractions` (default 0.8/0.1/0.1), or `all_split` to put
every clip in one split (e.g. "test" for a folder of real recordings that only evaluates a model).
Groups (the speaker or source recording clips share; clips of one group are not independent): `group_level`
takes the name of the sub-folder that many levels below the class folder (1: <class>/<speaker>/<file>), or
`group_pattern` is a regular expression searched in the file name whose group named `group` (else its first group,
else the whole match) is the group, e.g. '^([^_]+)_' for 'alice_001.wav'. With neither, each clip is its own group.
"""

import re
from collections.abc import Sequence
from pathlib import Path

from synthaudio.datasets.common import (
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

NAME = "folder"
LAYOUT = "one sub-folder per class, <root>/<class>/<audio files> (files may lie in sub-folders of the class folder)"
SPLITS = ("train", "val", "test")


def prepare_folder(root: Path | str, fractions: str | Sequence[float] | None = None, all_split: str | None = None,
                   seed: int = 0, on_error: OnError = "stop", verify: bool = False, group_level: int | None = None,
                   group_pattern: str | None = None) -> PreparedDataset:
    """Clips labelled by their class folder, split by `fractions` (seeded, stratified) or all into `all_split`;
    grouped by a sub-folder level (`group_level`) or a file-name regular expression (`group_pattern`)."""
    group_of = _grouping(group_level, group_pattern)
    if all_split is not None and fractions is not None:
        raise ConfigError("give either --fractions or --all-split, not both")
    if all_split is not None and all_split not in SPLITS:
        raise ConfigError(f"--all-split must be one of {', '.join(SPLITS)}, got '{all_split}'")
    split_fractions = parse_fractions((0.8, 0.1, 0.1) if fractions is None else fractions)
    root = dataset_root(root, "folder dataset", LAYOUT)
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    classes = [folder for folder in folders if not is_hidden(folder.name)]
    excluded = {f"hidden folder, not a class: {folder.name}": 1 for folder in folders if is_hidden(folder.name)}
    loose = audio_files(root, recursive=False)
    if loose:
        excluded["files outside any class folder"] = len(loose)
    files = []
    for folder in classes:
        found = audio_files(folder)
        if not found:
            excluded[f"class folder without audio files: {folder.name}"] = 1
        files.extend((folder.name, path) for path in found)
    if not files:
        raise DatasetError(f"{root}: no audio files in class folders; expected {LAYOUT}")
    probe = FileProbe(on_error, verify)
    usable = []
    for label, path in progress(files, "folder", total=len(files)):
        measured = probe.measure(path)
        if measured is not None:
            usable.append((label, path, *measured))
    labels = [label for label, *_ in usable]
    splits = [all_split] * len(usable) if all_split else three_way_split(labels, split_fractions, seed, NAME)
    clips = [real_clip(f"{NAME}/{path.relative_to(root).as_posix()}", path, label, split, None, duration, rate,
                       group=group_of(path.relative_to(root)))
             for (label, path, duration, rate), split in zip(usable, splits, strict=True)]
    return PreparedDataset(NAME, require_clips(clips, "folder", root, probe.problems), problems=probe.problems,
                           excluded=excluded)


def _grouping(group_level: int | None, group_pattern: str | None):
    """A function of a file's path relative to ROOT (<class>/...) giving its group (None: no grouping asked for)."""
    if group_level is not None and group_pattern is not None:
        raise ConfigError("give either --group-level or --group-pattern, not both")
    if group_level is not None:
        if isinstance(group_level, bool) or not isinstance(group_level, int) or group_level < 1:
            raise ConfigError(f"--group-level must be a whole number >= 1 (1: <class>/<group>/<file>), got "
                              f"{group_level!r}")

        def by_level(relative: Path) -> str:
            folders = relative.parts[1:-1]
            if len(folders) < group_level:
                raise DatasetError(f"{relative}: --group-level {group_level} needs the file to lie {group_level} "
                                   f"sub-folder(s) below its class folder, it lies {len(folders)}")
            return f"{NAME}/{'/'.join(folders[:group_level])}"
        return by_level
    if group_pattern is not None:
        try:
            pattern = re.compile(group_pattern)
        except re.error as error:
            raise ConfigError(f"--group-pattern '{group_pattern}' is not a valid regular expression: {error}") \
                from None

        def by_pattern(relative: Path) -> str:
            match = pattern.search(relative.name)
            if match is None:
                raise DatasetError(f"{relative}: file name does not match --group-pattern '{group_pattern}'")
            value = match["group"] if "group" in pattern.groupindex else match[1] if pattern.groups else match[0]
            if not value:
                raise DatasetError(f"{relative}: --group-pattern '{group_pattern}' matched an empty group")
            return f"{NAME}/{value}"
        return by_pattern
    return lambda relative: None


RECIPE = Recipe(prepare_folder)
