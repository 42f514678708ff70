"""Train a recognition model on any mix of real and synthetic clips, with an honest protocol.

Protocol "validation" (default): the learning-rate scheduler and the choice of the best epoch look at the
VALIDATION rows only; the test set is never seen during training. Protocol "paper" reproduces the study's code
(usc-sail/SynthAudio finetune_*.py), which steps the scheduler on the TEST loss and keeps the epoch with the
best TEST accuracy: its numbers are optimistic, and everything it writes says so.

As in the study: Adam (lr 1e-4, weight decay 1e-4, betas 0.9/0.98), cross-entropy weighted by inverse class
frequency of the training data (normalised to sum 1), ReduceLROnPlateau(patience 5, factor 0.5, min_lr 1e-5)
stepped on the selection set's weighted loss, best epoch = first epoch with the highest selection accuracy.
"""

import contextlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from synthaudio.errors import ConfigError, DatasetError
from synthaudio.features import FeatureSettings, feature_statistics
from synthaudio.fsutil import exclusive_run, file_sha256, write_text_atomic
from synthaudio.manifest import Clip
from synthaudio.models import build_model, feature_settings_for
from synthaudio.recognition.data import (
    ClipDataset,
    FeatureStore,
    FileRecord,
    NoiseAugmentation,
    NoiseBank,
    check_disjoint,
    check_labels_known,
    epoch_order,
    file_records,
    loader,
    read_split,
    source_weights_per_clip,
)
from synthaudio.recognition.evaluation import logits_of, metrics_from_logits, pick_device
from synthaudio.recognition.runs import load_weights, package_versions, protocol_label, save_weights, write_json
from synthaudio.seeding import derive_seed

Metric = Literal["accuracy", "uar", "macro_f1"]
OUTPUT_FILES = ("config.json", "data.json", "model.safetensors", "model_last.safetensors", "history.jsonl",
                "metrics.json")


class TrainSettings(BaseModel):
    """Every training setting (embeddable in a study YAML: unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(default="cnn", description="cnn (fast on CPU), ast (the study's SSAST shapes), whisper")
    model_options: dict[str, Any] = Field(default_factory=dict, description="e.g. {checkpoint: ..., sizes}")
    epochs: int = Field(default=30, ge=1)
    batch_size: int = Field(default=32, ge=1)
    lr: float = Field(default=1e-4, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    betas: tuple[float, float] = (0.9, 0.98)
    seed: int = 0
    protocol: Literal["validation", "paper"] = "validation"
    selection_metric: Metric = "accuracy"
    scheduler_metric: Literal["loss", "accuracy", "uar", "macro_f1"] = "loss"
    scheduler_patience: int = Field(default=5, ge=0)
    scheduler_factor: float = Field(default=0.5, gt=0, lt=1)
    min_lr: float = Field(default=1e-5, ge=0)
    class_weighted_loss: bool = True
    source_weights: dict[str, float] | None = Field(default=None, description="e.g. {synthetic: 0.5, real: 0.5}")
    augment_noise: NoiseAugmentation | None = None
    features: FeatureSettings = Field(default_factory=FeatureSettings)
    labels: list[str] | None = Field(default=None, description="class list; None: sorted training labels")
    train_split: str = "train"
    val_split: str = "val"
    test_split: str = "test"
    feature_cache: bool = Field(default=True, description="False: recompute features every epoch (the study)")
    feature_memory_mb: float = Field(default=1024.0, ge=0, description="features kept in memory between epochs")
    num_workers: int = Field(default=0, ge=0)
    device: str = "auto"
    deterministic: bool = Field(default=False, description="deterministic GPU kernels (slower); CPU runs already are")


@dataclass
class RunResult:
    run_dir: Path
    best_epoch: int
    labels: list[str]
    metrics: dict  # metrics.json
    history: list[dict] = field(default_factory=list)

    @property
    def seconds_per_epoch(self) -> float:
        return float(np.mean([row["seconds"] for row in self.history]))


def class_weights(clips: Sequence[Clip], labels: Sequence[str]) -> torch.Tensor:
    """The study's inverse-frequency weights: (N / n_c) normalised to sum 1; 0 for classes without clips."""
    counts = Counter(c.label for c in clips)
    inverse = torch.tensor([len(clips) / counts[label] if counts[label] else 0.0 for label in labels],
                           dtype=torch.float64)
    return (inverse / inverse.sum()).to(torch.float32)


@dataclass
class _Data:
    train: list[Clip]
    train_records: list[FileRecord]
    selection: list[Clip]
    selection_role: str  # "val" or "test"
    val: list[Clip] | None
    test: list[Clip] | None
    labels: list[str]


