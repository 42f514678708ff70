"""Recognition stages: a training run (synthaudio.recognition.training.train_run) and an evaluation of it
(synthaudio.recognition.evaluation.evaluate_run), each writing into its stage folder."""

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from synthaudio.manifest import read_manifest, select
from synthaudio.recognition.evaluation import evaluate_run
from synthaudio.recognition.runs import write_json
from synthaudio.recognition.training import TrainSettings, train_run
from synthaudio.study.plan import Data, StageRef
from synthaudio.study.stages import StageRun, StageSpec

RUN_FOLDER = "run"
EVALUATION = "eval.json"
# Training settings that decide where and how fast a run goes, not what it learns: not part of its key.
NOT_IN_KEY = ("device", "num_workers", "feature_cache", "feature_memory_mb")


@dataclass(frozen=True)
class TrainStage(StageSpec):
    """Train from scratch (an interrupted run restarts): selection on validation data unless protocol paper."""

    kind = "train"
    rank = 6
    distributable = True
    settings: TrainSettings
    train: list[Data]
    optional_train: list[Data]  # skipped when a filter left them without training rows
    val: Data
    test: Data | None  # only under the paper protocol, which selects on it
    augment: Data | None  # the noise manifest of settings.augment_noise
    cache_dir: Path

    def identity(self) -> dict:
        settings = {k: v for k, v in self.settings.model_dump(mode="json").items() if k not in NOT_IN_KEY}
        if self.augment is not None:  # the noise by its content, not by where it lies
            settings["augment_noise"] = {**settings["augment_noise"], "manifest": self.augment.identity}
        return {"settings": settings, "train": [d.identity for d in self.train],
                "optional_train": [d.identity for d in self.optional_train], "val": self.val.identity,
                "test": None if self.test is None else self.test.identity}

    def run(self, where: StageRun) -> dict:
        # a filter may leave a synthetic manifest empty (e.g. every clip of a noise generator scored low): the run
        # then trains on the real data alone, and says so
        optional = [str(d.path) for d in self.optional_train if select(read_manifest(d.path), split="train")]
        skipped = [str(d.path) for d in self.optional_train if str(d.path) not in optional]
        folder = where.folder / RUN_FOLDER
        result = train_run(self.settings, [*(str(d.path) for d in self.train), *optional], str(self.val.path),
                           folder, test_manifest=None if self.test is None else str(self.test.path),
                           cache_dir=self.cache_dir, overwrite=True,
                           progress=_epoch_lines(where.title, self.settings.epochs) if sys.stderr.isatty() else None)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        return {"best_epoch": result.best_epoch, "num_clips": config["num_clips"],
                "train_sources": config["train_sources"],
                "skipped_empty": [os.path.relpath(path, where.out) for path in skipped],
                "protocol": config["protocol"], "selected_on": config["selected_on"]}


def _epoch_lines(title: str, epochs: int):
    """A progress callback printing one line per epoch (long runs on a terminal should show they are alive)."""
    def show(row: dict) -> None:
        if "epoch" in row:
            selected = row.get("val") or row.get("test") or {}
            print(f"  {title}: epoch {row['epoch']}/{epochs}, train loss {row['train_loss']:.3f}, selection "
                  f"accuracy {selected.get('accuracy', float('nan')):.3f}", file=sys.stderr, flush=True)
    return show


@dataclass(frozen=True)
class EvaluateStage(StageSpec):
    """A training run's metrics on the `split` rows of a manifest, clean or with noise at an SNR."""

    kind = "evaluate"
    rank = 7
    distributable = True
    training: StageRef
    test: Data
    split: str
    noise: Data | None
    noise_split: str | None
    snr_db: float | None
    seed: int
    cache_dir: Path

    def identity(self) -> dict:
        return {"run": self.training.key, "test": self.test.identity, "split": self.split,
                "noise": None if self.noise is None else self.noise.identity, "noise_split": self.noise_split,
                "snr_db": self.snr_db, "seed": self.seed,
                "keeps": "per-clip predictions"}  # evaluations written before predictions were kept are redone

    def run(self, where: StageRun) -> dict:
        run_folder = Path(self.training.folder) / RUN_FOLDER
        noise = None if self.noise is None else self.noise.path
        result = evaluate_run(run_folder, self.test.path, noise_manifest=noise,
                              snr_db=self.snr_db, seed=self.seed, split=self.split, noise_split=self.noise_split,
                              cache_dir=self.cache_dir, write=False)
        # paths inside the output folder are kept relative to it, so the folder can be moved
        result["run"] = os.path.relpath(run_folder, where.out)
        write_json(where.folder / EVALUATION, result)
        metrics = result["metrics"]
        return {"accuracy": metrics["accuracy"], "uar": metrics["uar"], "num_clips": metrics["num_clips"]}
