"""Every remaining bad-input path of the recognition stage: one clear message naming what is wrong."""

import numpy as np
import pytest
import soundfile
import torch
from pydantic import ValidationError
from typer.testing import CliRunner

from synthaudio.cli import app
from synthaudio.errors import AudioError, CheckpointError, ConfigError, DatasetError
from synthaudio.features import FeatureSettings, WhisperLogMelExtractor, kaldi_fbank, mel_banks
from synthaudio.manifest import read_manifest, write_manifest
from synthaudio.models import build_model
from synthaudio.recognition.data import (
    ClipDataset,
    FeatureStore,
    NoiseAugmentation,
    NoiseBank,
    read_split,
    source_weights_per_clip,
)
from synthaudio.recognition.evaluation import FixedSnrNoise, evaluate_run
from synthaudio.recognition.training import train_run


def silent_clip(template, folder, seconds=0.5, name="silent"):
    path = folder / f"{name}.wav"
    soundfile.write(str(path), np.zeros(int(16000 * seconds), dtype=np.float32), 16000)
    return template.model_copy(update={"id": name, "path": str(path), "duration": seconds})


def test_training_data_with_one_label(tones, tmp_path, settings):
    one = tmp_path / "one.jsonl"
    write_manifest(one, [c for c in read_manifest(tones) if c.label == "low"])
    with pytest.raises(DatasetError, match=r"single label \('low'\); a classifier needs at least two"):
        train_run(settings(), [one], one, tmp_path / "run")


def test_validation_labels_unknown_to_the_training_data(tones, tmp_path, settings):
    train_only = tmp_path / "two.jsonl"
    write_manifest(train_only, [c for c in read_manifest(tones) if c.label != "high" or c.split != "train"])
    with pytest.raises(DatasetError, match=r"two.jsonl \(split 'val'\): label\(s\) 'high' unknown to the model"):
        train_run(settings(), [train_only], train_only, tmp_path / "run")


def test_source_weights_must_be_positive(tones):
    clips = read_split(tones, "train", "training")
    with pytest.raises(ConfigError, match="must be >= 0 with a positive total"):
        source_weights_per_clip(clips, {"real": 0.0})
    with pytest.raises(ValidationError, match="low <= high"):
        NoiseAugmentation(manifest="noise.jsonl", snr_db=(30, 3))


def test_silent_noise_and_silent_test_clips_are_named(tones, cache_dir, tmp_path):
    store = FeatureStore(FeatureSettings(target_frames=50), cache_dir)
    clip = read_split(tones, "test", "test")[0]
    silence = silent_clip(clip, tmp_path)
    bank = NoiseBank([silence], store, "noise.jsonl")
    with pytest.raises(DatasetError, match="noise.jsonl: noise clip 'silent' .* is silent; remove it"):
        bank.mix(store.waveform(clip), 10.0, np.random.default_rng(0))
    noise = FixedSnrNoise(bank, 10.0, seed=0)
    with pytest.raises(DatasetError, match="test clip 'silent' is silent, so no SNR can be set"):
        noise.apply(silence, store.waveform(silence))
    with pytest.raises(DatasetError, match="no noise clips"):
        NoiseBank([], store, "empty.jsonl")


def test_silent_training_clip_is_left_clean_by_noise_augmentation(tones, noise_manifest, cache_dir, tmp_path):
    store = FeatureStore(FeatureSettings(target_frames=50), cache_dir)
    silence = silent_clip(read_split(tones, "train", "training")[0], tmp_path)
    augmentation = NoiseAugmentation(manifest=str(noise_manifest))
    dataset = ClipDataset([silence], {"low": 0}, store, train=True,
                          noise=NoiseBank(read_manifest(noise_manifest), store, str(noise_manifest)),
                          augmentation=augmentation)
    dataset[0]
    assert dataset.silent_skipped == 1  # counted and recorded in history.jsonl, as audiomentations skips them
    with pytest.raises(ConfigError, match="needs both a noise bank and its settings"):
        ClipDataset([silence], {"low": 0}, store, train=True, augmentation=augmentation)


