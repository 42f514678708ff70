import shutil
from collections import Counter

import pytest

from synthaudio.datasets import prepare_dataset, write_prepared
from synthaudio.errors import ConfigError, DatasetError
from synthaudio.manifest import read_manifest
from tests.fixtures.datasets import make_esc50

CATEGORIES = ("dog", "rooster", "car_horn")


@pytest.fixture(scope="module")
def esc50_root(tmp_path_factory):
    return make_esc50(tmp_path_factory.mktemp("esc50"), categories=CATEGORIES, clips_per_class_per_fold=4)


@pytest.mark.parametrize("test_fold", [1, 2, 3, 4, 5])
def test_official_folds_with_test_fold_and_grouped_stratified_validation(esc50_root, test_fold):
    clips = prepare_dataset("esc50", esc50_root, test_fold=test_fold).clips
    assert len(clips) == 3 * 5 * 4
    assert {clip.label for clip in clips} == set(CATEGORIES)
    for clip in clips:  # the fold is the official one, read from the file name <fold>-<src>-<take>-<target>.wav
        assert clip.fold == int(clip.id.split("/")[1].split("-")[0])
        assert (clip.split == "test") == (clip.fold == test_fold)
        assert clip.duration == 1.0 and clip.sample_rate == 44100 and clip.offset == 0 and clip.source == "real"
    val = [clip for clip in clips if clip.split == "val"]
    # 1/8 of each class's 16 clips in the other folds = 2, i.e. one source recording (takes A and B) per class
    assert Counter(clip.label for clip in val) == {label: 2 for label in CATEGORIES}
    train_sources = {clip.meta["src_file"] for clip in clips if clip.split == "train"}
    assert not train_sources & {clip.meta["src_file"] for clip in val}


def test_labels_and_metadata_as_the_csv_spells_them(esc50_root):
    clip = next(c for c in prepare_dataset("esc50", esc50_root).clips if c.label == "car_horn")
    assert clip.meta["target"] == 43 and clip.meta["esc10"] is False and clip.meta["take"] in {"A", "B"}
    assert clip.path == str(esc50_root / "audio" / (clip.id.split("/")[1] + ".wav"))


def test_same_seed_same_bytes_other_seed_other_validation(esc50_root, tmp_path):
    for name in ("a", "b"):
        write_prepared(prepare_dataset("esc50", esc50_root, seed=7), tmp_path / f"{name}.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()

    def val_ids(seed):
        return {c.id for c in prepare_dataset("esc50", esc50_root, seed=seed).clips if c.split == "val"}

    assert any(val_ids(seed) != val_ids(7) for seed in range(5))


def test_manifest_reads_back_with_absolute_paths_outside_and_relative_inside(esc50_root, tmp_path):
    prepared = prepare_dataset("esc50", esc50_root)
    write_prepared(prepared, tmp_path / "out" / "esc50.jsonl")
    assert read_manifest(tmp_path / "out" / "esc50.jsonl") == prepared.clips
    assert str(esc50_root) in (tmp_path / "out" / "esc50.jsonl").read_text()
    inside = tmp_path / "copy"
    shutil.copytree(esc50_root, inside)
    moved = prepare_dataset("esc50", inside)
    write_prepared(moved, inside / "manifest.jsonl")
    assert '"path": "audio/' in (inside / "manifest.jsonl").read_text()
    assert read_manifest(inside / "manifest.jsonl") == moved.clips


def test_wrong_root_names_what_is_missing_and_the_layout(tmp_path):
    with pytest.raises(DatasetError) as caught:
        prepare_dataset("esc50", tmp_path)
    assert str(caught.value) == (f"{tmp_path}: no meta/esc50.csv file; this is not the ESC-50 layout, expected "
                                 "meta/esc50.csv and audio/*.wav (the unpacked ESC-50-master folder from "
                                 "https://github.com/karolpiczak/ESC-50)")
    with pytest.raises(DatasetError, match="esc50-typo: ESC-50 root not found"):
        prepare_dataset("esc50", tmp_path / "esc50-typo")


def test_csv_without_official_columns(tmp_path):
    root = make_esc50(tmp_path, clips_per_class_per_fold=1)
    (root / "meta" / "esc50.csv").write_text("filename,fold,category\n1-1-A-0.wav,1,dog\n")
    with pytest.raises(DatasetError, match=r"esc50.csv: missing column\(s\) target, esc10, src_file, take; "
                                           "the official header is filename,fold,target"):
        prepare_dataset("esc50", root)


def test_test_fold_out_of_range(esc50_root):
    with pytest.raises(ConfigError, match="^--test-fold 6 is out of range: this dataset has folds 1, 2, 3, 4, 5$"):
        prepare_dataset("esc50", esc50_root, test_fold=6)


def test_corrupt_and_missing_files_stop_or_are_skipped_and_listed(tmp_path):
    root = make_esc50(tmp_path, clips_per_class_per_fold=1)
    broken = sorted((root / "audio").iterdir())[3]
    broken.write_bytes(broken.read_bytes()[:1000])  # a truncated download
    gone = sorted((root / "audio").iterdir())[5]
    gone.unlink()
    with pytest.raises(DatasetError) as caught:
        prepare_dataset("esc50", root)
    assert str(caught.value).startswith(f"{broken}: truncated: the data chunk promises")
    assert str(caught.value).endswith("; fix or remove it, or rerun with --on-error skip to skip such files and "
                                      "list them at the end")
    prepared = prepare_dataset("esc50", root, on_error="skip")
    assert len(prepared.clips) == 15 - 2
    assert [(p.path, p.kind) for p in prepared.problems] == [(str(broken), "bad"), (str(gone), "bad")]
    assert prepared.problems[1].reason == "file not found"


def test_group_is_the_source_recording_shared_by_its_takes(esc50_root, tmp_path):
    clips = prepare_dataset("esc50", esc50_root).clips
    for clip in clips:  # audio/{fold}-{source}-{take}-{target}.wav
        assert clip.group == "esc50/" + clip.path.rsplit("/", 1)[1].split("-")[1]
    groups = Counter(clip.group for clip in clips)
    assert len(groups) < len(clips) and max(groups.values()) > 1  # takes of one recording share a group
    write_prepared(prepare_dataset("esc50", esc50_root), tmp_path / "m.jsonl")
    assert [c.group for c in read_manifest(tmp_path / "m.jsonl")] == [c.group for c in clips]
