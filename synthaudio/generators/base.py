"""The generator interface: a batch of (prompt, seed, duration) requests in, waveforms at the native rate out.

A backend subclasses `Generator`, declares its settings as a pydantic model (so a typo or a setting the backend
does not take is one clear error) and implements `_load` and `generate`. Device and dtype are chosen here once:
CUDA with half precision where available, else CPU float32; `--device` / `--dtype` override.
"""

import contextlib
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from synthaudio.errors import ConfigError, field_problem

DTYPES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class GenerationRequest:
    """One clip to generate: its text prompt, its own seed and its length in seconds."""

    prompt: str
    seed: int
    duration: float
    negative_prompt: str | None = None


class GeneratorSettings(BaseModel):
    """Base of each backend's settings; unknown settings are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def select_device(device: str | None) -> str:
    """'cuda' where a GPU is visible, else 'cpu'; an explicit device is checked, not trusted."""
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: torch {torch.__version__} sees no CUDA device; use --device cpu")
    try:
        torch.device(device)
    except RuntimeError:
        raise ConfigError(f"--device {device}: not a torch device (use cpu, cuda or cuda:N)") from None
    return device


def select_dtype(device: str, dtype: str | None, preferred_cuda_dtype: str = "float16"):
    """The torch dtype: float32 on CPU (half precision is slow or unsupported there), half precision on CUDA."""
    import torch

    if dtype is None:
        dtype = preferred_cuda_dtype if device.startswith("cuda") else "float32"
    if dtype not in DTYPES:
        raise ConfigError(f"--dtype {dtype}: choose one of {', '.join(DTYPES)}")
    if dtype == "bfloat16" and device.startswith("cuda") and not torch.cuda.is_bf16_supported():
        raise ConfigError("--dtype bfloat16: this GPU does not support bfloat16; use --dtype float16")
    return getattr(torch, dtype)


def as_mono(samples) -> np.ndarray:
    """float32 mono samples from (samples,) or (channels, samples) audio of one clip."""
    array = np.asarray(samples, dtype=np.float32)
    if array.ndim == 2:
        array = array.mean(axis=0) if array.shape[0] > 1 else array[0]
    if array.ndim != 1:
        raise ValueError(f"expected (samples,) or (channels, samples) audio, got shape {array.shape}")
    return np.ascontiguousarray(array)


def torch_generators(seeds: Sequence[int], device: str = "cpu") -> list:
    """One torch.Generator per clip, so a clip's noise depends on its own seed, not on its batch neighbours.

    On the CPU by default: diffusers then draws the starting noise on the CPU and moves it, so a seed gives the
    same starting noise on every device.
    """
    import torch

    return [torch.Generator(device=device).manual_seed(int(seed)) for seed in seeds]


def move_pipeline(pipe, device: str, dtype):
    """A diffusers pipeline on `device` in `dtype`; casts only when the weights are not in `dtype` already
    (diffusers warns about casting with to() even when nothing changes)."""
    from diffusers.utils import logging as diffusers_logging

    pipe = pipe.to(device)
    if pipe.dtype != dtype:
        level = diffusers_logging.get_verbosity()
        diffusers_logging.set_verbosity_error()  # "modules that should be kept in float32: []": none here
        try:
            pipe = pipe.to(dtype=dtype)
        finally:
            diffusers_logging.set_verbosity(level)
    return pipe


@contextlib.contextmanager
def known_warnings_silenced(*messages: str):
    """Hide library warnings we know to be harmless (each listed where it is used), and only those."""
    with warnings.catch_warnings():
        for message in messages:
            warnings.filterwarnings("ignore", message=message)
        yield


def eval_mode(*modules) -> None:
    """Put every torch module in inference mode: models built in code start in training mode, with dropout on."""
    for module in modules:
        if module is not None and hasattr(module, "eval"):
            module.eval()


class Generator(ABC):
    """A loaded text-to-audio model. Subclasses set `name`, `default_checkpoint`, `Settings` and implement
    `_load` and `generate`."""

    name: ClassVar[str]
    default_checkpoint: ClassVar[str]
    Settings: ClassVar[type[GeneratorSettings]] = GeneratorSettings
    supports_negative_prompt: ClassVar[bool] = False
    preferred_cuda_dtype: ClassVar[str] = "float16"
    uses_torch: ClassVar[bool] = True
    native_sample_rate: int

    def __init__(self, checkpoint: str | None = None, device: str | None = None, dtype: str | None = None,
                 **settings: Any):
        self.checkpoint = checkpoint or self.default_checkpoint
        self.settings = self.validate_settings(settings)
        if self.uses_torch:
            self.device = select_device(device)
            self.torch_dtype = select_dtype(self.device, dtype, self.preferred_cuda_dtype)
        elif device not in (None, "cpu") or dtype is not None:
            raise ConfigError(f"generator '{self.name}' runs no neural network here: leave --device/--dtype out")
        else:
            self.device, self.torch_dtype = "cpu", None
        self.random_weights = False
        self._load()

    @classmethod
    def validate_settings(cls, settings: dict[str, Any]) -> GeneratorSettings:
        """The backend's settings, or ConfigError naming the bad setting and what the backend accepts."""
        given = {key: value for key, value in settings.items() if value is not None}
        try:
            return cls.Settings(**given)
        except ValidationError as error:
            problem = field_problem(error)
            field = problem.field or "settings"
            if problem.kind == "unknown":
                accepted = ", ".join(cls.Settings.model_fields) or "none"
                raise ConfigError(f"generator '{cls.name}' has no setting '{field}' (its settings: {accepted})") \
                    from None
            raise ConfigError(f"generator '{cls.name}': setting '{field}': {problem.message}") from None

    @abstractmethod
    def _load(self) -> None:
        """Build or load the model (sets native_sample_rate and random_weights)."""

    @abstractmethod
    def generate(self, requests: Sequence[GenerationRequest]) -> list[np.ndarray]:
        """One mono float32 waveform at `native_sample_rate` per request, in request order."""

    def generate_with_meta(self, requests: Sequence[GenerationRequest]) -> list[tuple[np.ndarray, dict[str, Any]]]:
        """(waveform, per-clip provenance beyond prompt and seed, e.g. the voice a TTS clip was spoken with)."""
        return [(waveform, {}) for waveform in self.generate(requests)]

    def provenance(self) -> dict[str, Any]:
        """What made the clips: generator, checkpoint, settings, device, dtype, random_weights, library versions."""
        provenance = {"generator": self.name, "checkpoint": self.checkpoint,
                      "settings": self.settings.model_dump(mode="json"), "random_weights": self.random_weights,
                      "device": self.device, "native_sample_rate": self.native_sample_rate,
                      "versions": self.library_versions()}
        if self.torch_dtype is not None:
            provenance["dtype"] = str(self.torch_dtype).removeprefix("torch.")
        return provenance

    def library_versions(self) -> dict[str, str]:
        import torch

        return {"torch": torch.__version__}

    def inference(self):
        """Context for model calls: no autograd bookkeeping at all."""
        import torch

        return torch.inference_mode()
