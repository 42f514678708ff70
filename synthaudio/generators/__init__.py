"""Generator registry: name -> backend class, imported only when asked for.

A missing optional dependency (audiocraft for AudioGen, torchsde for Stable Audio, espeak-ng for TTS) only matters
when that backend is requested, and then it is one clear error with the install command.
"""

import importlib
from typing import Any

from synthaudio.errors import ConfigError
from synthaudio.generators.base import GenerationRequest, Generator

REGISTRY: dict[str, tuple[str, str]] = {
    "audioldm2": ("synthaudio.generators.audioldm2", "AudioLDM2Generator"),
    "musicgen": ("synthaudio.generators.musicgen", "MusicGenGenerator"),
    "audiogen": ("synthaudio.generators.audiogen", "AudioGenGenerator"),
    "stable-audio": ("synthaudio.generators.stable_audio", "StableAudioGenerator"),
    "tts": ("synthaudio.generators.tts", "TTSGenerator"),
}


def generator_names() -> list[str]:
    return list(REGISTRY)


def generator_class(name: str) -> type[Generator]:
    """The backend class for `name`; ConfigError listing the known names otherwise."""
    if name not in REGISTRY:
        raise ConfigError(f"unknown generator '{name}'; known generators: {', '.join(REGISTRY)}")
    module, attribute = REGISTRY[name]
    return getattr(importlib.import_module(module), attribute)


def get_generator(name: str, checkpoint: str | None = None, device: str | None = None, dtype: str | None = None,
                  **settings: Any) -> Generator:
    """A loaded generator. Settings the backend does not take (e.g. steps for musicgen) raise ConfigError."""
    return generator_class(name)(checkpoint=checkpoint, device=device, dtype=dtype, **settings)


__all__ = ["REGISTRY", "GenerationRequest", "Generator", "generator_class", "generator_names", "get_generator"]
