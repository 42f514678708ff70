import os
from collections import Counter

import numpy as np
import pytest
import soundfile

from synthaudio.datasets import prepare_dataset, write_prepared
from synthaudio.errors import ConfigError, DatasetError
from synthaudio.manifest import read_manifest
from tests.conftest import tone
from tests.fixtures.datasets import make_folder, write_tone_file
from tests.fixtures.media import write_video


def tree(folder):
    return sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, files in os.walk(folder) for f in files)


def test_class_folders_become_labels_and_a_seeded_stratified_split(tmp_path):
    root = make_folder(tmp_path, classes={"dog": 10, "cat": 10})
    (root / "stray.wav").write_bytes((root / "dog" / "dog_0.wav").read_bytes())
    (root / "empty").mkdir()
    prepared = prepare_dataset("folder", root)
    clips = prepared.clips
    assert Counter((c.label, c.split) for c in clips) == {(label, split): n for label in ("dog", "cat")
                                                         for split, n in (("train", 8), ("val", 1), ("test", 1))}
    nested = next(c for c in clips if c.id == "folder/dog/more/dog_9.wav")  # files below a class folder count
    assert nested.label == "dog" and nested.duration == 0.5 and nested.sample_rate == 16000
    assert prepared.excluded == {"files outside any class folder": 1, "class folder without audio files: empty": 1}
    for name in ("a", "b"):
        write_prepared(prepare_dataset("folder", root, seed=4, fractions="0.6,0.2,0.2"), tmp_path / f"{name}.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert Counter(c.split for c in read_manifest(tmp_path / "a.jsonl")) == {"train": 12, "val": 4, "test": 4}


def test_all_split_puts_every_clip_in_one_split(tmp_path):
    root = make_folder(tmp_path, classes={"alpha": 2, "bravo": 3}, extension=".flac")
    clips = prepare_dataset("folder", root, all_split="test").clips
    assert len(clips) == 5 and {c.split for c in clips} == {"test"}
    with pytest.raises(ConfigError, match="^--all-split must be one of train, val, test, got 'dev'$"):
        prepare_dataset("folder", root, all_split="dev")
    with pytest.raises(ConfigError, match="^give either --fractions or --all-split, not both$"):
        prepare_dataset("folder", root, all_split="test", fractions="0.8,0.1,0.1")
    with pytest.raises(ConfigError, match=r"^--fractions must be >= 0 and sum to 1; got 0.8,0.3,-0.1 \(sum 1\)$"):
        prepare_dataset("folder", root, fractions="0.8,0.3,-0.1")


def test_odd_labels_never_make_anything_be_written_outside_the_output_folder(tmp_path):
    names = {"..evil": 2, "evil..": 2, "a/b": 2, "ünï cödé": 2, "x" * 200: 2, "-rf": 2}
    root = make_folder(tmp_path / "data", classes=names, nested=False)
    before = tree(tmp_path)
    prepared = prepare_dataset("folder", root, all_split="train")
    # 'a/b' is folder a/ holding b/; '..evil' is a hidden folder: reported, not a class
    assert {c.label for c in prepared.clips} == {"evil..", "a", "ünï cödé", "x" * 200, "-rf"}
    assert prepared.excluded == {"hidden folder, not a class: ..evil": 1}
    assert "folder/a/b/a/b_0.wav" in {c.id for c in prepared.clips}
    out = tmp_path / "out" / "m.jsonl"
    written = write_prepared(prepared, out)
    assert written == {"clips": out}
    assert tree(tmp_path) == sorted(before + [os.path.join("out", "m.jsonl")])
    assert read_manifest(out) == prepared.clips


def test_bad_files_stop_or_are_listed(tmp_path):
    root = make_folder(tmp_path, classes={"dog": 3})
    (root / "dog" / "notes.wav").write_text("not audio")
    write_video(root / "dog" / "film.mp4", audio=False)
    with pytest.raises(DatasetError, match=f"^{root / 'dog' / 'film.mp4'}: has no audio track; fix or remove it"):
        prepare_dataset("folder", root)
    prepared = prepare_dataset("folder", root, on_error="skip", all_split="train")
    assert len(prepared.clips) == 3
    assert [(os.path.basename(p.path), p.kind) for p in prepared.problems] == [("film.mp4", "bad"),
                                                                                ("notes.wav", "bad")]
    assert prepared.problems[1].reason == "not a readable audio or video file (InvalidDataError)"


def test_no_class_folders(tmp_path):
    with pytest.raises(DatasetError, match=f"^{tmp_path}: no audio files in class folders; expected one sub-folder "
                                           "per class"):
        prepare_dataset("folder", tmp_path)


def test_verify_decodes_what_headers_cannot_reveal(tmp_path):
    root = make_folder(tmp_path, classes={"dog": 2})
    samples = tone(seconds=0.5)
    samples[100] = np.nan
    soundfile.write(str(root / "dog" / "nan.wav"), samples, 16000, subtype="FLOAT")
    assert len(prepare_dataset("folder", root, all_split="test").clips) == 3  # the header looks fine
    with pytest.raises(DatasetError, match=f"^{root / 'dog' / 'nan.wav'}: contains NaN or Inf samples; fix or remove"):
        prepare_dataset("folder", root, all_split="test", verify=True)


def test_out_must_be_a_file(tmp_path):
    root = make_folder(tmp_path, classes={"dog": 2})
    with pytest.raises(ConfigError, match=f"^--out {tmp_path} is a folder; give the manifest file to write"):
        write_prepared(prepare_dataset("folder", root), tmp_path)


def test_groups_from_a_sub_folder_level_or_a_file_name_pattern(tmp_path):
    root = make_folder(tmp_path, classes={"dog": 3, "cat": 3})
    for label in ("dog", "cat"):
        for number, speaker in enumerate(("alice", "bob")):
            write_tone_file(root / label / speaker / f"{speaker}_{number}.wav", 440.0, 0.5, 16000)
    plain = prepare_dataset("folder", root, all_split="test").clips
    assert all(clip.group is None for clip in plain)  # no grouping asked for: each clip its own group
    with pytest.raises(DatasetError, match="^cat/cat_0.wav: --group-level 1 needs the file to lie 1 sub-folder"):
        prepare_dataset("folder", root, all_split="test", group_level=1)  # dog/dog_0.wav lies in no sub-folder
    only_speakers = tmp_path / "speakers"
    for label in ("dog", "cat"):
        (only_speakers / label).mkdir(parents=True)
        (root / label / "alice").rename(only_speakers / label / "alice")
        (root / label / "bob").rename(only_speakers / label / "bob")
    by_level = {c.id: c.group for c in prepare_dataset("folder", only_speakers, all_split="test",
                                                          group_level=1).clips}
    assert by_level == {f"folder/{label}/{speaker}/{speaker}_{n}.wav": f"folder/{speaker}"
                        for label in ("dog", "cat") for n, speaker in enumerate(("alice", "bob"))}
    by_pattern = {c.id: c.group for c in prepare_dataset("folder", only_speakers, all_split="test",
                                                            group_pattern=r"^(?P<group>[a-z]+)_\d").clips}
    assert by_pattern == by_level


def test_bad_group_options_are_one_clear_line(tmp_path):
    root = make_folder(tmp_path)
    with pytest.raises(ConfigError, match=r"^--group-pattern '\(unclosed' is not a valid regular expression: "):
        prepare_dataset("folder", root, group_pattern="(unclosed")
    with pytest.raises(ConfigError, match="either --group-level or --group-pattern, not both"):
        prepare_dataset("folder", root, group_level=1, group_pattern="x")
    with pytest.raises(ConfigError, match="--group-level must be a whole number >= 1"):
        prepare_dataset("folder", root, group_level=0)
    with pytest.raises(DatasetError, match="^dog/dog_0.wav: file name does not match --group-pattern '\\^cat'"):
        prepare_dataset("folder", root, group_pattern="^cat")