def _gather(settings: TrainSettings, train_manifests: Sequence[Path], val_manifest: Path | None,
            test_manifest: Path | None) -> _Data:
    if not train_manifests:
        raise ConfigError("training needs at least one training manifest (--train)")
    if settings.protocol == "validation" and val_manifest is None:
        raise ConfigError("the validation protocol needs a validation manifest (--val); the test set is never "
                          "used for training decisions")
    if settings.protocol == "paper" and test_manifest is None:
        raise ConfigError("--protocol paper selects on the test set: pass it with --test")
    train: list[Clip] = []
    records = []
    for manifest in train_manifests:
        rows = read_split(manifest, settings.train_split, "training")
        train += rows
        records += file_records(rows, str(manifest))
    labels = settings.labels or sorted({c.label for c in train})
    check_labels_known(train, labels, "training data")
    if len(labels) < 2:
        raise DatasetError(f"training data has a single label ({labels[0]!r}); a classifier needs at least two")
    val = test = None
    if val_manifest is not None:
        val = read_split(val_manifest, settings.val_split, "validation")
        check_labels_known(val, labels, f"{val_manifest} (split '{settings.val_split}')")
        check_disjoint(records, file_records(val, str(val_manifest)), "validation")
    if settings.protocol == "paper":
        test = read_split(test_manifest, settings.test_split, "test")
        check_labels_known(test, labels, f"{test_manifest} (split '{settings.test_split}')")
        check_disjoint(records, file_records(test, str(test_manifest)), "test")
    selection, role = (val, "val") if settings.protocol == "validation" else (test, "test")
    return _Data(train, records, selection, role, val, test, labels)


@contextlib.contextmanager
def _deterministic(enabled: bool) -> Iterator[None]:
    """Deterministic kernels for the duration (GPU convolutions and reductions are not by default: two runs on
    an H100 differed in the 6th digit of the loss); the process-wide flags are restored afterwards."""
    if not enabled:
        yield
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS reads it when its first handle is made
    previous = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
                torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = previous[2], previous[3]


def _prepare_output(out: Path, overwrite: bool) -> None:
    existing = [name for name in OUTPUT_FILES if (out / name).exists()]
    # metrics.json is written last: without it the folder holds a run that failed or was interrupted, which the
    # corrected command replaces rather than refuses
    finished = (out / "metrics.json").exists()
    if finished and not overwrite:
        raise ConfigError(f"{out}: already holds a run ({', '.join(existing)}); choose another --out or pass "
                          f"--overwrite")
    for name in existing:
        (out / name).unlink()
    if (overwrite or not finished) and (out / "eval").is_dir():
        shutil.rmtree(out / "eval")  # evaluations of the replaced model no longer hold


def _resolve_features(settings: TrainSettings, store: FeatureStore, train: list[Clip]) -> FeatureSettings:
    """Feature settings with the normalisation statistics filled in (computed from training data if asked)."""
    features = store.settings
    if features.normalisation == "train":
        mean, std = feature_statistics(values for values, _ in store.features(train))
        features = features.model_copy(update={"norm_mean": mean, "norm_std": std})
        store.settings = features
    return features


def _config_json(settings: TrainSettings, data: _Data, features: FeatureSettings, model, train_manifests,
                 val_manifest, test_manifest, cache_dir) -> dict:
    def manifest_entry(path):
        return None if path is None else {"path": str(Path(path).resolve()), "sha256": file_sha256(path)}

    return {
        "protocol": protocol_label(settings.protocol),
        "selected_on": data.selection_role,
        "settings": settings.model_dump(mode="json"),
        "train_manifests": [manifest_entry(m) for m in train_manifests],
        "val_manifest": manifest_entry(val_manifest),
        "test_manifest": manifest_entry(test_manifest) if settings.protocol == "paper" else None,
        "labels": data.labels,
        "num_clips": {"train": len(data.train), "val": len(data.val or []), "test": len(data.test or [])},
        "train_sources": dict(Counter(c.source for c in data.train)),
        "features": features.model_dump(mode="json"),
        "model": {"name": settings.model, "spec": model.spec},
        "seed": settings.seed,
        "feature_cache_dir": None if cache_dir is None else str(cache_dir),
        "versions": package_versions(),
    }


