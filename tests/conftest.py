"""Test set-up: one torch thread (2 shared cores), everything offline, Ray without an auth token."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


def tone(frequency: float = 440.0, seconds: float = 1.0, sample_rate: int = 16000, amplitude: float = 0.5,
         channels: int = 1) -> np.ndarray:
    """A sine tone (float32), (samples,) or (samples, channels)."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    wave = (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    return wave if channels == 1 else np.stack([wave] * channels, axis=1)


@pytest.fixture
def write_tone(tmp_path):
    """write_tone(relpath, frequency=..., seconds=..., sample_rate=..., channels=..., format=...) -> Path."""
    import soundfile

    def _write(relpath, frequency=440.0, seconds=1.0, sample_rate=16000, channels=1, **kwargs):
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(path), tone(frequency, seconds, sample_rate, channels=channels), sample_rate, **kwargs)
        return path

    return _write


@pytest.fixture(scope="module")
def ray_instance(tmp_path_factory):
    """A local Ray for one test module (Ray allows one per process; each module shuts its own down)."""
    from tests.fixtures.ray_workers import start_local_ray

    ray = start_local_ray(tmp_path_factory.mktemp("ray"))
    yield ray
    ray.shutdown()
