from collections import Counter

import pytest

from synthaudio.audio import audio_info, load_audio_native
from synthaudio.datasets import dataset_names, prepare_dataset
from synthaudio.datasets.common import carve_validation, parse_fractions
from synthaudio.errors import ConfigError, DatasetError, NoAudioTrackError
from tests.fixtures.media import write_video


def test_validation_is_stratified_grouped_and_seeded():
    labels = ["a"] * 40 + ["b"] * 20
    groups = [f"{label}{index // 2}" for index, label in enumerate(labels)]  # pairs share a recording
    chosen = carve_validation(labels, 0.1, seed=1, dataset="t", groups=groups)
    assert Counter(label for label, val in zip(labels, chosen, strict=True) if val) == {"a": 4, "b": 2}
    val_groups = {g for g, val in zip(groups, chosen, strict=True) if val}
    assert not val_groups & {g for g, val in zip(groups, chosen, strict=True) if not val}
    assert carve_validation(labels, 0.1, seed=1, dataset="t", groups=groups) == chosen
    assert any(carve_validation(labels, 0.1, seed=s, dataset="t", groups=groups) != chosen for s in range(2, 6))
    # a class's choice does not depend on the other classes present
    only_b = carve_validation(labels[40:], 0.1, seed=1, dataset="t", groups=groups[40:])
    assert only_b == chosen[40:]


def test_a_group_with_several_labels_is_never_split_between_train_and_validation():
    labels = ["a", "b"] * 10  # video v<i> holds one segment of each label
    groups = [f"v{index // 2}" for index in range(20)]
    chosen = carve_validation(labels, 0.2, seed=0, dataset="t", groups=groups)
    assert sum(chosen) == 4
    assert all(chosen[index] == chosen[index + 1] for index in range(0, 20, 2))


def test_validation_leaves_single_group_classes_and_zero_fraction_alone():
    assert carve_validation(["a", "a", "b"], 0.5, seed=0, dataset="t", groups=["g", "g", "h"]) == [False] * 3
    assert not any(carve_validation(["a"] * 10, 0.0, seed=0, dataset="t"))
    with pytest.raises(ConfigError, match=r"^--val-fraction must be a number in \[0, 1\), got 1.5$"):
        carve_validation(["a"] * 10, 1.5, seed=0, dataset="t")


def test_fractions_parse():
    assert parse_fractions("0.7, 0.2, 0.1") == {"train": 0.7, "val": 0.2, "test": 0.1}
    assert parse_fractions((1, 0, 0)) == {"train": 1.0, "val": 0.0, "test": 0.0}


def test_video_durations_come_from_the_header_and_match_decoding(tmp_path):
    for suffix in (".avi", ".mp4", ".mkv"):
        path = write_video(tmp_path / f"v{suffix}", seconds=2.0)
        duration, rate = audio_info(path)
        samples, decoded_rate = load_audio_native(path)
        assert rate == decoded_rate == 16000 and abs(duration - len(samples) / rate) < 0.1
    with pytest.raises(NoAudioTrackError, match="silent.avi: has no audio track$"):
        audio_info(write_video(tmp_path / "silent.avi", audio=False))


def test_unknown_dataset_and_options_that_do_not_apply(tmp_path):
    with pytest.raises(DatasetError) as caught:
        prepare_dataset("esc-50", tmp_path)
    assert str(caught.value) == ("unknown dataset 'esc-50'; known datasets: esc50, gtzan, speechcommands, iemocap, "
                                 "ucf101, activitynet, folder, asterisk, qabcs")
    assert dataset_names() == ["esc50", "gtzan", "speechcommands", "iemocap", "ucf101", "activitynet", "folder",
                             "asterisk", "qabcs"]
    with pytest.raises(ConfigError, match="^--test-fold does not apply to gtzan; its options: --segment, "
                                          "--fractions, --seed, --on-error, --verify$"):
        prepare_dataset("gtzan", tmp_path, test_fold=2)
    with pytest.raises(ConfigError, match="^--on-error must be one of stop, skip, got 'ignore'$"):
        prepare_dataset("esc50", tmp_path, on_error="ignore")