def train_run(settings: TrainSettings, train_manifests: Sequence[Path | str], val_manifest: Path | str | None,
              out: Path | str, test_manifest: Path | str | None = None, cache_dir: Path | str | None = None,
              overwrite: bool = False, progress: Callable[[dict], None] | None = None) -> RunResult:
    """Train on the train rows of `train_manifests`, select on the val rows of `val_manifest` (the test rows of
    `test_manifest` under the paper protocol), and write the run folder `out` (see synthaudio.recognition.runs).

    Args:
        progress: called with each epoch's history row (and {"stage": "features", ...} while caching).
    """
    train_manifests = [Path(m) for m in train_manifests]
    val_manifest = Path(val_manifest) if val_manifest is not None else None
    test_manifest = Path(test_manifest) if test_manifest is not None else None
    data = _gather(settings, train_manifests, val_manifest, test_manifest)
    out = Path(out)
    device = pick_device(settings.device)
    with exclusive_run(out, "training run"):
        _prepare_output(out, overwrite)
        store = FeatureStore(feature_settings_for(settings.model, settings.features, **settings.model_options),
                             cache_dir, use_cache=settings.feature_cache, memory_mb=settings.feature_memory_mb)
        every = data.train + (data.val or []) + (data.test or [])
        store.prepare(every, None if progress is None else lambda done, total: progress(
            {"stage": "features", "done": done, "total": total}))
        features = _resolve_features(settings, store, data.train)
        noise = None
        if settings.augment_noise is not None:
            noise_clips = read_split(settings.augment_noise.manifest, settings.augment_noise.split, "noise")
            noise = NoiseBank(noise_clips, store, settings.augment_noise.manifest)
        cuda_devices = [device.index if device.index is not None else torch.cuda.current_device()] \
            if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda_devices), _deterministic(settings.deterministic):
            torch.manual_seed(derive_seed(settings.seed, "init"))
            model = build_model(settings.model, len(data.labels), features, **settings.model_options).to(device)
            config = _config_json(settings, data, features, model, train_manifests, val_manifest, test_manifest,
                                  cache_dir)
            write_json(out / "config.json", config)
            write_json(out / "data.json", {"train": [vars(r) for r in data.train_records]})
            torch.manual_seed(derive_seed(settings.seed, "train"))  # dropout
            history = _fit(settings, data, store, features, model, noise, device, out, progress)
        save_weights(model, out / "model_last.safetensors")
        best = max(history, key=lambda row: (row[data.selection_role][settings.selection_metric], -row["epoch"]))
        metrics = {
            "protocol": protocol_label(settings.protocol),
            "selected_on": data.selection_role,
            "selection_metric": settings.selection_metric,
            "best_epoch": best["epoch"],
            "epochs": settings.epochs,
            "labels": data.labels,
            data.selection_role: best[data.selection_role],
        }
        if data.val is not None and data.selection_role != "val":
            metrics["val"] = best["val"]
        write_json(out / "metrics.json", metrics)
    load_weights(model, out / "model.safetensors")
    return RunResult(out, best["epoch"], data.labels, metrics, history)


def _fit(settings: TrainSettings, data: _Data, store: FeatureStore, features: FeatureSettings, model, noise,
         device: torch.device, out: Path, progress) -> list[dict]:
    label_index = {label: i for i, label in enumerate(data.labels)}
    dataset = ClipDataset(data.train, label_index, store, seed=settings.seed, train=True, noise=noise,
                          augmentation=settings.augment_noise if noise is not None else None)
    weights = class_weights(data.train, data.labels) if settings.class_weighted_loss else None
    sampling = source_weights_per_clip(data.train, settings.source_weights) if settings.source_weights else None
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(parameters, lr=settings.lr, betas=settings.betas, weight_decay=settings.weight_decay)
    mode = "min" if settings.scheduler_metric == "loss" else "max"
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode=mode, patience=settings.scheduler_patience,
                                                           factor=settings.scheduler_factor, min_lr=settings.min_lr)
    criterion = torch.nn.CrossEntropyLoss(weight=None if weights is None else weights.to(device))
    evaluated = {"val": data.val, "test": data.test if settings.protocol == "paper" else None}
    history: list[dict] = []
    best_value = -np.inf
    for epoch in range(1, settings.epochs + 1):
        started = time.perf_counter()
        dataset.epoch = epoch
        order = epoch_order(len(data.train), settings.seed, epoch, sampling)
        # the study's loader drops the last partial batch (drop_last=True)
        if len(order) > settings.batch_size and len(order) % settings.batch_size:
            order = order[: len(order) - len(order) % settings.batch_size]
        model.train()
        losses = []
        for inputs, targets, valid in loader(dataset, settings.batch_size, order, settings.num_workers):
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(inputs.to(device), valid.to(device)), targets.to(device))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        row: dict[str, Any] = {"epoch": epoch, "train_loss": float(np.mean(losses)),
                               "lr": optimizer.param_groups[0]["lr"]}
        for role, clips in evaluated.items():
            if clips:
                logits = logits_of(model, clips, store, features, settings.batch_size, device)
                row[role] = metrics_from_logits(logits, [label_index[c.label] for c in clips], data.labels,
                                                None if weights is None else weights)
        selection = row[data.selection_role]
        scheduler.step(selection[settings.scheduler_metric])
        if selection[settings.selection_metric] > best_value:
            best_value = selection[settings.selection_metric]
            save_weights(model, out / "model.safetensors")
        row["seconds"] = time.perf_counter() - started
        if dataset.silent_skipped:
            row["noise_skipped_silent_clips"] = dataset.silent_skipped
            dataset.silent_skipped = 0
        history.append(row)
        write_text_atomic(out / "history.jsonl", "".join(json.dumps(r, allow_nan=False) + "\n" for r in history))
        if progress:
            progress(row)
    return history
