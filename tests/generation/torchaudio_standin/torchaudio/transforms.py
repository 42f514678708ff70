"""See the package docstring: every name is a stub that raises when called."""

from torchaudio import _Unavailable


def __getattr__(name: str) -> _Unavailable:
    if name.startswith("__"):
        raise AttributeError(name)
    return _Unavailable(f"torchaudio.transforms.{name}")
