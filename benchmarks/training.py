"""Epoch time with the feature cache vs recomputing features every epoch (the study's data loader decodes each WAV
and computes its fbank in every epoch), same model, data and settings, one run.

Data: ESC-50-like clips (5 s, 16 kHz as the study's preprocessing leaves them; --sample-rate 44100 for the
original ESC-50 files, which then also need resampling), tones in noise, written as WAV files. Both trainings
first run one warm-up epoch on a few clips so that imports do not count. An epoch is the training pass plus
the validation pass, as `history.jsonl` times it; the one-off cost of filling the cache is printed separately.
The cached run reads the on-disk cache in its first epoch and the in-process memory layer after that (see
synthaudio.recognition.data.FeatureStore).

Last line: `ratio: X.XX` = uncached epoch time / cached epoch time.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
import torch

from synthaudio.manifest import Clip, read_manifest, write_manifest
from synthaudio.recognition.data import FeatureStore
from synthaudio.recognition.training import TrainSettings, train_run


def write_dataset(folder: Path, classes: int, train_per_class: int, val_per_class: int, seconds: float,
                  sample_rate: int) -> Path:
    generator = np.random.default_rng(0)
    clips = []
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    for label_index in range(classes):
        frequency = 200.0 * (label_index + 1)
        for index in range(train_per_class + val_per_class):
            samples = 0.3 * np.sin(2 * np.pi * frequency * t + generator.uniform(0, 6)) \
                + 0.05 * generator.standard_normal(len(t))
            path = folder / f"class{label_index}" / f"{index}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(str(path), samples.astype(np.float32), sample_rate)
            split = "train" if index < train_per_class else "val"
            clips.append(Clip(id=f"c{label_index}_{index}", path=str(path), label=f"class{label_index}", split=split,
                              fold=None, source="real", duration=seconds, sample_rate=sample_rate))
    write_manifest(folder / "manifest.jsonl", clips)
    return folder / "manifest.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--train-per-class", type=int, default=20)
    parser.add_argument("--val-per-class", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--target-frames", type=int, default=512)
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--epochs", type=int, default=2)
    # one thread by default: on the 2 shared cores of the development machines, a second intra-op thread made
    # both trainings slower and their timings noisy; a GPU machine is better served with --threads 16
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        manifest = write_dataset(scratch / "data", args.classes, args.train_per_class, args.val_per_class,
                                 args.seconds, args.sample_rate)
        settings = TrainSettings(model=args.model, epochs=args.epochs, batch_size=32,
                                 features={"target_frames": args.target_frames})
        warm = write_manifest(scratch / "warm.jsonl", [c for c in read_manifest(manifest)
                                                       if c.id.endswith(("_0", "_1", f"_{args.train_per_class}"))])
        assert warm
        train_run(settings.model_copy(update={"epochs": 1}), [scratch / "warm.jsonl"], scratch / "warm.jsonl",
                  scratch / "warm-run", cache_dir=scratch / "warm-cache")

        uncached = train_run(settings.model_copy(update={"feature_cache": False}), [manifest], manifest,
                             scratch / "uncached", cache_dir=scratch / "cache")
        started = time.perf_counter()
        clips = read_manifest(manifest)
        store = FeatureStore(settings.features, scratch / "cache")
        store.prepare(clips)
        fill_seconds = time.perf_counter() - started
        cached = train_run(settings, [manifest], manifest, scratch / "cached", cache_dir=scratch / "cache")

    per_epoch_uncached = uncached.seconds_per_epoch
    per_epoch_cached = cached.seconds_per_epoch
    print(f"data: {len(clips)} clips of {args.seconds:g} s at {args.sample_rate} Hz, {args.classes} classes; "
          f"model {args.model}, {args.target_frames} frames, batch 32, {args.threads} threads, {args.epochs} epochs")
    print(f"uncached epoch (decode + fbank every epoch): {per_epoch_uncached:.2f} s")
    print(f"cached epoch (features read from the cache): {per_epoch_cached:.2f} s")
    print(f"one-off cache fill: {fill_seconds:.2f} s for {len(clips)} clips")
    same = uncached.metrics["val"]["accuracy"] == cached.metrics["val"]["accuracy"]
    print(f"same validation accuracy with and without the cache: {same}")
    print(f"ratio: {per_epoch_uncached / per_epoch_cached:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
