import json
from collections import Counter

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from synthaudio.errors import CheckpointError, ConfigError, DatasetError
from synthaudio.features import FeatureSettings
from synthaudio.manifest import read_manifest, write_manifest
from synthaudio.recognition.data import (
    ClipDataset,
    FeatureStore,
    NoiseAugmentation,
    NoiseBank,
    epoch_order,
    read_split,
    source_weights_per_clip,
)
from synthaudio.recognition.evaluation import evaluate_run
from synthaudio.recognition.runs import PAPER_PROTOCOL
from synthaudio.recognition.training import class_weights, train_run


def read_history(run_dir):
    return [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]


def test_cnn_learns_the_tones_and_writes_a_complete_run(trained_run, tones):
    run_dir = trained_run.run_dir
    for name in ("config.json", "data.json", "model.safetensors", "model_last.safetensors", "history.jsonl",
                 "metrics.json"):
        assert (run_dir / name).is_file(), name
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["protocol"] == "validation" and metrics["selected_on"] == "val"
    assert metrics["val"]["accuracy"] >= 0.9 and metrics["val"]["num_clips"] == 12
    assert "test" not in metrics
    config = json.loads((run_dir / "config.json").read_text())
    assert config["labels"] == ["high", "low", "mid"]
    assert config["train_manifests"][0]["sha256"] and config["val_manifest"]["path"] == str(tones.resolve())
    assert config["features"]["norm_mean"] == -6.6268077 and config["features"]["target_frames"] == 50
    assert config["settings"]["seed"] == config["seed"] == 0
    assert "torch" in config["versions"] and "transformers" in config["versions"]
    assert config["num_clips"] == {"train": 30, "val": 12, "test": 0}
    history = read_history(run_dir)
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert all({"train_loss", "val", "lr", "seconds"} <= set(row) for row in history)
    # the selected epoch is the first with the best validation accuracy, and its weights are model.safetensors
    accuracies = [row["val"]["accuracy"] for row in history]
    assert metrics["best_epoch"] == 1 + accuracies.index(max(accuracies))
    again = evaluate_run(run_dir, tones, split="val", write=False)["metrics"]
    assert again["accuracy"] == metrics["val"]["accuracy"]
    assert again["confusion_matrix"] == metrics["val"]["confusion_matrix"]


@pytest.mark.parametrize("deterministic", [False, True])
def test_same_seed_same_run_different_seed_different_weights(deterministic, tones, cache_dir, tmp_path, settings):
    if torch.cuda.is_available() and not deterministic:
        pytest.skip("GPU kernels are only deterministic with deterministic=True")
    runs = [train_run(settings(epochs=2, deterministic=deterministic), [tones], tones, tmp_path / name,
                      cache_dir=cache_dir) for name in ("a", "b")]
    assert (tmp_path / "a" / "metrics.json").read_text() == (tmp_path / "b" / "metrics.json").read_text()
    first, second = (load_file(str(run.run_dir / "model_last.safetensors")) for run in runs)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[key], second[key]) for key in first)
    other = train_run(settings(epochs=2, seed=1, deterministic=deterministic), [tones], tones, tmp_path / "c",
                      cache_dir=cache_dir)
    third = load_file(str(other.run_dir / "model_last.safetensors"))
    assert not all(torch.equal(first[key], third[key]) for key in first)


def test_paper_protocol_selects_on_test_and_says_so_everywhere(tones, cache_dir, tmp_path, settings):
    result = train_run(settings(protocol="paper", epochs=3), [tones], None, tmp_path / "paper", test_manifest=tones,
                       cache_dir=cache_dir)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    config = json.loads((result.run_dir / "config.json").read_text())
    assert metrics["protocol"] == config["protocol"] == PAPER_PROTOCOL
    assert "optimistic" in PAPER_PROTOCOL and metrics["selected_on"] == "test"
    test_accuracies = [row["test"]["accuracy"] for row in read_history(result.run_dir)]
    assert metrics["test"]["accuracy"] == max(test_accuracies)
    evaluation = evaluate_run(result.run_dir, tones)
    assert evaluation["protocol"] == PAPER_PROTOCOL and "optimistic" in evaluation["warning"]
    assert json.loads(open(evaluation["file"]).read())["protocol"] == PAPER_PROTOCOL


