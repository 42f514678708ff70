"""`synthaudio train` and `synthaudio evaluate`: thin commands over synthaudio.recognition (training, evaluation).

Rows used: train = split "train" of every --train manifest; val = split "val" of --val; evaluate = split "test" of
--test (each overridable with --train-split / --val-split / --split).
"""

from pathlib import Path

import typer

from synthaudio.cli.interrupt import explained_interrupt
from synthaudio.cli.options import parse_key_values
from synthaudio.errors import ConfigError, field_problem


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("evaluate")(evaluate)


def _parse_pairs(text: str | None, option: str) -> dict[str, float]:
    """'synthetic=0.5,real=0.5' -> {'synthetic': 0.5, 'real': 0.5}."""
    if not text:
        return {}
    pairs = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        try:
            pairs[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"{option}: expected name=number pairs separated by commas, got {text!r}") from None
    return pairs


def _parse_range(text: str, option: str) -> tuple[float, float]:
    low, sep, high = text.partition(":")
    try:
        return (float(low), float(high)) if sep else (float(low), float(low))
    except ValueError:
        raise ConfigError(f"{option}: expected LOW:HIGH in dB (e.g. 3:30), got {text!r}") from None


def train(
    train_manifests: list[Path] = typer.Option(..., "--train", help="Training manifest (repeat for several)."),
    val: Path | None = typer.Option(None, "--val", help="Manifest whose 'val' rows select the model."),
    out: Path = typer.Option(..., "--out", help="Run folder to write."),
    model: str = typer.Option("cnn", "--model", help="cnn (fast on CPU), ast (the study's), whisper (speech)."),
    model_option: list[str] = typer.Option([], "--model-option", help="key=value, e.g. checkpoint=PATH (repeat)."),
    epochs: int = typer.Option(30, "--epochs"),
    batch_size: int = typer.Option(32, "--batch-size"),
    lr: float = typer.Option(1e-4, "--lr"),
    weight_decay: float = typer.Option(1e-4, "--weight-decay"),
    seed: int = typer.Option(0, "--seed"),
    protocol: str = typer.Option("validation", "--protocol",
                                 help="validation (honest) or paper (selects on the TEST set: optimistic)."),
    test: Path | None = typer.Option(None, "--test", help="Test manifest (only used by --protocol paper)."),
    selection_metric: str = typer.Option("accuracy", "--selection-metric", help="accuracy, uar or macro_f1."),
    source_weights: str | None = typer.Option(None, "--source-weights", help="e.g. synthetic=0.5,real=0.5"),
    augment_noise: Path | None = typer.Option(None, "--augment-noise", help="Noise manifest mixed into training."),
    augment_snr_db: str = typer.Option("3:30", "--augment-snr-db", help="SNR range in dB, LOW:HIGH."),
    augment_p: float = typer.Option(1.0, "--augment-p", help="Probability that a training clip gets noise."),
    target_frames: int = typer.Option(512, "--target-frames", help="Frames per clip (pad/cut; 100 per second)."),
    normalisation: str = typer.Option("study", "--normalisation", help="study, train (statistics) or none."),
    train_split: str = typer.Option("train", "--train-split"),
    val_split: str = typer.Option("val", "--val-split"),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Feature cache (default $SYNTHAUDIO_CACHE "
                                                                     "or ~/.cache/synthaudio)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Recompute features every epoch (as the study)."),
    device: str = typer.Option("auto", "--device"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a run already in --out."),
) -> None:
    """Train a classifier on the train rows of one or more manifests; select it on validation rows."""
    from pydantic import ValidationError
    from rich.console import Console

    from synthaudio.recognition.data import NoiseAugmentation
    from synthaudio.recognition.training import TrainSettings, train_run

    console = Console()
    model_options = parse_key_values(model_option, "--model-option", "checkpoint=PATH")
    try:
        settings = TrainSettings(
            model=model, model_options=model_options, epochs=epochs, batch_size=batch_size,
            lr=lr, weight_decay=weight_decay, seed=seed, protocol=protocol, selection_metric=selection_metric,
            source_weights=_parse_pairs(source_weights, "--source-weights") or None,
            augment_noise=None if augment_noise is None else NoiseAugmentation(
                manifest=str(augment_noise), snr_db=_parse_range(augment_snr_db, "--augment-snr-db"), p=augment_p),
            features={"target_frames": target_frames, "normalisation": normalisation},
            train_split=train_split, val_split=val_split, feature_cache=not no_cache, device=device)
    except ValidationError as error:
        problem = field_problem(error)
        raise ConfigError(f"--{problem.field.replace('.', '-').replace('_', '-')}: {problem.message}") from None

    def progress(row: dict) -> None:
        if row.get("stage") == "features":
            if row["done"] == row["total"]:
                console.print(f"features of {row['total']} clips ready")
            return
        role = "test" if settings.protocol == "paper" else "val"
        picked = row[role]
        console.print(f"epoch {row['epoch']:3d}  train loss {row['train_loss']:.4f}  "
                      f"{'val' if role == 'val' else 'TEST'} acc {picked['accuracy']:.4f} uar {picked['uar']:.4f} "
                      f"loss {picked['loss']:.4f}  lr {row['lr']:.2e}  {row['seconds']:.1f} s", soft_wrap=True)

    cached = "" if no_cache else "; features computed so far stay in the feature cache"
    with explained_interrupt(f"the unfinished run in {out} is replaced when you run the same command again{cached}"):
        result = train_run(settings, train_manifests, val, out, test_manifest=test, cache_dir=cache_dir,
                           overwrite=overwrite, progress=progress)
    _print_metrics(console, result.metrics[result.metrics["selected_on"]], result.metrics["protocol"],
                   f"{out}: epoch {result.best_epoch} selected on {result.metrics['selected_on']}")
    console.print(f"{result.seconds_per_epoch:.2f} s per epoch; run written to {out}")


def evaluate(
    run: Path = typer.Option(..., "--run", help="Run folder written by `synthaudio train`."),
    test: Path = typer.Option(..., "--test", help="Manifest to evaluate on."),
    split: str = typer.Option("test", "--split", help="Which rows of --test."),
    noise: Path | None = typer.Option(None, "--noise", help="Noise manifest mixed into the test audio."),
    snr_db: float | None = typer.Option(None, "--snr-db", help="SNR of the mixture in dB (with --noise)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the noise draws."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir"),
    device: str = typer.Option("auto", "--device"),
) -> None:
    """Evaluate a run on test rows (clean or with noise at an SNR); writes RUN/eval/<name>.json."""
    from rich.console import Console

    from synthaudio.recognition.evaluation import evaluate_run

    console = Console()
    result = evaluate_run(run, test, noise_manifest=noise, snr_db=snr_db, seed=seed, split=split,
                          cache_dir=cache_dir, device=device)
    title = f"{run} on {test} ({split})" + ("" if noise is None else f" + {noise.name} at {snr_db:g} dB")
    _print_metrics(console, result["metrics"], result["protocol"], title)
    if result["noise"]:
        measured = result["noise"]["measured_snr_db"]
        console.print(f"measured SNR of the mixtures: {measured['min']:.3f} .. {measured['max']:.3f} dB")
    console.print(f"written to {result['file']}")


def _print_metrics(console, metrics: dict, protocol: str, title: str) -> None:
    from synthaudio.recognition.metrics import confusion_table, per_class_table, summary_table
    from synthaudio.recognition.runs import PAPER_PROTOCOL

    if protocol == PAPER_PROTOCOL:
        title = f"[OPTIMISTIC: {protocol}] {title}"
        console.print(f"[bold red]protocol {protocol}: these numbers overstate what the model does on unseen "
                      f"data[/bold red]")
    console.print(summary_table({"value": metrics}, title))
    console.print(per_class_table(metrics, "per class"))
    confusion = confusion_table(metrics, "confusion matrix")
    if confusion is not None:
        console.print(confusion)
