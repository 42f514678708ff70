"""Audio I/O and signal helpers: load anything as mono float32 at a target rate, fix length, normalise,
mix at an SNR, write WAV atomically.

Decoding: soundfile (libsndfile: wav, flac, ogg, mp3, ...) first; anything it cannot open goes through PyAV
(the audio track of mp4/avi/mkv/webm, m4a, ...), and the raw telephony codecs in PYAV_ONLY (GSM 06.10, G.722)
always do. Resampling: soxr. Every problem with a file raises AudioError
naming the file and the problem.
"""

import contextlib
import io
import math
import os
from pathlib import Path

import numpy as np

from synthaudio.errors import AudioError, NoAudioTrackError, is_utf8_path
from synthaudio.fsutil import atomic_write

WAV_SUBTYPES = {"pcm16": "PCM_16", "float": "FLOAT"}


def _check_file(path: Path) -> None:
    if not is_utf8_path(path):  # a manifest (UTF-8 JSON) could not name it, nor libsndfile open it
        raise AudioError(path, "file name is not valid UTF-8; rename it (e.g. with convmv) to use it")
    if not path.exists():
        raise AudioError(path, "file not found")
    if path.is_dir():
        raise AudioError(path, "is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(path, "empty file (0 bytes)")


def _check_riff_complete(path: Path) -> None:
    """Raise AudioError if a RIFF/WAVE file's data chunk promises more bytes than the file holds.

    libsndfile silently shortens such files to what is there, which would hide a truncated download.
    """
    size = path.stat().st_size
    with open(path, "rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return
        position = 12
        while position + 8 <= size:
            handle.seek(position)
            chunk_id, chunk_size = handle.read(4), int.from_bytes(handle.read(4), "little")
            if chunk_id == b"data":
                streamed = chunk_size in (0, 0xFFFFFFFF)  # written by a streaming writer: length unknown
                if not streamed and position + 8 + chunk_size > size:
                    raise AudioError(path, f"truncated: the data chunk promises {chunk_size} bytes but the file "
                                           f"holds {size - position - 8}; re-download or re-export it")
                return
            position += 8 + chunk_size + (chunk_size & 1)


def _read_soundfile(path: Path, offset: float, duration: float | None) -> tuple[np.ndarray, int] | None:
    """(samples x channels, rate) via libsndfile, or None when libsndfile does not know the format."""
    import soundfile

    if path.suffix.lower() in PYAV_ONLY:
        return None
    try:
        handle = soundfile.SoundFile(str(path))
    except soundfile.LibsndfileError:
        return None
    _check_riff_complete(path)
    with handle:
        rate = handle.samplerate
        total = handle.frames
        if total <= 0:
            raise AudioError(path, "contains no audio samples (zero length)")
        start = int(round(offset * rate))
        if start >= total:
            raise AudioError(path, f"offset {offset:.3f} s is past the end of the audio ({total / rate:.3f} s)")
        frames = total - start if duration is None else min(total - start, int(round(duration * rate)))
        try:
            handle.seek(start)
            data = handle.read(frames, dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError) as error:
            raise AudioError(path, f"cannot decode audio ({error}); the file may be truncated or corrupt") from None
    if len(data) < frames:
        raise AudioError(path, f"truncated: header promises {total} frames but only {start + len(data)} could be read")
    return data, rate


@contextlib.contextmanager
def _open_audio_track(path: Path):
    """(container, first audio stream, its rate) of any container PyAV opens; AudioError if it has no audio."""
    import av

    try:
        container = av.open(str(path), format=PYAV_ONLY.get(path.suffix.lower()))
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise AudioError(path, f"not a readable audio or video file ({error.__class__.__name__})") from None
    with container:
        if not container.streams.audio:
            raise NoAudioTrackError(path)
        stream = container.streams.audio[0]
        yield container, stream, stream.codec_context.sample_rate or stream.rate


def _read_pyav(path: Path, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    """(samples x channels, rate) from the first audio stream of any container PyAV opens."""
    import av

    with _open_audio_track(path) as (container, stream, rate):
        if not rate:
            raise AudioError(path, "audio track has no sample rate")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        # decode from the start (container seeking is not sample-exact) and stop once the segment is complete
        wanted = None if duration is None else int(round((offset + duration) * rate))
        chunks, decoded = [], 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    decoded += chunks[-1].size
                if wanted is not None and decoded >= wanted:
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as error:
            raise AudioError(path, f"cannot decode audio track ({error}); the file may be truncated or corrupt") \
                from None
    if not chunks:
        raise AudioError(path, "audio track contains no samples (zero length)")
    samples = np.concatenate(chunks).astype(np.float32)
    start = int(round(offset * rate))
    if start >= len(samples):
        raise AudioError(path, f"offset {offset:.3f} s is past the end of the audio ({len(samples) / rate:.3f} s)")
    stop = len(samples) if duration is None else start + int(round(duration * rate))
    return samples[start:stop, None], rate


def load_audio(path: Path | str, sample_rate: int | None = 16000, offset: float = 0.0,
               duration: float | None = None) -> np.ndarray:
    """Mono float32 samples of `path` from `offset` seconds for `duration` seconds (None: to the end).

    Args:
        sample_rate: resample to this rate with soxr; None keeps the file's rate (see `load_audio_native`).
    """
    samples, rate = load_audio_native(path, offset, duration)
    return resample(samples, rate, sample_rate) if sample_rate else samples


def load_audio_native(path: Path | str, offset: float = 0.0, duration: float | None = None) -> tuple[np.ndarray, int]:
    """(mono float32 samples, native rate) of `path`; see `load_audio`."""
    path = Path(path)
    _check_file(path)
    if offset < 0 or (duration is not None and duration <= 0):
        raise AudioError(path, f"invalid segment: offset {offset} s, duration {duration} s")
    result = _read_soundfile(path, offset, duration)
    data, rate = result if result is not None else _read_pyav(path, offset, duration)
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    if mono.size == 0:
        raise AudioError(path, "contains no audio samples (zero length)")
    if not np.isfinite(mono).all():
        raise AudioError(path, "contains NaN or Inf samples")
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate)


def audio_info(path: Path | str) -> tuple[float, int]:
    """(duration in seconds, native sample rate), decoding only where the container does not say."""
    import soundfile

    path = Path(path)
    _check_file(path)
    if path.suffix.lower() in PYAV_ONLY:
        return _pyav_info(path)
    try:
        info = soundfile.info(str(path))
        _check_riff_complete(path)
        if info.frames <= 0:
            raise AudioError(path, "contains no audio samples (zero length)")
        return info.frames / info.samplerate, int(info.samplerate)
    except soundfile.LibsndfileError:
        return _pyav_info(path)


def _pyav_info(path: Path) -> tuple[float, int]:
    """(duration, rate) of the first audio track from the container's header; decoded only if it says nothing."""
    import av

    with _open_audio_track(path) as (container, stream, rate):
        if stream.duration and stream.time_base:
            seconds = float(stream.duration * stream.time_base)
        else:  # e.g. Matroska, PCM in AVI: only the container knows (in av.time_base units)
            seconds = container.duration / av.time_base if container.duration else 0.0
    if rate and seconds > 0:
        return seconds, int(rate)
    samples, rate = _read_pyav(path, 0.0, None)
    return len(samples) / rate, rate


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate:
        return samples.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(samples, from_rate, to_rate, quality="HQ").astype(np.float32, copy=False)


def fix_length(samples: np.ndarray, num_samples: int, offset: int = 0) -> np.ndarray:
    """Crop `num_samples` starting at sample `offset`, zero-padding at the end where the audio is shorter."""
    if num_samples <= 0 or offset < 0:
        raise ValueError(f"fix_length needs num_samples > 0 and offset >= 0, got {num_samples}, {offset}")
    piece = samples[offset: offset + num_samples]
    if len(piece) < num_samples:
        piece = np.pad(piece, (0, num_samples - len(piece)))
    return np.ascontiguousarray(piece, dtype=np.float32)


def peak_normalize(samples: np.ndarray, peak_dbfs: float = -1.0) -> np.ndarray:
    """Scale so the largest absolute sample is at `peak_dbfs`; silence stays silence."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak == 0.0:
        return samples.astype(np.float32, copy=True)
    return (samples * (10 ** (peak_dbfs / 20) / peak)).astype(np.float32)


def loudness_normalize(samples: np.ndarray, sample_rate: int, target_lufs: float = -23.0,
                       max_peak_dbfs: float = -1.0) -> np.ndarray:
    """ITU-R BS.1770 loudness normalisation (pyloudnorm), then peak-limited by scaling (never clipped)."""
    import pyloudnorm

    if len(samples) < int(0.4 * sample_rate):
        raise ValueError("loudness normalisation needs at least 0.4 s of audio (BS.1770 gating block); use peak")
    loudness = pyloudnorm.Meter(sample_rate).integrated_loudness(samples.astype(np.float64))
    if not math.isfinite(loudness):  # silence
        return samples.astype(np.float32, copy=True)
    out = samples * (10 ** ((target_lufs - loudness) / 20))
    limit = 10 ** (max_peak_dbfs / 20)
    peak = float(np.max(np.abs(out)))
    if peak > limit:
        out = out * (limit / peak)
    return out.astype(np.float32)


def write_wav(path: Path | str, samples: np.ndarray, sample_rate: int, subtype: str = "pcm16") -> None:
    """Write mono WAV atomically; subtype 'pcm16' (16-bit, clipped to [-1, 1]) or 'float' (32-bit float)."""
    import soundfile

    if subtype not in WAV_SUBTYPES:
        raise ValueError(f"subtype must be one of {sorted(WAV_SUBTYPES)}, got {subtype!r}")
    samples = np.asarray(samples, dtype=np.float32)
    if not np.isfinite(samples).all():
        raise AudioError(path, "refusing to write NaN or Inf samples")
    if subtype == "pcm16":
        samples = np.clip(samples, -1.0, 1.0)
    # encoded in memory first: libsndfile swallows a failing write of a Python file (disk full) in its callback
    encoded = io.BytesIO()
    soundfile.write(encoded, samples, sample_rate, format="WAV", subtype=WAV_SUBTYPES[subtype])
    with atomic_write(path, "wb") as handle:
        handle.write(encoded.getbuffer())


def power(samples: np.ndarray) -> float:
    return float(np.mean(np.square(samples, dtype=np.float64)))


def measured_snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    return 10 * math.log10(power(signal) / power(noise))


def fit_noise(noise: np.ndarray, num_samples: int, rng: np.random.Generator) -> np.ndarray:
    """A `num_samples` excerpt of `noise` at a random offset, looped where the noise is shorter."""
    if len(noise) < num_samples:
        noise = np.tile(noise, math.ceil(num_samples / len(noise)) + 1)
    start = int(rng.integers(0, len(noise) - num_samples + 1))
    return noise[start: start + num_samples]


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float, rng: np.random.Generator,
               invert_polarity_p: float = 0.0) -> np.ndarray:
    """signal + noise scaled so that the signal-to-noise power ratio over the whole clip is `snr_db`.

    The noise excerpt (offset, and polarity with probability `invert_polarity_p`) is drawn from `rng`.
    Returns float32, not clipped: features are computed from floats.
    """
    if power(signal) == 0.0:
        raise ValueError("cannot mix at an SNR into silence (signal power is zero)")
    excerpt = fit_noise(noise, len(signal), rng).astype(np.float64)
    noise_power = power(excerpt)
    if noise_power == 0.0:
        raise ValueError("cannot mix silent noise at an SNR (noise power is zero)")
    if invert_polarity_p and rng.random() < invert_polarity_p:
        excerpt = -excerpt
    scale = math.sqrt(power(signal) / (noise_power * 10 ** (snr_db / 10)))
    return (signal.astype(np.float64) + scale * excerpt).astype(np.float32)


def band_limit(samples: np.ndarray, sample_rate: int, band_rate: int = 8000) -> np.ndarray:
    """Telephone-band simulation: resample down to `band_rate` and back (soxr's anti-alias low-pass)."""
    if band_rate >= sample_rate:
        return samples.astype(np.float32, copy=True)
    narrow = resample(samples, sample_rate, band_rate)
    return fix_length(resample(narrow, band_rate, sample_rate), len(samples))


def is_audio_path(path: Path | str) -> bool:
    return os.path.splitext(str(path))[1].lower() in AUDIO_EXTENSIONS


AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".aiff", ".aif", ".au",
                    ".mp4", ".avi", ".mkv", ".webm", ".mov", ".mpg", ".mpeg", ".gsm", ".g722"}
# libsndfile opens a raw GSM 06.10 file but cannot seek in it, and does not know G.722: PyAV decodes both, told
# the format (a headerless stream is otherwise guessed from its first bytes, which may look like another format)
PYAV_ONLY = {".gsm": "gsm", ".g722": "g722"}