def test_validation_protocol_needs_validation_data_and_paper_needs_test(tones, tmp_path, settings):
    with pytest.raises(ConfigError, match="needs a validation manifest"):
        train_run(settings(), [tones], None, tmp_path / "x")
    with pytest.raises(ConfigError, match="--protocol paper selects on the test set: pass it with --test"):
        train_run(settings(protocol="paper"), [tones], tones, tmp_path / "y")


def test_mixed_real_and_synthetic_training_with_source_weights(tones, synthetic_tones, cache_dir, tmp_path, settings):
    result = train_run(settings(epochs=1, source_weights={"synthetic": 0.5, "real": 0.5}), [tones, synthetic_tones],
                       tones, tmp_path / "mixed", cache_dir=cache_dir)
    config = json.loads((result.run_dir / "config.json").read_text())
    assert config["train_sources"] == {"real": 30, "synthetic": 18}
    assert len(config["train_manifests"]) == 2


def test_source_weights_balance_the_draws(tones, synthetic_tones):
    clips = read_split(tones, "train", "training") + read_split(synthetic_tones, "train", "training")[:3]
    weights = source_weights_per_clip(clips, {"synthetic": 0.5, "real": 0.5})
    draws = [clips[i].source for epoch in range(20) for i in epoch_order(len(clips), 0, epoch, weights)]
    share = Counter(draws)["synthetic"] / len(draws)
    assert 0.4 < share < 0.6  # 3 of 33 clips, drawn half the time
    assert epoch_order(len(clips), 0, 3, weights) == epoch_order(len(clips), 0, 3, weights)
    assert epoch_order(len(clips), 0, 3) != epoch_order(len(clips), 0, 4)
    with pytest.raises(ConfigError, match="also has source"):
        source_weights_per_clip(clips, {"real": 1.0})
    with pytest.raises(ConfigError, match="no such clips"):
        source_weights_per_clip(clips[:5], {"real": 0.5, "synthetic": 0.5})


def test_class_weights_are_the_studys_inverse_frequencies(tones):
    clips = read_split(tones, "train", "training")
    clips = [c for c in clips if c.label != "mid"] + [c for c in clips if c.label == "mid"][:3]  # unbalanced
    counts = Counter(c.label for c in clips)
    weights = class_weights(clips, ["high", "low", "mid"])
    assert weights[2] > weights[0] == weights[1]
    expected = torch.tensor([len(clips) / counts[label] for label in ("high", "low", "mid")])
    torch.testing.assert_close(weights, expected / expected.sum())


def test_noise_augmentation_is_seeded_per_epoch_and_clip(tones, noise_manifest, cache_dir):
    store = FeatureStore(FeatureSettings(target_frames=50, spec_augment=False), cache_dir)
    clips = read_split(tones, "train", "training")[:3]
    bank = NoiseBank(read_manifest(noise_manifest), store, str(noise_manifest))
    augmentation = NoiseAugmentation(manifest=str(noise_manifest), snr_db=(3, 30), p=1.0)

    def item(epoch, seed=0, p=1.0):
        dataset = ClipDataset(clips, {"high": 0, "low": 1, "mid": 2}, store, seed=seed, train=True, noise=bank,
                              augmentation=augmentation.model_copy(update={"p": p}))
        dataset.epoch = epoch
        return dataset[1][0].numpy()

    clean = ClipDataset(clips, {"high": 0, "low": 1, "mid": 2}, store, train=False)[1][0].numpy()
    np.testing.assert_array_equal(item(1), item(1))
    assert not np.array_equal(item(1), item(2))
    assert not np.array_equal(item(1), item(1, seed=5))
    assert not np.array_equal(item(1), clean)
    np.testing.assert_array_equal(item(1, p=0.0), clean)


def test_training_with_noise_augmentation_records_it(tones, noise_manifest, cache_dir, tmp_path, settings):
    augmentation = NoiseAugmentation(manifest=str(noise_manifest), snr_db=(3, 30), p=1.0)
    result = train_run(settings(epochs=1, augment_noise=augmentation), [tones], tones, tmp_path / "noisy",
                       cache_dir=cache_dir)
    config = json.loads((result.run_dir / "config.json").read_text())
    assert config["settings"]["augment_noise"]["snr_db"] == [3.0, 30.0]


