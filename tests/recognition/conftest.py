"""Tiny fixture datasets for the recognition tests: one tone frequency per class (a model can learn them), written
as real WAV files with a synthaudio manifest."""

from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from synthaudio.manifest import Clip, write_manifest

FREQUENCIES = {"low": 300.0, "mid": 900.0, "high": 2500.0}
SECONDS = 0.5
FRAMES = 50  # 0.5 s at 10 ms


def tone_clip(folder: Path, label: str, index: int, split: str, frequency: float, seconds: float = SECONDS,
              source: str = "real", sample_rate: int = 16000, seed: int = 0) -> Clip:
    """A WAV of a slightly detuned tone in noise (different per index), and its manifest row."""
    generator = np.random.default_rng([seed, index, int(frequency)])
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    detune = 1 + 0.03 * generator.standard_normal()
    samples = 0.3 * np.sin(2 * np.pi * frequency * detune * t + generator.uniform(0, 6)) \
        + 0.03 * generator.standard_normal(len(t))
    path = folder / label / f"{source}_{label}_{index}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), samples.astype(np.float32), sample_rate)
    provenance = {} if source == "real" else {"generator": "tone", "checkpoint": "none", "prompt": f"{label} tone",
                                              "strategy": "label", "seed": index}
    return Clip(id=f"{source}_{label}_{index}", path=str(path), label=label, split=split, fold=None, source=source,
                duration=seconds, sample_rate=sample_rate, **provenance)


def tone_manifest(folder: Path, counts: dict[str, int], source: str = "real", seed: int = 0,
                  labels=FREQUENCIES) -> Path:
    """folder/manifest.jsonl with counts[split] clips per class."""
    clips, index = [], 0
    for split, count in counts.items():
        for label in labels:
            for _ in range(count):
                clips.append(tone_clip(folder, label, index, split, FREQUENCIES[label], source=source, seed=seed))
                index += 1
    write_manifest(folder / "manifest.jsonl", clips)
    return folder / "manifest.jsonl"


@pytest.fixture(scope="session")
def tones(tmp_path_factory) -> Path:
    """Real tones: 10 train, 4 val, 4 test clips per class."""
    return tone_manifest(tmp_path_factory.mktemp("tones"), {"train": 10, "val": 4, "test": 4})


@pytest.fixture(scope="session")
def synthetic_tones(tmp_path_factory) -> Path:
    """'Synthetic' tones (train rows only), as a generator's manifest would hold them."""
    return tone_manifest(tmp_path_factory.mktemp("synthetic"), {"train": 6}, source="synthetic", seed=1)


@pytest.fixture(scope="session")
def noise_manifest(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("noise")
    clips = []
    for index in range(3):
        samples = np.random.default_rng(100 + index).standard_normal(16000 * 2).astype(np.float32) * 0.1
        path = folder / f"noise_{index}.wav"
        soundfile.write(str(path), samples, 16000)
        clips.append(Clip(id=f"noise_{index}", path=str(path), label="noise", split="train", fold=None,
                          source="real", duration=2.0, sample_rate=16000))
    write_manifest(folder / "noise.jsonl", clips)
    return folder / "noise.jsonl"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("feature-cache")


def fast_settings(**overrides):
    """TrainSettings for the tiny tone data: a few epochs at a high learning rate, 0.5-s inputs."""
    from synthaudio.recognition.training import TrainSettings

    values = {"epochs": 4, "batch_size": 8, "lr": 3e-3, "features": {"target_frames": FRAMES}}
    values.update(overrides)
    return TrainSettings(**values)


@pytest.fixture
def settings():
    return fast_settings


@pytest.fixture
def make_tones():
    return tone_manifest


@pytest.fixture(scope="session")
def trained_run(tones, cache_dir, tmp_path_factory):
    """A cnn run on the tones (validation protocol), shared by the evaluation tests."""
    from synthaudio.recognition.training import train_run

    out = tmp_path_factory.mktemp("runs") / "cnn"
    return train_run(fast_settings(), [tones], tones, out, cache_dir=cache_dir)


def ssast_state_dict(hidden=64, layers=2, input_fdim=128, input_tdim=256, patch=16, seed=0):
    """A state dict in the key layout of SSAST's published checkpoints (timm DeiT under DataParallel)."""
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.randn(*shape, generator=generator) * 0.1

    patches = (input_fdim // patch) * (input_tdim // patch)
    state = {"module.v.cls_token": rand(1, 1, hidden), "module.v.dist_token": rand(1, 1, hidden),
             "module.v.pos_embed": rand(1, patches + 2, hidden),
             "module.v.patch_embed.proj.weight": rand(hidden, 1, patch, patch),
             "module.v.patch_embed.proj.bias": rand(hidden),
             "module.v.norm.weight": 1 + rand(hidden), "module.v.norm.bias": rand(hidden),
             "module.v.head.weight": rand(1000, hidden), "module.v.head.bias": rand(1000),
             "module.v.head_dist.weight": rand(1000, hidden), "module.v.head_dist.bias": rand(1000),
             "module.p_input_fdim": torch.tensor(input_fdim), "module.p_input_tdim": torch.tensor(input_tdim),
             "module.mask_embed": rand(1, 1, hidden),
             "module.cpredlayer.0.weight": rand(hidden, hidden), "module.cpredlayer.0.bias": rand(hidden),
             "module.gpredlayer.0.weight": rand(hidden, hidden), "module.gpredlayer.0.bias": rand(hidden)}
    for layer in range(layers):
        block = f"module.v.blocks.{layer}."
        state.update({
            block + "norm1.weight": 1 + rand(hidden), block + "norm1.bias": rand(hidden),
            block + "attn.qkv.weight": rand(3 * hidden, hidden), block + "attn.qkv.bias": rand(3 * hidden),
            block + "attn.proj.weight": rand(hidden, hidden), block + "attn.proj.bias": rand(hidden),
            block + "norm2.weight": 1 + rand(hidden), block + "norm2.bias": rand(hidden),
            block + "mlp.fc1.weight": rand(2 * hidden, hidden), block + "mlp.fc1.bias": rand(2 * hidden),
            block + "mlp.fc2.weight": rand(hidden, 2 * hidden), block + "mlp.fc2.bias": rand(hidden)})
    return state


@pytest.fixture(name="ssast_state_dict")
def ssast_state_dict_factory():
    return ssast_state_dict
