"""Content-addressed on-disk caches of decoded waveforms and fixed-length features.

A key is the sha256 of (code version, sha256 of the audio file's bytes, clip offset and duration, every setting
that changes the numbers). So a renamed or copied file hits the cache, an edited file misses it, and two runs
with the same settings share entries. Entries are written atomically (temporary file + rename), so concurrent
writers (two trainings at once) are safe: both write the same bytes and the last rename wins; a reader never
sees half a file. An unreadable entry counts as a miss and is rewritten.

Location: `cache_dir` argument, else $SYNTHAUDIO_CACHE, else ~/.cache/synthaudio (features/ and waveforms/ below).
"""

import hashlib
import json
import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

from synthaudio.fsutil import atomic_write, file_sha256
from synthaudio.manifest import Clip

WAVEFORM_CODE_VERSION = "1"


def default_cache_dir() -> Path:
    configured = os.environ.get("SYNTHAUDIO_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "synthaudio"


def clip_key(clip: Clip, kind: str, settings: dict, version: str) -> str:
    """Cache key of `clip` for an entry `kind` computed with `settings` by code `version`."""
    payload = {"kind": kind, "version": version, "audio_sha256": file_sha256(clip.path),
               "offset": clip.offset, "duration": clip.duration, "settings": settings}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


class ArrayCache:
    """key -> (float32 array, valid frames) in `root/<key[:2]>/<key>.f32`: a 32-byte header, then the raw values
    (a plain binary layout reads ~10x faster than .npz, whose zip parsing dominated a cached epoch).

    Trailing time steps that all hold one value (the padding of a short clip) are stored once, not repeated: a
    1-s clip padded to 512 frames takes a fifth of the space.
    """

    # magic, ndim, rows, columns, full length on the time axis, valid, fill, axis, crc32 of the values: a flipped
    # bit in an entry would otherwise be read as a valid feature and silently train on wrong numbers
    HEADER = struct.Struct("<4sIIIIIfII")
    MAGIC = b"SAF2"

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.f32"

    def get(self, key: str, time_axis: int = 0) -> tuple[np.ndarray, int] | None:
        try:
            with open(self.path(key), "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return None
        if len(raw) < self.HEADER.size:
            return self._damaged(key, "shorter than its header")  # e.g. a crash before its data reached the disk
        magic, ndim, rows, columns, frames, valid, fill, axis, checksum = self.HEADER.unpack_from(raw)
        if magic != self.MAGIC:
            return None  # an entry of an older layout: a plain miss, rewritten
        shape = (rows,) if ndim == 1 else (rows, columns)
        if len(raw) != self.HEADER.size + 4 * int(np.prod(shape)) or axis != time_axis:
            return self._damaged(key, "size does not match its header")
        if zlib.crc32(memoryview(raw)[self.HEADER.size:]) != checksum:
            return self._damaged(key, "checksum mismatch")
        values = np.frombuffer(raw, dtype=np.float32, offset=self.HEADER.size).reshape(shape)
        if ndim == 2 and values.shape[axis] < frames:
            pad = [(0, 0), (0, 0)]
            pad[axis] = (0, frames - values.shape[axis])
            return np.pad(values, pad, constant_values=fill), valid
        return values.copy(), valid

    def _damaged(self, key: str, why: str) -> None:
        """Report a damaged entry once per process (it is recomputed and rewritten); None, as for a miss."""
        if not ArrayCache._reported:
            print(f"warning: feature cache entry {self.path(key)} is damaged ({why}); recomputing it (further "
                  f"damaged entries are recomputed without a word)", file=sys.stderr)
        ArrayCache._reported.add(key)
        return None

    _reported: set[str] = set()

    def put(self, key: str, values: np.ndarray, valid: int, time_axis: int = 0) -> None:
        values = np.ascontiguousarray(values, dtype=np.float32)
        if values.ndim == 2:
            frames = values.shape[time_axis]
            kept, fill = _trim_constant_tail(values, time_axis)
            rows, columns = kept.shape
        else:
            frames, (kept, fill), (rows, columns) = len(values), (values, 0.0), (len(values), 1)
        data = kept.tobytes()
        header = self.HEADER.pack(self.MAGIC, values.ndim, rows, columns, frames, valid, fill, time_axis,
                                  zlib.crc32(data))
        # no fsync: after a crash an entry can at worst be unreadable, which counts as a miss (see `get`)
        with atomic_write(self.path(key), "wb", fsync=False) as handle:
            handle.write(header)
            handle.write(data)


def _trim_constant_tail(values: np.ndarray, time_axis: int) -> tuple[np.ndarray, float]:
    moved = np.moveaxis(values, time_axis, 0)
    fill = moved[-1].flat[0]
    constant = (moved == fill).reshape(moved.shape[0], -1).all(axis=1)
    keep = len(constant)
    while keep > 0 and constant[keep - 1]:
        keep -= 1
    return np.ascontiguousarray(np.moveaxis(moved[:keep], 0, time_axis)), float(fill)
