from collections import Counter

import pytest

from synthaudio.datasets import prepare_dataset, write_prepared
from synthaudio.datasets.ucf101 import PAPER_CLASSES
from synthaudio.errors import ConfigError, DatasetError
from synthaudio.manifest import read_manifest
from tests.fixtures.datasets import make_ucf101

CLASSES = ("BasketballDunk", "Bowling", "Typing")
SILENT = "v_Typing_g09_c02"


@pytest.fixture(scope="module")
def ucf_root(tmp_path_factory):
    return make_ucf101(tmp_path_factory.mktemp("ucf"), classes=CLASSES, groups=(1, 2, 8, 9, 10), clips_per_group=2,
                       silent=(SILENT,))


def group_of(clip):
    return clip.meta["group"]


def test_official_split_lists_whole_groups_in_validation_and_silent_videos_reported(ucf_root):
    prepared = prepare_dataset("ucf101", ucf_root, classes=list(CLASSES))
    clips = prepared.clips
    assert len(clips) == 3 * 5 * 2 - 1 and {c.label for c in clips} == set(CLASSES)
    assert all((c.split == "test") == (group_of(c) <= 7) for c in clips)  # split 1 tests on groups 1-7
    assert all(c.fold is None and c.sample_rate == 16000 and abs(c.duration - 1.0) < 0.05 for c in clips)
    for label in CLASSES:  # one of the three training groups of each class is validation, whole
        val_groups = {group_of(c) for c in clips if c.label == label and c.split == "val"}
        train_groups = {group_of(c) for c in clips if c.label == label and c.split == "train"}
        assert len(val_groups) == 1 and not val_groups & train_groups and len(train_groups) == 2
    silent = str(ucf_root / "UCF-101" / "Typing" / f"{SILENT}.avi")
    assert [(p.path, p.reason, p.kind) for p in prepared.problems] == [(silent, "has no audio track", "no_audio")]
    assert prepared.excluded == {"videos without an audio track: Typing": 1}


def test_a_class_validation_does_not_depend_on_the_other_classes_chosen(ucf_root):
    def val_ids(classes, seed):
        return {c.id for c in prepare_dataset("ucf101", ucf_root, classes=classes, seed=seed).clips
                if c.split == "val" and c.label == "Bowling"}

    for seed in range(3):
        assert val_ids(["Bowling"], seed) == val_ids(list(CLASSES), seed) == val_ids(["Typing", "Bowling"], seed)


def test_other_split_list(ucf_root):
    clips = prepare_dataset("ucf101", ucf_root, classes=list(CLASSES), split_list=2).clips
    assert all((c.split == "test") == (8 <= group_of(c) <= 14) for c in clips)
    assert Counter(c.split for c in clips)["test"] == 3 * 3 * 2 - 1


def test_audio_comes_from_the_video_files_and_reads_back(ucf_root, tmp_path):
    prepared = prepare_dataset("ucf101", ucf_root, classes=["Bowling"])
    assert {c.path for c in prepared.clips} == {str(p) for p in (ucf_root / "UCF-101" / "Bowling").glob("*.avi")}
    for name in ("a", "b"):
        write_prepared(prepare_dataset("ucf101", ucf_root, classes=["Bowling"], seed=5), tmp_path / f"{name}.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert len(read_manifest(tmp_path / "a.jsonl")) == 10


def test_default_is_the_papers_twenty_classes(tmp_path):
    root = make_ucf101(tmp_path, classes=PAPER_CLASSES, groups=(1, 8, 9), clips_per_group=1, silent=(), seconds=0.5)
    clips = prepare_dataset("ucf101", root).clips
    assert {c.label for c in clips} == set(PAPER_CLASSES) and len(PAPER_CLASSES) == 20
    assert Counter(c.split for c in clips) == {"train": 20, "val": 20, "test": 20}


def test_unknown_class_names_are_named_with_the_valid_ones(ucf_root):
    with pytest.raises(ConfigError) as caught:
        prepare_dataset("ucf101", ucf_root, classes=["Bowling", "Bowlling", "Dancing"])
    assert str(caught.value) == ("unknown UCF101 class(es): Bowlling, Dancing; valid classes (classInd.txt): "
                                 "BasketballDunk, Bowling, Typing")
    with pytest.raises(ConfigError, match="^--split-list must be 1, 2 or 3"):
        prepare_dataset("ucf101", ucf_root, classes=["Bowling"], split_list=4)


def test_a_class_left_without_clips_is_an_error(tmp_path):
    root = make_ucf101(tmp_path, classes=("Typing", "Bowling"), groups=(1, 8), clips_per_group=1,
                       silent=("v_Typing_g08_c01",))
    with pytest.raises(DatasetError, match=r"^UCF101 class Typing has no usable clip in the train split of "
                                           r"ucfTrainTestlist/trainlist01.txt \(1 of its videos have no audio track\); "
                                           "leave it out of --classes$"):
        prepare_dataset("ucf101", root, classes=["Typing", "Bowling"])


def test_listed_video_missing_and_wrong_root(tmp_path):
    root = make_ucf101(tmp_path, classes=("Bowling",), groups=(1, 8, 9), clips_per_group=1, silent=())
    missing = root / "UCF-101" / "Bowling" / "v_Bowling_g09_c01.avi"
    missing.unlink()
    with pytest.raises(DatasetError, match=f"^{missing}: listed in trainlist01.txt but missing; fix or remove it"):
        prepare_dataset("ucf101", root, classes=["Bowling"])
    assert prepare_dataset("ucf101", root, classes=["Bowling"], on_error="skip").problems[0].path == str(missing)
    with pytest.raises(DatasetError, match=f"^{tmp_path}: no UCF-101 folder; this is not the UCF101 layout"):
        prepare_dataset("ucf101", tmp_path)


def test_group_is_the_class_and_its_gGG_group(ucf_root):
    clips = prepare_dataset("ucf101", ucf_root, classes=list(CLASSES)).clips
    for clip in clips:  # v_<Class>_g<GG>_c<CC>.avi
        stem = clip.path.rsplit("/", 1)[1]
        assert clip.group == f"ucf101/{clip.label}/{stem.split('_')[-2]}"
    assert Counter(clip.group for clip in clips).most_common(1)[0][1] == 2  # two clips per group