def test_clip_shorter_than_one_frame(tones, tmp_path):
    clip = read_split(tones, "train", "training")[0]
    path = tmp_path / "tiny.wav"
    soundfile.write(str(path), np.ones(200, dtype=np.float32) * 0.1, 16000)
    tiny = clip.model_copy(update={"path": str(path), "duration": 200 / 16000})
    with pytest.raises(AudioError, match=r"tiny.wav: clip '.*' is shorter than one 25 ms analysis frame"):
        FeatureStore(FeatureSettings(), tmp_path / "cache").features([tiny])


def test_damaged_run_files(trained_run, tones, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained_run.run_dir, copy)
    (copy / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="model.safetensors: cannot read the weights"):
        evaluate_run(copy, tones)
    (copy / "config.json").write_text('{"labels": ["a"]}')
    with pytest.raises(CheckpointError, match="config.json: not a valid run configuration"):
        evaluate_run(copy, tones)


def test_feature_settings_that_cannot_work():
    with pytest.raises(ConfigError, match="mel range low_freq=9000.0"):
        mel_banks(64, 512, 16000.0, 9000.0, 0.0)
    with pytest.raises(ConfigError, match="frame length 0.05 ms"):
        kaldi_fbank(torch.zeros(1000), FeatureSettings(frame_length_ms=0.05))
    with pytest.raises(ConfigError, match="whole number of seconds"):
        WhisperLogMelExtractor(FeatureSettings(kind="whisper_logmel", num_mel_bins=80, target_frames=150))


def test_model_options_that_cannot_work(tmp_path):
    with pytest.raises(ConfigError, match="smaller than one 16 x 16 patch"):
        build_model("ast", 3, FeatureSettings(target_frames=10), hidden_size=32, num_attention_heads=2)
    with pytest.raises(ConfigError, match="hidden_size 48 is not divisible into 5 attention heads"):
        build_model("ast", 3, FeatureSettings(target_frames=50), hidden_size=48, num_attention_heads=5)
    with pytest.raises(ConfigError, match="model 'cnn': option 'dropout'"):
        build_model("cnn", 3, dropout=2.0)
    with pytest.raises(ConfigError, match="needs at least 2 classes"):
        build_model("cnn", 1)
    with pytest.raises(ConfigError, match="reads Kaldi fbank features"):
        build_model("ast", 3, FeatureSettings(kind="whisper_logmel", num_mel_bins=80, target_frames=100))


def test_ssast_checkpoint_without_distillation_token(tmp_path, ssast_state_dict):
    state = ssast_state_dict()
    del state["module.v.dist_token"]
    torch.save(state, tmp_path / "nokd.pth")
    with pytest.raises(CheckpointError, match="without a distillation token"):
        build_model("ast", 3, FeatureSettings(), checkpoint=str(tmp_path / "nokd.pth"))
    state = ssast_state_dict()
    state["module.v.extra.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "odd.pth")
    with pytest.raises(CheckpointError, match=r"unexpected SSAST keys \['v.extra.weight'\]"):
        build_model("ast", 3, FeatureSettings(), checkpoint=str(tmp_path / "odd.pth"))


@pytest.mark.parametrize("arguments, message", [
    (["--source-weights", "synthetic:0.5"], "--source-weights: expected name=number pairs"),
    (["--augment-noise", "n.jsonl", "--augment-snr-db", "loud"], "--augment-snr-db: expected LOW:HIGH"),
    (["--model-option", "checkpoint"], "--model-option 'checkpoint': expected KEY=VALUE, e.g. --model-option "
                                       "checkpoint=PATH"),
    (["--model-option", "dropout=0.1", "--model-option", "dropout=0.2"],
     "--model-option dropout is given twice; give it once"),
    (["--protocol", "sloppy"], "--protocol: Input should be 'validation' or 'paper'"),
    (["--epochs", "0"], "--epochs: Input should be greater than or equal to 1"),
])
def test_cli_options_are_checked(arguments, message, tones, tmp_path):
    result = CliRunner().invoke(app, ["train", "--train", str(tones), "--val", str(tones), "--out",
                                      str(tmp_path / "run"), *arguments])
    assert isinstance(result.exception, ConfigError)
    assert message in str(result.exception)
