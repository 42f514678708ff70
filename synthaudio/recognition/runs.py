"""The run folder: everything needed to evaluate a trained model without its training command.

RUN/
  config.json          every setting, manifests with content hashes, labels in class-index order, resolved
                       feature settings (with normalisation statistics), model spec, package versions, protocol
  data.json            resolved path + sha256 of every training and validation file (train/test overlap checks)
  model.safetensors    weights of the selected (best) epoch
  model_last.safetensors  weights after the last epoch
  history.jsonl        one line per epoch: train loss, selection-set metrics, learning rate, seconds
  metrics.json         metrics of the selected epoch (written last: its presence marks a finished run)
  eval/<test-manifest-stem>[_<split>][_noise-<stem>_snr<X>_seed<S>].json   one file per distinct evaluation
"""

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from synthaudio.errors import CheckpointError
from synthaudio.features import FeatureSettings
from synthaudio.fsutil import atomic_write, write_text_atomic
from synthaudio.models import build_model

PAPER_PROTOCOL = "paper (optimistic: model selected on the test set)"
VALIDATION_PROTOCOL = "validation"
RUN_FILES = ("config.json", "data.json", "model.safetensors", "metrics.json")


def protocol_label(protocol: str) -> str:
    return PAPER_PROTOCOL if protocol == "paper" else VALIDATION_PROTOCOL


def write_json(path: Path, value) -> None:
    write_text_atomic(path, json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def save_weights(model: torch.nn.Module, path: Path) -> None:
    from safetensors.torch import save

    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    with atomic_write(path, "wb") as handle:
        handle.write(save(state, metadata={"format": "pt"}))


def load_weights(model: torch.nn.Module, path: Path) -> None:
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))
    except Exception as error:  # safetensors raises its own SafetensorError for damaged files
        raise CheckpointError(f"{path}: cannot read the weights ({error}); retrain the run") from None
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(f"{path}: weights do not fit the run's model (missing {result.missing_keys[:3]}, "
                              f"unexpected {result.unexpected_keys[:3]}); the run folder is inconsistent")


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("synthaudio", "torch", "numpy", "transformers", "scikit-learn", "soundfile", "soxr",
                    "safetensors"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            continue
    return versions


@dataclass
class LoadedRun:
    folder: Path
    config: dict
    labels: list[str]
    features: FeatureSettings
    model: torch.nn.Module

    @property
    def protocol(self) -> str:
        return self.config["protocol"]


def check_run_folder(folder: Path | str) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: no such run folder; train one with `synthaudio train --out {folder}`")
    missing = [name for name in RUN_FILES if not (folder / name).is_file()]
    if missing:
        raise CheckpointError(f"{folder}: not a finished synthaudio run (missing {', '.join(missing)}); train one "
                              f"with `synthaudio train --out {folder}` or let its training finish")
    return folder


def load_run(folder: Path | str, device: torch.device | str = "cpu") -> LoadedRun:
    """The trained model of a run folder (best epoch), in eval mode, with its labels and feature settings."""
    folder = check_run_folder(folder)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        labels = list(config["labels"])
        features = FeatureSettings.model_validate(config["features"])
        name, spec = config["model"]["name"], config["model"]["spec"]
    except (ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{folder / 'config.json'}: not a valid run configuration ({error})") from None
    with torch.random.fork_rng(devices=[]):  # the throw-away initialisation must not move the caller's RNG
        model = build_model(name, len(labels), features, **spec)
    load_weights(model, folder / "model.safetensors")
    return LoadedRun(folder, config, labels, features, model.to(device).eval())
