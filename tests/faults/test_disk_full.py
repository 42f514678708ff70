"""A full disk (played by a file size limit, as `ulimit -f` sets it) during generation, feature caching, training
and the report: one line naming the file, no partial file, and the same command after space is freed finishes with
exactly the results of a run that never failed."""

import json

import numpy as np
import pytest

from synthaudio.features import FeatureSettings
from synthaudio.fsutil import StorageError
from synthaudio.manifest import read_manifest
from synthaudio.recognition.data import FeatureStore
from synthaudio.recognition.training import TrainSettings, train_run
from synthaudio.report import StudyResults, write_report
from tests.faults.fault_helpers import (
    file_size_limit,
    limited_child,
    remount,
    requires_file_size_limit,
    run_main,
    tmpfs,
    tree,
)
from tests.fixtures.generation import (
    cli_command,
    generate_clips,
    label_prompts,
    make_prompt_file,
    manifest_rows,
    wav_digests,
)
from tests.recognition.conftest import tone_manifest
from tests.study.test_report_tables import row

TINY = {"generator": "audioldm2", "checkpoint": "tiny-random", "duration": 0.5, "batch_size": 2,
        "settings": {"steps": 2}, "progress": False}
TOO_LARGE = "cannot write (File too large); free some space (or raise the limit) and run the same command again"


def partial_files(folder):
    return [path for path in folder.rglob("*") if path.name.endswith(".tmp") or ".building" in path.name]


@requires_file_size_limit
def test_generation_on_a_full_disk(tmp_path):
    import subprocess

    prompts = make_prompt_file(tmp_path, label_prompts(["rain", "wind"], 2))
    reference = tmp_path / "reference"
    generate_clips(prompts, reference, **TINY)

    out = tmp_path / "out"
    with file_size_limit(4000), pytest.raises(StorageError) as error:  # a 0.5-s WAV is 16 kB
        generate_clips(prompts, out, **TINY)
    assert str(error.value).startswith(f"{out}/rain/rain-00000.wav: {TOO_LARGE}")
    assert not partial_files(out) and not list(out.rglob("*.wav"))
    assert not (out / "manifest.jsonl").exists() or not (out / "manifest.jsonl").read_text()

    # as a user sees it: one line, status 2
    completed = subprocess.run(cli_command("generate", "--prompts", str(prompts), "--out", str(out), "--generator",
                                           "audioldm2", "--checkpoint", "tiny-random", "--duration", "0.5",
                                           "--batch-size", "2", "--steps", "2", "--no-progress"),
                               capture_output=True, text=True, timeout=300, preexec_fn=limited_child(4000))
    assert completed.returncode == 2
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]  # not a library's warning
    assert errors == [f"error: {out}/rain/rain-00000.wav: {TOO_LARGE}: finished work is kept"]
    assert "Traceback" not in completed.stderr
    assert not partial_files(out)

    generate_clips(prompts, out, **TINY)  # space freed
    assert wav_digests(out) == wav_digests(reference) and manifest_rows(out) == manifest_rows(reference)


@requires_file_size_limit
def test_feature_caching_on_a_full_disk(tmp_path):
    clips = read_manifest(tone_manifest(tmp_path / "data", {"train": 2}))
    settings = FeatureSettings(target_frames=80)
    reference = FeatureStore(settings, tmp_path / "reference-cache").features(clips)

    cache = tmp_path / "cache"
    with file_size_limit(2000), pytest.raises(StorageError) as error:
        FeatureStore(settings, cache).features(clips)
    assert str(error.value).startswith(str(cache)) and TOO_LARGE in str(error.value)
    assert not partial_files(cache) and not [path for path in cache.rglob("*") if path.is_file()]

    again = FeatureStore(settings, cache).features(clips)
    for (values, valid), (expected, expected_valid) in zip(again, reference, strict=True):
        np.testing.assert_array_equal(values, expected)
        assert valid == expected_valid


@requires_file_size_limit
def test_training_on_a_full_disk(tmp_path):
    tones = tone_manifest(tmp_path / "tones", {"train": 3, "val": 2})
    settings = TrainSettings(epochs=2, batch_size=4, lr=3e-3, features={"target_frames": 50})
    cache = tmp_path / "cache"
    reference = train_run(settings, [tones], tones, tmp_path / "reference", cache_dir=cache)

    out = tmp_path / "run"
    with file_size_limit(30000), pytest.raises(StorageError) as error:  # the json files fit, the weights do not
        train_run(settings, [tones], tones, out, cache_dir=cache)
    assert str(error.value).startswith(f"{out}/model") and ".safetensors: " in str(error.value)
    assert TOO_LARGE in str(error.value)
    assert not partial_files(out) and not (out / "metrics.json").exists()

    result = train_run(settings, [tones], tones, out, cache_dir=cache)  # the same command: no --overwrite needed
    assert result.metrics == reference.metrics
    assert (out / "model.safetensors").read_bytes() == (tmp_path / "reference" / "model.safetensors").read_bytes()


@requires_file_size_limit
def test_the_report_on_a_full_disk(tmp_path):
    datasets = [{"dataset": "d", "classes": 2, "test_clips": 10, "train_clips": 5, "val_clips": 2, "chance": 0.5,
                 "majority": 0.5, "test_label_counts": {"a": 5, "b": 5}}]
    results = StudyResults(study="s", protocol="validation", seeds=[0, 1], datasets=datasets,
                           rows=[row(0, 0.5), row(1, 0.6)])
    write_report(results, tmp_path / "reference")
    report = tmp_path / "out" / "report"
    write_report(StudyResults(study="s", protocol="validation", seeds=[0], datasets=datasets,
                                  rows=[row(0, 0.5)]), report)
    earlier = tree(report)

    with file_size_limit(1500), pytest.raises(StorageError) as error:
        write_report(results, report)
    assert TOO_LARGE in str(error.value) and str(tmp_path / "out") in str(error.value)
    assert tree(report) == earlier  # the earlier report stays whole until the new one is complete
    assert not partial_files(tmp_path / "out")

    write_report(results, report)
    assert tree(report) == tree(tmp_path / "reference")
    assert json.loads((report / "results.json").read_text())["seeds"] == [0, 1]


def test_generation_on_a_really_full_disk(tmp_path):
    prompts = make_prompt_file(tmp_path, label_prompts(["rain", "wind"], 2))
    reference = tmp_path / "reference"
    generate_clips(prompts, reference, **TINY)
    with tmpfs(tmp_path / "disk", "size=40k") as disk:  # room for two 16-kB clips, not four
        out = disk / "synth"
        code, _, err = run_main("generate", "--prompts", str(prompts), "--out", str(out), "--generator", "audioldm2",
                                "--checkpoint", "tiny-random", "--duration", "0.5", "--batch-size", "2", "--steps",
                                "2", "--no-progress")
        assert code == 2
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and errors[0].startswith(f"error: {out}/") and "No space left on device" in errors[0]
        assert not partial_files(out)
        assert all(row["id"] in {"rain-00000", "rain-00001", "wind-00000"} for row in manifest_rows(out))
        remount(disk, "size=1m")  # space freed
        code, _, err = run_main("generate", "--prompts", str(prompts), "--out", str(out), "--generator", "audioldm2",
                                "--checkpoint", "tiny-random", "--duration", "0.5", "--batch-size", "2", "--steps",
                                "2", "--no-progress")
        assert code == 0, err
        assert wav_digests(out) == wav_digests(reference) and manifest_rows(out) == manifest_rows(reference)
