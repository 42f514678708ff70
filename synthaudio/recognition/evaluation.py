"""Evaluate a run on test rows (clean, or with noise mixed in at a fixed SNR), and score clips one by one.

Test-time noise: for each test clip a noise clip, its excerpt and (no) polarity flip are drawn from a generator
seeded by (seed, clip), and mixed so that the clip-to-noise power ratio over the whole clip is exactly the
requested SNR (`synthaudio.audio.mix_at_snr`). The measured range of the mixtures' SNRs is written with the
result.

Beside the metrics, a result keeps every test clip's prediction ("predictions": one row per clip, in manifest
order: id, group (None: the clip is its own group), true label, predicted label and the class probabilities: all
of them up to `PREDICTION_ALL_CLASSES` classes, else the `PREDICTION_TOP_K` most probable), so intervals and
paired tests (synthaudio.report.statistics) can be computed later without running the model again.
"""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from synthaudio.audio import measured_snr_db, power
from synthaudio.errors import DatasetError
from synthaudio.features import FeatureSettings, prepare_input
from synthaudio.fsutil import file_sha256
from synthaudio.manifest import Clip
from synthaudio.naming import child_path
from synthaudio.recognition.data import (
    FeatureStore,
    FileRecord,
    NoiseBank,
    check_disjoint,
    check_labels_known,
    clip_identity,
    file_records,
    read_split,
)
from synthaudio.recognition.metrics import classification_metrics
from synthaudio.recognition.runs import PAPER_PROTOCOL, load_run, write_json
from synthaudio.seeding import rng

PREDICTION_ALL_CLASSES = 10
PREDICTION_TOP_K = 5


class ClipScore(NamedTuple):
    clip_id: str
    label: str
    probability: float  # the model's probability of the clip's own label
    predicted: str


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class FixedSnrNoise:
    """Noise mixed into every test clip at `snr_db`, seeded per (seed, clip)."""

    def __init__(self, bank: NoiseBank, snr_db: float, seed: int):
        self.bank, self.snr_db, self.seed = bank, float(snr_db), seed
        self.measured: list[float] = []

    def apply(self, clip: Clip, signal: np.ndarray) -> np.ndarray:
        if power(signal) == 0.0:
            raise DatasetError(f"{clip.path}: test clip '{clip.id}' is silent, so no SNR can be set for it; remove "
                               f"it from the test data or evaluate without noise")
        generator = rng(self.seed, "test-noise", *clip_identity(clip))
        mixed, _ = self.bank.mix(signal, self.snr_db, generator)
        self.measured.append(measured_snr_db(signal, mixed.astype(np.float64) - signal))
        return mixed


def logits_of(model: torch.nn.Module, clips: Sequence[Clip], store: FeatureStore, settings: FeatureSettings,
              batch_size: int, device: torch.device, noise: FixedSnrNoise | None = None) -> torch.Tensor:
    """(clips, classes) logits of the model in eval mode (no SpecAugment), features from the cache unless
    noise is mixed in."""
    model.eval()
    outputs = []
    with torch.no_grad():
        for first in range(0, len(clips), batch_size):
            chunk = clips[first: first + batch_size]
            if noise is None:
                computed = store.features(chunk)
            else:
                computed = store.compute([noise.apply(c, store.waveform(c)) for c in chunk], chunk)
            inputs = torch.from_numpy(np.stack([prepare_input(values, settings, None) for values, _ in computed]))
            valid = torch.tensor([v for _, v in computed], dtype=torch.long)
            outputs.append(model(inputs.to(device), valid.to(device)).float().cpu())
    return torch.cat(outputs)


def metrics_from_logits(logits: torch.Tensor, targets: Sequence[int], labels: Sequence[str],
                        class_weights: torch.Tensor | None = None) -> dict:
    target_tensor = torch.as_tensor(list(targets), dtype=torch.long)
    loss = torch.nn.functional.cross_entropy(logits, target_tensor, weight=class_weights).item()
    return classification_metrics(target_tensor.numpy(), torch.softmax(logits, dim=1).numpy(), labels, loss)


def _eval_name(test_manifest: Path, split: str, noise_manifest: Path | None, snr_db: float | None,
               seed: int) -> str:
    name = test_manifest.name.removesuffix(".jsonl").removesuffix(".json")
    if split != "test":
        name += f"_{split}"
    if noise_manifest is not None:
        noise_name = noise_manifest.name.removesuffix(".jsonl").removesuffix(".json")
        name += f"_noise-{noise_name}_snr{snr_db:g}_seed{seed}"
    return name


