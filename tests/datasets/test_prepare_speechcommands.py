from collections import Counter

import pytest

from synthaudio.datasets import prepare_dataset, write_prepared
from synthaudio.errors import DatasetError
from synthaudio.manifest import read_manifest
from tests.fixtures.datasets import make_speechcommands

WORDS = ("yes", "no", "up")
SPEAKERS = ("0a7c2a8d", "0b09edd3", "1a892463", "2b42e7a2", "3c4d5e6f")


@pytest.fixture(scope="module")
def commands_root(tmp_path_factory):
    return make_speechcommands(tmp_path_factory.mktemp("sc"), words=WORDS, speakers=SPEAKERS)


def test_official_lists_decide_the_splits(commands_root):
    prepared = prepare_dataset("speechcommands", commands_root)
    clips = prepared.clips
    assert len(clips) == 15 and {c.label for c in clips} == set(WORDS)
    expected = {SPEAKERS[0]: "test", SPEAKERS[1]: "val"}
    for clip in clips:
        assert clip.split == expected.get(clip.meta["speaker"], "train")
        assert clip.id == f"speechcommands/{clip.label}/{clip.meta['speaker']}_nohash_0"
        assert clip.fold is None and clip.sample_rate == 16000
    assert Counter(c.split for c in clips) == {"train": 9, "val": 3, "test": 3}
    durations = {c.id: c.duration for c in clips}
    assert durations.pop(f"speechcommands/yes/{SPEAKERS[-1]}_nohash_0") == 0.6  # measured, not assumed
    assert set(durations.values()) == {1.0}


def test_background_noise_goes_to_its_own_manifest(commands_root, tmp_path):
    prepared = prepare_dataset("speechcommands", commands_root)
    noise = prepared.extra["noise"]
    assert [(c.label, c.split, c.duration) for c in noise] == [("running_tap", "test", 3.0),
                                                               ("white_noise", "test", 3.0)]
    assert not any("_background_noise_" in c.path for c in prepared.clips)
    written = write_prepared(prepared, tmp_path / "real" / "commands.jsonl")
    assert written == {"clips": tmp_path / "real" / "commands.jsonl",
                       "noise": tmp_path / "real" / "commands.noise.jsonl"}
    assert read_manifest(written["noise"]) == noise
    assert read_manifest(written["clips"]) == prepared.clips
    elsewhere = write_prepared(prepared, tmp_path / "a.jsonl", {"noise": tmp_path / "noise" / "n.jsonl"})
    assert read_manifest(elsewhere["noise"]) == noise


def test_same_bytes_twice(commands_root, tmp_path):
    for name in ("a", "b"):
        write_prepared(prepare_dataset("speechcommands", commands_root), tmp_path / f"{name}.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.noise.jsonl").read_bytes() == (tmp_path / "b.noise.jsonl").read_bytes()


def test_listed_file_missing_stops_or_is_listed(tmp_path):
    root = make_speechcommands(tmp_path, words=("go",), speakers=("aa", "bb", "cc"))
    (root / "go" / "aa_nohash_0.wav").unlink()
    with pytest.raises(DatasetError, match=r"go/aa_nohash_0.wav: listed in testing_list.txt but missing; fix or "
                                           r"remove it, or rerun with --on-error skip"):
        prepare_dataset("speechcommands", root)
    prepared = prepare_dataset("speechcommands", root, on_error="skip")
    assert [p.path for p in prepared.problems] == [str(root / "go" / "aa_nohash_0.wav")]
    assert Counter(c.split for c in prepared.clips) == {"val": 1, "train": 1}


@pytest.mark.parametrize("missing, kind", [("validation_list.txt", "file"), ("testing_list.txt", "file"),
                                           ("_background_noise_", "folder")])
def test_wrong_layout_names_what_is_missing(tmp_path, missing, kind):
    root = make_speechcommands(tmp_path, words=("go",), speakers=("aa",))
    target = root / missing
    if target.is_dir():
        for child in target.iterdir():
            child.unlink()
        target.rmdir()
    else:
        target.unlink()
    with pytest.raises(DatasetError, match=f"^{root}: no {missing} {kind}; this is not the Speech Commands layout, "
                                           "expected <word>/<speaker>_nohash_<n>.wav folders"):
        prepare_dataset("speechcommands", root)


def test_group_is_the_speaker_before_nohash(commands_root):
    clips = prepare_dataset("speechcommands", commands_root).clips
    assert {clip.group for clip in clips} == {f"speechcommands/{speaker}" for speaker in SPEAKERS}
    for clip in clips:
        assert clip.group == "speechcommands/" + clip.path.rsplit("/", 1)[1].split("_nohash_")[0]
