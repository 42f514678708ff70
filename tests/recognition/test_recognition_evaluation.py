import json
from pathlib import Path

import numpy as np
import pytest

from synthaudio.audio import measured_snr_db
from synthaudio.errors import DatasetError
from synthaudio.features import FeatureSettings
from synthaudio.manifest import read_manifest
from synthaudio.recognition.data import FeatureStore, NoiseBank, read_split
from synthaudio.recognition.evaluation import FixedSnrNoise, evaluate_run, score_clips
from synthaudio.recognition.metrics import classification_metrics


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 5.0, 20.0])
def test_every_mixture_has_the_requested_snr(tones, noise_manifest, cache_dir, snr_db):
    store = FeatureStore(FeatureSettings(target_frames=50), cache_dir)
    noise = FixedSnrNoise(NoiseBank(read_manifest(noise_manifest), store, str(noise_manifest)), snr_db, seed=3)
    for clip in read_split(tones, "test", "test"):
        signal = store.waveform(clip)
        mixture = noise.apply(clip, signal)
        assert abs(measured_snr_db(signal, mixture.astype(np.float64) - signal) - snr_db) < 0.1
        np.testing.assert_array_equal(mixture, noise.apply(clip, signal))  # seeded per (seed, clip)
    assert len(noise.measured) == 24


def test_noisy_evaluation_is_seeded_and_written_beside_the_clean_one(trained_run, tones, noise_manifest, cache_dir):
    clean = evaluate_run(trained_run.run_dir, tones, cache_dir=cache_dir)
    noisy = evaluate_run(trained_run.run_dir, tones, noise_manifest=noise_manifest, snr_db=0.0, seed=1,
                         cache_dir=cache_dir)
    again = evaluate_run(trained_run.run_dir, tones, noise_manifest=noise_manifest, snr_db=0.0, seed=1,
                         cache_dir=cache_dir, write=False)
    assert noisy["metrics"] == again["metrics"]
    other_seed = evaluate_run(trained_run.run_dir, tones, noise_manifest=noise_manifest, snr_db=0.0, seed=2,
                              cache_dir=cache_dir)
    files = sorted(p.name for p in (trained_run.run_dir / "eval").iterdir())
    assert {"manifest.json", "manifest_noise-noise_snr0_seed1.json", "manifest_noise-noise_snr0_seed2.json"} \
        <= set(files)
    assert clean["file"] != noisy["file"] != other_seed["file"]
    measured = noisy["noise"]["measured_snr_db"]
    assert -0.1 < measured["min"] <= measured["max"] < 0.1
    stored = json.loads(open(noisy["file"]).read())
    assert stored["noise"]["snr_db"] == 0.0 and stored["noise"]["seed"] == 1 and stored["metrics"] == noisy["metrics"]
    assert clean["noise"] is None and clean["metrics"]["accuracy"] >= 0.9


def test_noise_needs_manifest_and_snr_together(trained_run, tones, noise_manifest):
    with pytest.raises(DatasetError, match="needs both a noise manifest and an SNR"):
        evaluate_run(trained_run.run_dir, tones, noise_manifest=noise_manifest)


def test_score_clips_gives_each_clips_probability_of_its_label(trained_run, tones, synthetic_tones, cache_dir):
    scores = score_clips(trained_run.run_dir, synthetic_tones, cache_dir=cache_dir)
    clips = read_manifest(synthetic_tones)
    assert [s.clip_id for s in scores] == [c.id for c in clips]
    assert all(0.0 <= s.probability <= 1.0 and s.predicted in ("high", "low", "mid") for s in scores)
    correct = [s for s in scores if s.predicted == s.label]
    assert len(correct) >= 0.8 * len(scores)  # same tones: the real-data model recognises them
    assert all(s.probability > 1 / 3 for s in correct)


