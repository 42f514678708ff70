"""Test-only stand-in for torchaudio, which has no wheel for the torch this project runs on.

audiocraft imports torchaudio at module level (audio I/O, loudness, mel losses) but the modules the AudioGen
equivalence tests run (LM, conditioners, EnCodec, quantiser) never call it. Every attribute here is a stub that
raises the moment it is called or instantiated, so a test that silently relied on torchaudio fails loudly.
"""


class _Unavailable:
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str) -> "_Unavailable":
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _Unavailable(f"{self._name}.{attribute}")

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self._name} was called, but torchaudio is only a test stand-in here (no wheel for "
                           "this torch): the code under test must not rely on it")


def __getattr__(name: str) -> _Unavailable:
    if name.startswith("__"):
        raise AttributeError(name)
    return _Unavailable(f"torchaudio.{name}")