def test_normalisation_from_training_data(tones, cache_dir, tmp_path, settings):
    result = train_run(settings(epochs=1, features={"target_frames": 50, "normalisation": "train"}), [tones], tones,
                       tmp_path / "stats", cache_dir=cache_dir)
    features = json.loads((result.run_dir / "config.json").read_text())["features"]
    assert features["normalisation"] == "train" and features["norm_mean"] != -6.6268077
    store = FeatureStore(FeatureSettings(target_frames=50), cache_dir)
    values = np.stack([v for v, _ in store.features(read_split(tones, "train", "training"))])
    assert features["norm_mean"] == pytest.approx(values.mean(), rel=1e-5)
    assert features["norm_std"] == pytest.approx(values.std(), rel=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("model, options", [
    ("ast", {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 48}),
    ("whisper", {"d_model": 32, "encoder_layers": 1, "encoder_attention_heads": 2, "encoder_ffn_dim": 48,
                 "max_source_positions": 50, "head_size": 16}),
])
def test_transformer_models_train_and_reload(model, options, tones, cache_dir, tmp_path, settings):
    result = train_run(settings(model=model, model_options=options, epochs=1), [tones], tones, tmp_path / model,
                       cache_dir=cache_dir)
    evaluation = evaluate_run(result.run_dir, tones)
    assert evaluation["metrics"]["num_clips"] == 12
    config = json.loads((result.run_dir / "config.json").read_text())
    assert config["model"]["name"] == model and "config" in config["model"]["spec"]
    if model == "whisper":
        assert config["features"]["kind"] == "whisper_logmel" and config["features"]["target_frames"] == 100


# ---------------------------------------------------------------- bad inputs


def test_empty_split_names_manifest_and_split(tones, synthetic_tones, tmp_path, settings):
    with pytest.raises(DatasetError, match=rf"{synthetic_tones}: no rows with split 'val' for the validation data "
                                           r"\(the manifest has train: 18\)"):
        train_run(settings(), [tones], synthetic_tones, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_training_file_in_validation_data_is_refused(tones, tmp_path, settings):
    train_clip = read_split(tones, "train", "training")[0]
    leaky = tmp_path / "leaky_val.jsonl"
    write_manifest(leaky, [train_clip.model_copy(update={"id": "copy", "split": "val"})])
    with pytest.raises(DatasetError, match=rf"{train_clip.path} \(clip 'copy' of .*leaky_val.jsonl\) is in the "
                                           r"training data .* and the validation data"):
        train_run(settings(), [tones], leaky, tmp_path / "run")


def test_training_file_in_test_data_is_refused_even_as_a_copy(trained_run, tones, tmp_path):
    with pytest.raises(DatasetError, match="is in the training data .* and the test data"):
        evaluate_run(trained_run.run_dir, tones, split="train")
    train_clip = read_split(tones, "train", "training")[4]
    copy = tmp_path / "renamed.wav"
    copy.write_bytes(open(train_clip.path, "rb").read())
    sneaky = tmp_path / "test.jsonl"
    write_manifest(sneaky, [train_clip.model_copy(update={"id": "fresh", "path": str(copy), "split": "test"})])
    with pytest.raises(DatasetError, match=rf"{copy} .* has the same audio content as {train_clip.path} in the "
                                           r"training data"):
        evaluate_run(trained_run.run_dir, sneaky)


def test_unknown_test_labels_are_named(trained_run, tones, tmp_path):
    clip = read_split(tones, "test", "test")[0]
    other = tmp_path / "other.jsonl"
    write_manifest(other, [clip.model_copy(update={"label": "whistle"}),
                           clip.model_copy(update={"id": "b", "label": "siren"})])
    with pytest.raises(DatasetError, match=r"label\(s\) 'siren', 'whistle' unknown to the model \(it knows 3: "
                                           r"high, low, mid\)"):
        evaluate_run(trained_run.run_dir, other)


def test_not_a_run_folder(tmp_path, tones):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(CheckpointError, match=r"half: not a finished synthaudio run \(missing data.json, "
                                              r"model.safetensors, metrics.json\)"):
        evaluate_run(tmp_path / "half", tones)
    with pytest.raises(CheckpointError, match="no such run folder"):
        evaluate_run(tmp_path / "absent", tones)


def test_unknown_model_name(tones, tmp_path, settings):
    with pytest.raises(ConfigError, match="unknown model 'resnet'"):
        train_run(settings(model="resnet"), [tones], tones, tmp_path / "run")


def test_existing_run_is_not_overwritten_by_accident(trained_run, tones, settings):
    with pytest.raises(ConfigError, match="already holds a run .* pass --overwrite"):
        train_run(settings(), [tones], tones, trained_run.run_dir)
