"""Generator registry: name -> backend class, imported only when asked for.

A missing optional dependency (audiocraft for AudioGen, torchsde for Stable Audio, espeak-ng for TTS) only matters
when that backend is requested, and then it is one clear error with the install command.
"""

from typing import Any

from synthaudio.generators.base import GenerationRequest, Generator
from synthaudio.registry import Registry

# plugins register under the entry-point group "synthaudio.generators" (a Generator subclass)
GENERATORS: Registry[type[Generator]] = Registry("generator", "synthaudio.generators", {
    "audioldm2": "synthaudio.generators.audioldm2:AudioLDM2Generator",
    "musicgen": "synthaudio.generators.musicgen:MusicGenGenerator",
    "audiogen": "synthaudio.generators.audiogen:AudioGenGenerator",
    "stable-audio": "synthaudio.generators.stable_audio:StableAudioGenerator",
    "tts": "synthaudio.generators.tts:TTSGenerator",
})


def generator_names() -> list[str]:
    return GENERATORS.names()


def generator_class(name: str) -> type[Generator]:
    """The backend class for `name`; ConfigError listing the known names otherwise."""
    return GENERATORS.load(name)


def get_generator(name: str, checkpoint: str | None = None, device: str | None = None, dtype: str | None = None,
                  **settings: Any) -> Generator:
    """A loaded generator. Settings the backend does not take (e.g. steps for musicgen) raise ConfigError."""
    return generator_class(name)(checkpoint=checkpoint, device=device, dtype=dtype, **settings)


__all__ = ["GENERATORS", "GenerationRequest", "Generator", "generator_class", "generator_names", "get_generator"]
