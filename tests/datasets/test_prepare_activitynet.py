import json
from collections import Counter

import pytest

from synthaudio.audio import audio_info
from synthaudio.datasets import prepare_dataset, write_prepared
from synthaudio.errors import DatasetError
from synthaudio.manifest import read_manifest
from tests.fixtures.datasets import ACTIVITYNET_LABELS, activitynet_id, make_activitynet


@pytest.fixture(scope="module")
def anet_root(tmp_path_factory):
    return make_activitynet(tmp_path_factory.mktemp("anet"))


def test_one_clip_per_annotated_segment_with_offsets_from_the_json(anet_root):
    prepared = prepare_dataset("activitynet", anet_root)
    clips = prepared.clips
    assert {c.label for c in clips} == set(ACTIVITYNET_LABELS)
    # training: 4 videos x 2 segments per label, minus one video never downloaded and one without audio
    assert Counter(c.split for c in clips if c.meta["subset"] == "training") == {"train": 14, "val": 6}
    assert Counter(c.split for c in clips if c.meta["subset"] == "validation") == {"test": 3}
    first = next(c for c in clips if c.id == f"activitynet/{activitynet_id('training', 0, 0)}/1")
    assert (first.offset, first.duration, first.meta["segment"]) == (1.5, 1.1, [1.5, 2.6])
    assert first.path == str(anet_root / "videos" / f"v_{activitynet_id('training', 0, 0)}.mp4")
    clamped = next(c for c in clips if c.meta["video_id"] == activitynet_id("validation", 0, 0))
    # annotated [1, 8] in a 3-s file: clamped to the end of the audio track as measured
    assert clamped.offset == 1.0 and clamped.offset + clamped.duration == pytest.approx(audio_info(clamped.path)[0])
    assert abs(clamped.offset + clamped.duration - 3.0) < 0.1
    at_root = next(c for c in clips if c.meta["video_id"] == activitynet_id("training", 2, 0))
    assert at_root.path == str(anet_root / f"{activitynet_id('training', 2, 0)}.mkv")


def test_validation_keeps_whole_videos_and_every_loss_is_reported(anet_root):
    prepared = prepare_dataset("activitynet", anet_root)
    val_videos = {c.meta["video_id"] for c in prepared.clips if c.split == "val"}
    train_videos = {c.meta["video_id"] for c in prepared.clips if c.split == "train"}
    assert len(val_videos) == 3 and not val_videos & train_videos
    assert prepared.excluded == {"videos not found": 1, "videos of the 'testing' subset (no labels)": 2,
                                 "videos without an audio track": 1}
    assert sorted((p.kind, p.path) for p in prepared.problems) == [
        ("missing", str(anet_root / f"v_{activitynet_id('training', 0, 3)}.*")),
        ("no_audio", str(anet_root / "videos" / f"v_{activitynet_id('training', 1, 3)}.mp4"))]


def test_determinism_and_reading_back(anet_root, tmp_path):
    for name in ("a", "b"):
        write_prepared(prepare_dataset("activitynet", anet_root, seed=2), tmp_path / f"{name}.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert len(read_manifest(tmp_path / "a.jsonl")) == 23


def test_bad_annotations_and_truncated_videos(anet_root, tmp_path):
    with pytest.raises(DatasetError, match=f"^{tmp_path}: no activity_net.v1-3.min.json file; this is not the "
                                           "ActivityNet layout"):
        prepare_dataset("activitynet", tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": "VERSION 1.3", "videos": {}}))
    with pytest.raises(DatasetError, match='bad.json: no "database" object; expected the official'):
        prepare_dataset("activitynet", anet_root, annotations=bad)
    bad.write_text(json.dumps({"database": {"abc": {"subset": "training", "annotations": [{"label": "x"}]}}}))
    with pytest.raises(DatasetError, match=r'video abc: each annotation needs "label" \(text\) and "segment"'):
        prepare_dataset("activitynet", anet_root, annotations=bad)
    video_id = activitynet_id("training", 0, 0)
    late = {"database": {video_id: {"subset": "training", "duration": 60.0,
                                    "annotations": [{"label": "Chopping wood", "segment": [30.0, 40.0]}]}}}
    bad.write_text(json.dumps(late))
    with pytest.raises(DatasetError, match=r"v_tra0-00xYzQ.mp4: annotated segment 30.00-40.00 s lies beyond the end "
                                           r"of the file \(3.\d\d s\); the download may be truncated"):
        prepare_dataset("activitynet", anet_root, annotations=bad)


def test_group_is_the_video_so_its_segments_share_it(anet_root):
    clips = prepare_dataset("activitynet", anet_root).clips
    assert all(clip.group == "activitynet/" + clip.id.split("/")[1] for clip in clips)
    assert len({clip.group for clip in clips}) < len(clips)  # some videos hold several segments