def evaluate_run(run_dir: Path | str, test_manifest: Path | str, noise_manifest: Path | str | None = None,
                 snr_db: float | None = None, seed: int = 0, split: str = "test", noise_split: str | None = None,
                 cache_dir: Path | str | None = None, batch_size: int = 32, device: str = "auto",
                 write: bool = True) -> dict:
    """Metrics of the run's model on the `split` rows of `test_manifest`, optionally with noise at `snr_db`.

    Writes RUN/eval/<name>.json (see synthaudio.recognition.runs) unless `write` is False; returns the same dict (plus
    "file" when written).
    """
    if (noise_manifest is None) != (snr_db is None):
        raise DatasetError("test-time noise needs both a noise manifest and an SNR (--noise and --snr-db)")
    target = pick_device(device)
    run = load_run(run_dir, target)
    test_manifest = Path(test_manifest)
    clips = read_split(test_manifest, split, "test")
    check_labels_known(clips, run.labels, f"{test_manifest} (split '{split}')")
    check_disjoint(_training_records(run.folder), file_records(clips, str(test_manifest)), "test")
    store = FeatureStore(run.features, cache_dir, use_cache=run.config["settings"].get("feature_cache", True))
    noise = None
    if noise_manifest is not None:
        noise_clips = read_split(noise_manifest, noise_split, "noise")
        noise = FixedSnrNoise(NoiseBank(noise_clips, store, str(noise_manifest)), snr_db, seed)
    index = {label: i for i, label in enumerate(run.labels)}
    logits = logits_of(run.model, clips, store, run.features, batch_size, target, noise)
    result = {
        "run": str(run.folder),
        "protocol": run.protocol,
        "test_manifest": str(test_manifest),
        "test_manifest_sha256": file_sha256(test_manifest),
        "split": split,
        "noise": None if noise is None else {
            "manifest": str(noise_manifest), "manifest_sha256": file_sha256(noise_manifest), "split": noise_split,
            "snr_db": float(snr_db), "seed": seed,
            "measured_snr_db": {"min": min(noise.measured), "max": max(noise.measured)}},
        "labels": run.labels,
        "train_seed": run.config.get("seed"),
        "metrics": metrics_from_logits(logits, [index[c.label] for c in clips], run.labels),
        "predictions": clip_predictions(clips, logits, run.labels),
    }
    if run.protocol == PAPER_PROTOCOL:
        result["warning"] = "optimistic: this run's model was selected on the test set (paper protocol)"
    if write:
        path = child_path(run.folder / "eval", _eval_name(test_manifest, split, noise_manifest and Path(
            noise_manifest), snr_db, seed), suffix=".json")
        write_json(path, result)
        result["file"] = str(path)
    return result


def clip_predictions(clips: Sequence[Clip], logits: torch.Tensor, labels: Sequence[str],
                     top_k: int = PREDICTION_TOP_K) -> list[dict]:
    """One row per clip: id, group, label, predicted, and probabilities by label, most probable first (all classes
    up to PREDICTION_ALL_CLASSES, else the `top_k` most probable), rounded to 6 decimals."""
    probabilities = torch.softmax(logits.float(), dim=1)
    kept = len(labels) if len(labels) <= PREDICTION_ALL_CLASSES else min(top_k, len(labels))
    values, indices = probabilities.topk(kept, dim=1)
    predicted = probabilities.argmax(dim=1).tolist()
    return [{"id": clip.id, "group": clip.group, "label": clip.label, "predicted": labels[best],
             "probabilities": {labels[int(i)]: round(float(v), 6) for v, i in zip(row, order, strict=True)}}
            for clip, best, row, order in zip(clips, predicted, values.tolist(), indices.tolist(), strict=True)]


def _training_records(folder: Path) -> list[FileRecord]:
    data = json.loads((folder / "data.json").read_text(encoding="utf-8"))
    return [FileRecord(**row) for row in data["train"]]


def score_clips(run_dir: Path | str, manifest: Path | str, split: str | None = None,
                cache_dir: Path | str | None = None, batch_size: int = 32, device: str = "auto") -> list[ClipScore]:
    """Per clip of `manifest` (all rows, or one split): its id, label, the model's probability of that label and
    the predicted label; for clip-level filtering of synthetic data."""
    target = pick_device(device)
    run = load_run(run_dir, target)
    clips = read_split(manifest, split, "scored")
    check_labels_known(clips, run.labels, f"{manifest}")
    store = FeatureStore(run.features, cache_dir, use_cache=run.config["settings"].get("feature_cache", True))
    probabilities = torch.softmax(logits_of(run.model, clips, store, run.features, batch_size, target), dim=1)
    index = {label: i for i, label in enumerate(run.labels)}
    return [ClipScore(clip.id, clip.label, float(row[index[clip.label]]), run.labels[int(row.argmax())])
            for clip, row in zip(clips, probabilities, strict=True)]