def test_metrics_of_a_known_confusion():
    labels = ["a", "b", "c", "d", "e", "f"]
    targets = [0, 0, 1, 1, 2, 3]
    predicted = [0, 1, 1, 1, 2, 0]
    probabilities = 0.1 + 0.01 * np.arange(6, 0, -1)[None, :] + np.eye(6)[predicted] * 0.4  # no ties
    probabilities[5, 3] = 0.01  # the last clip's true class ranks last: outside the top 5
    metrics = classification_metrics(targets, probabilities, labels)
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["uar"] == pytest.approx((0.5 + 1 + 1 + 0) / 4)  # over the classes present
    assert metrics["macro_f1"] == pytest.approx((0.5 + 0.8 + 1 + 0) / 4)
    assert metrics["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert metrics["per_class"]["e"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert metrics["confusion_matrix"][0] == [1, 1, 0, 0, 0, 0]
    assert metrics["top5_accuracy"] == pytest.approx(5 / 6)
    assert classification_metrics([0, 1], np.eye(2), ["x", "y"])["top5_accuracy"] is None


def test_evaluation_keeps_every_test_clips_prediction_with_its_group(trained_run, tones, cache_dir, tmp_path):
    from synthaudio.manifest import write_manifest
    from synthaudio.report.statistics import evaluation_from_records, intervals

    clips = read_manifest(tones)
    grouped = tmp_path / "grouped.jsonl"
    write_manifest(grouped, [clip.model_copy(update={"group": f"speaker{index % 3}"}) if clip.split == "test"
                             else clip for index, clip in enumerate(clips)])
    result = evaluate_run(trained_run.run_dir, grouped, cache_dir=cache_dir)
    stored = json.loads(open(result["file"]).read())
    test = [clip for clip in read_manifest(grouped) if clip.split == "test"]
    rows = stored["predictions"]
    assert [(row["id"], row["group"], row["label"]) for row in rows] == [(c.id, c.group, c.label) for c in test]
    assert np.mean([row["predicted"] == row["label"] for row in rows]) == stored["metrics"]["accuracy"]
    for row in rows:  # few classes: every class's probability, most probable first
        assert list(row["probabilities"])[0] == row["predicted"]
        assert set(row["probabilities"]) == set(stored["labels"])
        assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert stored["train_seed"] == json.loads((trained_run.run_dir / "config.json").read_text())["seed"]
    found = intervals(evaluation_from_records([stored], "cnn"), resamples=300)
    for metric in ("accuracy", "uar", "macro_f1"):
        assert found[metric].estimate == pytest.approx(stored["metrics"][metric])
        assert found[metric].n_groups == 3 and found[metric].n_clips == len(test)


def test_many_classes_keep_the_top_five_probabilities():
    import torch

    from synthaudio.manifest import Clip
    from synthaudio.recognition.evaluation import clip_predictions

    labels = [f"class{i}" for i in range(12)]
    logits = torch.arange(24, dtype=torch.float32).reshape(2, 12) % 7
    clips = [Clip(id=f"c{i}", path=f"/x/{i}.wav", label="class0", split="test", fold=None, source="real",
                  duration=1.0, sample_rate=16000) for i in range(2)]
    rows = clip_predictions(clips, logits, labels)
    for row, values in zip(rows, logits, strict=True):
        assert len(row["probabilities"]) == 5 and row["group"] is None
        assert row["predicted"] == labels[int(values.argmax())] == next(iter(row["probabilities"]))
        assert list(row["probabilities"].values()) == sorted(row["probabilities"].values(), reverse=True)


def test_the_study_evaluate_stage_keeps_the_predictions(trained_run, tones, cache_dir, tmp_path):
    from synthaudio.study.plan import Data, StageRef
    from synthaudio.study.recognition import EVALUATION, RUN_FOLDER, EvaluateStage
    from synthaudio.study.stages import StageRun

    training = tmp_path / "train"  # a training stage's folder holds its run folder
    training.mkdir()
    (training / RUN_FOLDER).symlink_to(Path(trained_run.run_dir))
    spec = EvaluateStage(StageRef("k" * 64, training), Data(Path(tones), "t"), "test", None, None, None, 0,
                         Path(cache_dir))
    spec.run(StageRun(tmp_path, tmp_path, None, "evaluate"))
    stored = json.loads((tmp_path / EVALUATION).read_text())
    test = [clip.id for clip in read_manifest(tones) if clip.split == "test"]
    assert [row["id"] for row in stored["predictions"]] == test and stored["metrics"]["num_clips"] == len(test)
