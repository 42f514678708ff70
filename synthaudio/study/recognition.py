"""Recognition stages: a training run (synthaudio.training.train_run) and an evaluation of it
(synthaudio.evaluation.evaluate_run), each writing into its stage folder."""

import json
import sys
from pathlib import Path

from synthaudio.manifest import read_manifest, select
from synthaudio.runs import write_json
from synthaudio.study.plan import Job

RUN_FOLDER = "run"
EVALUATION = "eval.json"


def run_train(job: Job) -> dict:
    """Train from scratch (an interrupted run restarts): selection on validation data unless protocol paper."""
    from synthaudio.training import TrainSettings, train_run

    params = job.params
    settings = TrainSettings.model_validate(params["settings"])
    # a filter may leave a synthetic manifest empty (e.g. every clip of a noise generator scored low): the run
    # then trains on the real data alone, and says so
    optional = [path for path in params["optional_train"] if select(read_manifest(path), split="train")]
    skipped = [path for path in params["optional_train"] if path not in optional]
    result = train_run(settings, [*params["train"], *optional], params["val"], Path(job.folder) / RUN_FOLDER,
                       test_manifest=params["test"], cache_dir=params["cache_dir"], overwrite=True,
                       progress=_epoch_lines(job.title, settings.epochs) if sys.stderr.isatty() else None)
    config = json.loads((Path(job.folder) / RUN_FOLDER / "config.json").read_text(encoding="utf-8"))
    return {"best_epoch": result.best_epoch, "num_clips": config["num_clips"],
            "train_sources": config["train_sources"], "skipped_empty": skipped, "protocol": config["protocol"],
            "selected_on": config["selected_on"]}


def _epoch_lines(title: str, epochs: int):
    """A progress callback printing one line per epoch (long runs on a terminal should show they are alive)."""
    def show(row: dict) -> None:
        if "epoch" in row:
            selected = row.get("val") or row.get("test") or {}
            print(f"  {title}: epoch {row['epoch']}/{epochs}, train loss {row['train_loss']:.3f}, selection "
                  f"accuracy {selected.get('accuracy', float('nan')):.3f}", file=sys.stderr, flush=True)
    return show


def run_evaluate(job: Job) -> dict:
    from synthaudio.evaluation import evaluate_run

    params = job.params
    result = evaluate_run(params["run"], params["test"], noise_manifest=params["noise"], snr_db=params["snr_db"],
                          seed=params["seed"], split=params["split"], noise_split=params["noise_split"],
                          cache_dir=params["cache_dir"], write=False)
    write_json(Path(job.folder) / EVALUATION, result)
    metrics = result["metrics"]
    return {"accuracy": metrics["accuracy"], "uar": metrics["uar"], "num_clips": metrics["num_clips"]}
