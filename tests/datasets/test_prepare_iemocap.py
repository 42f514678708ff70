from collections import Counter

import pytest

from synthaudio.datasets import prepare_dataset, write_prepared
from synthaudio.errors import ConfigError, DatasetError
from synthaudio.manifest import read_manifest
from tests.fixtures.datasets import make_iemocap

# per dialog: neu, sad, ang, hap, exc, fru, xxx, neu, sad, ang (make_iemocap's default)
PER_DIALOG = {"neutral": 2, "sad": 2, "angry": 2, "happy": 2}


@pytest.fixture(scope="module")
def iemocap_root(tmp_path_factory):
    return make_iemocap(tmp_path_factory.mktemp("iemocap"))


@pytest.mark.parametrize("test_fold", [5, 2])
def test_four_classes_sessions_as_folds_and_a_validation_from_the_other_sessions(iemocap_root, test_fold):
    prepared = prepare_dataset("iemocap", iemocap_root, test_fold=test_fold)
    clips = prepared.clips
    assert Counter(c.label for c in clips) == {label: 2 * 5 * n for label, n in PER_DIALOG.items()}
    assert {c.fold for c in clips} == {1, 2, 3, 4, 5}
    assert all((c.split == "test") == (c.fold == test_fold) for c in clips)
    assert all(c.fold == int(c.id.split("/Ses")[1][:2]) for c in clips)
    val = Counter(c.label for c in clips if c.split == "val")
    assert val == {label: 2 for label in PER_DIALOG}  # 10% of each class's 16 clips in the four other sessions
    # excited is merged into happy; every other label is left out and counted, not silently dropped
    assert Counter(c.meta["emotion"] for c in clips if c.label == "happy") == {"hap": 10, "exc": 10}
    assert prepared.excluded == {"emotion 'fru' (not in the 4-class protocol)": 10,
                                 "emotion 'xxx' (not in the 4-class protocol)": 10}


def test_clips_are_cut_to_ten_seconds_and_keep_speaker_metadata(iemocap_root):
    clips = {c.id: c for c in prepare_dataset("iemocap", iemocap_root).clips}
    long = clips["iemocap/Ses01F_impro01_F000"]
    assert (long.duration, long.offset, long.sample_rate) == (10.0, 0.0, 16000)  # the file lasts 12 s
    assert {c.duration for c in clips.values() if c is not long} == {1.0}
    assert clips["iemocap/Ses03M_script01_1_M001"].meta == {"speaker": "Ses03M", "dialog": "Ses03M_script01_1",
                                                            "emotion": "sad"}
    assert clips["iemocap/Ses03M_script01_1_M001"].path == str(
        iemocap_root / "Session3/sentences/wav/Ses03M_script01_1/Ses03M_script01_1_M001.wav")


def test_determinism_and_reading_back(iemocap_root, tmp_path):
    for name in ("a", "b"):
        write_prepared(prepare_dataset("iemocap", iemocap_root, seed=11), tmp_path / f"{name}.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert len(read_manifest(tmp_path / "a.jsonl")) == 80


def test_test_session_out_of_range(iemocap_root):
    with pytest.raises(ConfigError, match="^--test-fold 6 is out of range: this dataset has sessions 1, 2, 3, 4, 5$"):
        prepare_dataset("iemocap", iemocap_root, test_fold=6)


def test_bad_evaluation_line_missing_wav_and_wrong_root(tmp_path):
    root = make_iemocap(tmp_path / "a", sessions=2)
    evaluation = root / "Session2/dialog/EmoEvaluation/Ses02F_impro01.txt"
    (root / "Session2/sentences/wav/Ses02F_impro01/Ses02F_impro01_M001.wav").unlink()
    with pytest.raises(DatasetError, match=r"Ses02F_impro01_M001.wav: utterance Ses02F_impro01_M001 is labelled in "
                                           r"EmoEvaluation/Ses02F_impro01.txt but its wav is missing; fix or remove"):
        prepare_dataset("iemocap", root, test_fold=2)
    prepared = prepare_dataset("iemocap", root, test_fold=2, on_error="skip")
    assert len(prepared.clips) == 2 * 2 * 8 - 1 and prepared.problems[0].path.endswith("Ses02F_impro01_M001.wav")
    evaluation.write_text(evaluation.read_text().replace("]\tSes02F_impro01_F002", "] "))
    with pytest.raises(DatasetError, match=rf"^{evaluation}:\d+: not an utterance line"):
        prepare_dataset("iemocap", root, test_fold=2)
    with pytest.raises(DatasetError, match="no Session1..Session5 folders; this is not the IEMOCAP layout"):
        prepare_dataset("iemocap", tmp_path / "a")


def test_group_is_the_speaker_session_and_gender(iemocap_root):
    clips = prepare_dataset("iemocap", iemocap_root).clips
    test_groups = {clip.group for clip in clips if clip.split == "test"}
    assert test_groups == {"iemocap/Ses05F", "iemocap/Ses05M"}  # both actors of the test session
    assert all(clip.group == f"iemocap/{clip.meta['speaker']}" for clip in clips)
