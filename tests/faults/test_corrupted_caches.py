"""Damaged caches: a truncated or bit-flipped feature-cache entry or stage output is detected, reported once and
recomputed, never silently used."""

import json

import numpy as np

from synthaudio.features import FeatureSettings
from synthaudio.manifest import read_manifest
from synthaudio.recognition.data import FeatureStore
from synthaudio.recognition.feature_cache import ArrayCache
from synthaudio.study.cache import discard_damaged, is_done, mark_done
from tests.recognition.conftest import tone_manifest


def flip_a_bit(path, position=-7):
    data = bytearray(path.read_bytes())
    data[position] ^= 0x10
    path.write_bytes(bytes(data))


def test_a_damaged_feature_cache_entry_is_reported_once_and_recomputed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(ArrayCache, "_reported", set())
    clips = read_manifest(tone_manifest(tmp_path / "data", {"train": 2}))
    settings = FeatureSettings(target_frames=80)
    reference = FeatureStore(settings, tmp_path / "cache").features(clips)
    entries = sorted((tmp_path / "cache").rglob("*.f32"))
    assert len(entries) >= 3
    flip_a_bit(entries[0])
    flip_a_bit(entries[1], position=40)
    entries[2].write_bytes(entries[2].read_bytes()[:-100])  # truncated
    capsys.readouterr()

    again = FeatureStore(settings, tmp_path / "cache").features(clips)
    for (values, valid), (expected, expected_valid) in zip(again, reference, strict=True):
        np.testing.assert_array_equal(values, expected)
        assert valid == expected_valid
    warnings = [line for line in capsys.readouterr().err.splitlines() if "feature cache entry" in line]
    assert len(warnings) == 1 and "is damaged" in warnings[0] and "recomputing it" in warnings[0]

    rewritten = {path: path.read_bytes() for path in entries}
    FeatureStore(settings, tmp_path / "cache").features(clips)  # the recomputed entries are whole again
    assert {path: path.read_bytes() for path in entries} == rewritten
    assert "damaged" not in capsys.readouterr().err


def test_a_damaged_stage_output_is_reported_once_and_the_stage_redone(tmp_path, capsys):
    folder = tmp_path / "stages" / "subset" / "k"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text('{"id": "a"}\n' * 50)
    (folder / "val.jsonl").write_text('{"id": "b"}\n')
    mark_done(folder, {"kind": "subset", "size": 4})
    assert is_done(folder, 4)
    record = json.loads((folder / "done.json").read_text())
    assert set(record["outputs"]) == {"train.jsonl", "val.jsonl"}

    flip_a_bit(folder / "train.jsonl")
    capsys.readouterr()
    assert not is_done(folder, 4) and not is_done(folder, 4)
    warnings = capsys.readouterr().err.splitlines()
    assert warnings == [f"warning: {folder}: train.jsonl changed after the stage finished (truncated, corrupted or "
                        f"deleted); the stage is recomputed"]
    discard_damaged(folder)  # what the runner does before it reruns the stage
    assert not (folder / "train.jsonl").exists() and (folder / "val.jsonl").exists()
    assert not (folder / "done.json").exists()


def test_a_study_redoes_exactly_the_damaged_clips(tmp_path, capsys):
    from synthaudio.study.runner import run_study
    from synthaudio.study.schema import load_study
    from tests.fixtures.generation import wav_digests
    from tests.study.test_plan_errors import study
    from tests.study.test_plan_errors import tone_manifest as study_tones

    data = study_tones(tmp_path, "d", {"val": 1, "test": 1})
    path = study(tmp_path, {"zs": {"kind": "zero_shot", "dataset": "d", "generators": ["g"], "prompts": ["label"],
                                   "clips_per_class": 2}},
                 datasets={"d": {"manifest": str(data), "domain": "sound"}})
    out = tmp_path / "out"
    first = run_study(load_study(path), out)
    pool = next(stage for stage in first.plan.stages.values() if stage.kind == "pool")
    clips = pool.folder / "clips"
    before = wav_digests(clips)
    results = (out / "report" / "results.json").read_text()
    damaged = sorted(clips.rglob("*.wav"))[0]
    flip_a_bit(damaged, position=100)
    capsys.readouterr()

    second = run_study(load_study(path), out)
    assert "pool" in {second.plan.stages[key].kind for key in second.ran}
    assert wav_digests(clips) == before  # the damaged clip was made again, byte-identical
    warnings = [line for line in capsys.readouterr().err.splitlines() if "changed after the stage finished" in line]
    assert len(warnings) == 1 and damaged.relative_to(pool.folder).as_posix() in warnings[0]
    assert (out / "report" / "results.json").read_text() == results
