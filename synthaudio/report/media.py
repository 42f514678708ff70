"""The HTML report's media: each clip as a small Ogg/Opus file a browser plays from disk, and a spectrogram
thumbnail (PNG) beside it.

Opus at 16 kHz mono, 24 kbit/s, keeps a 5-s clip near 14 kB (a 16-bit WAV of it is 160 kB), and every browser plays it.
A clip's files are named by a hash of its audio content and segment, so a clip shown twice (the same pool in two
experiments) is converted once, and an unchanged clip keeps its name across rebuilds.
"""

import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthaudio.audio import load_audio
from synthaudio.fsutil import atomic_write, file_sha256

WEB_RATE = 16000  # one of the rates Opus codes natively; enough for thumbnails and for judging a clip by ear
MAX_SECONDS = 10.0  # longer clips are cut: the page is for listening to examples, not to whole recordings
THUMB_BINS, THUMB_FRAMES = 64, 96
MEDIA_VERSION = "2"
PARALLEL_FROM = 200  # fewer clips convert faster in this process than the workers take to start
OPUS_KBPS = 24


@dataclass(frozen=True)
class ClipMedia:
    audio: str  # path relative to the report folder
    thumbnail: str
    seconds: float


def media_name(path: Path, offset: float, duration: float | None) -> str:
    digest = hashlib.sha256(f"{MEDIA_VERSION}:{file_sha256(path)}:{offset}:{duration}".encode()).hexdigest()
    return digest[:20]


def clip_media(path: Path, offset: float, duration: float | None, report: Path, folder: str = "media") -> ClipMedia:
    """Write (or reuse) the Opus file and thumbnail of one clip under report/folder; returns their relative paths."""
    name = media_name(path, offset, duration)
    audio, thumbnail = f"{folder}/{name}.opus", f"{folder}/{name}.png"
    seconds = min(duration or MAX_SECONDS, MAX_SECONDS)
    if not ((report / audio).is_file() and (report / thumbnail).is_file()):
        samples = load_audio(path, WEB_RATE, offset=offset, duration=seconds)
        seconds = len(samples) / WEB_RATE
        write_opus(report / audio, samples)
        write_thumbnail(report / thumbnail, samples)
    return ClipMedia(audio, thumbnail, seconds)


def clips_media(items: list[tuple[Path, float, float | None]], report: Path, workers: int | None = None
                ) -> list[ClipMedia]:
    """clip_media of each (path, offset, duration), in parallel processes when there are many (encoding is
    CPU-bound and holds the GIL); `workers`: default one per CPU this process may use, at most 8."""
    if workers is None:
        workers = min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if workers <= 1 or len(items) < PARALLEL_FROM:
        return [clip_media(path, offset, duration, report) for path, offset, duration in items]
    # spawn, not fork: the parent may hold torch threads and open handles that a fork would copy half-way
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_clip_media_args, [(path, offset, duration, report) for path, offset, duration in items],
                             chunksize=max(1, len(items) // (4 * workers))))


def _clip_media_args(args: tuple) -> ClipMedia:
    return clip_media(*args)


def write_opus(path: Path, samples: np.ndarray) -> None:
    """Ogg/Opus, mono, OPUS_KBPS, through PyAV's libopus at its fastest setting (10x faster than libsndfile's
    Opus, which encodes at the highest complexity; at this rate the difference is not audible in a preview)."""
    import av

    if len(samples) < WEB_RATE // 50:  # an empty or near-empty clip: a little silence keeps it playable
        samples = np.zeros(WEB_RATE // 10, dtype=np.float32)
    frame = av.AudioFrame.from_ndarray(np.clip(samples, -1.0, 1.0).astype(np.float32)[None, :], format="flt",
                                       layout="mono")
    frame.sample_rate = WEB_RATE
    with atomic_write(path, "wb", encoding=None, fsync=False) as handle:
        with av.open(handle, "w", format="ogg") as container:
            stream = container.add_stream("libopus", rate=WEB_RATE, options={"compression_level": "0"})
            stream.layout = "mono"
            stream.bit_rate = OPUS_KBPS * 1000
            for packet in [*stream.encode(frame), *stream.encode(None)]:
                container.mux(packet)


def log_spectrogram(samples: np.ndarray) -> np.ndarray:
    """(THUMB_BINS x THUMB_FRAMES) log power, low frequencies at the bottom, scaled to [0, 1]."""
    window = 512
    hop = max(1, (len(samples) - window) // (THUMB_FRAMES - 1)) if len(samples) > window else 1
    padded = np.pad(samples, (0, max(0, window + hop * (THUMB_FRAMES - 1) - len(samples))))
    starts = np.arange(THUMB_FRAMES) * hop
    frames = np.stack([padded[start:start + window] for start in starts]) * np.hanning(window)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # frames x 257 bins
    # fold the linear bins into THUMB_BINS log-spaced bands: speech and sound live in the low kHz
    edges = np.unique(np.geomspace(1, power.shape[1], THUMB_BINS + 1).astype(int))
    bands = np.stack([power[:, lo:hi].mean(axis=1) for lo, hi in zip(edges[:-1], edges[1:], strict=True)], axis=1)
    decibels = 10 * np.log10(bands + 1e-10)
    top = decibels.max()
    scaled = np.clip((decibels - (top - 80.0)) / 80.0, 0.0, 1.0)
    return scaled.T[::-1]


def write_thumbnail(path: Path, samples: np.ndarray) -> None:
    """The log spectrogram in matplotlib's magma colours, as an 8-bit palette PNG (a third of the bytes of RGB;
    Pillow writes it: matplotlib's imsave costs more than the spectrogram for a picture this small)."""
    from matplotlib import colormaps
    from PIL import Image

    palette = (colormaps["magma"](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)
    image = Image.fromarray(np.round(log_spectrogram(samples) * 255).astype(np.uint8), "P")
    image.putpalette(palette.ravel().tolist())
    with atomic_write(path, "wb", encoding=None, fsync=False) as handle:
        image.save(handle, format="PNG", optimize=False)
