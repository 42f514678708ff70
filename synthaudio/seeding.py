"""Explicit, derived seeds: every random operation takes one, nothing uses global random state."""

import hashlib

import numpy as np


def derive_seed(*parts: object) -> int:
    """A 31-bit seed that depends only on `parts` (e.g. study seed, label, clip index), stable across runs."""
    text = "\x1f".join(repr(part) for part in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "little") & 0x7FFFFFFF


def rng(*parts: object) -> np.random.Generator:
    """A numpy Generator seeded by derive_seed(*parts)."""
    return np.random.default_rng(derive_seed(*parts))
