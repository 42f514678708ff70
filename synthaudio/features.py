"""Model input features: Kaldi-compatible log-mel fbank (as torchaudio computes it, which SSAST and the study use),
Whisper's log-mel, fixed frame counts, the study's normalisation and seeded SpecAugment.

Arrays are (frames, bins) for the fbank (the AST/SSAST layout) and (bins, frames) for Whisper (its encoder's
layout); `FeatureSettings.time_axis` says which. Cached features are the UNNORMALISED fixed-length arrays;
normalisation and SpecAugment are applied after loading (see `prepare_input`).
"""

import contextlib
import functools
import math
from collections.abc import Iterator, Sequence
from typing import ClassVar, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from synthaudio.errors import ConfigError

# Bump when the numbers a setting produces change: it is part of every feature-cache key.
FEATURE_CODE_VERSION = "1"
# std::numeric_limits<float>::epsilon(): Kaldi's (and torchaudio's) floor before the log
FLOAT_EPSILON = float(torch.finfo(torch.float32).eps)
# The study's dataset statistics, x -> (x - mean) / (2 * std): the paper rounds them to -6.6268 and 5.3585; its code
# (and SSAST's ESC-50 recipe) uses these digits
STUDY_NORM_MEAN = -6.6268077
STUDY_NORM_STD = 5.358466
# SpecAugment of the study (SSAST): widths for 128 bins x 512 frames; scaled down for smaller inputs
STUDY_FREQ_MASK, STUDY_TIME_MASK = 24, 96
STUDY_BINS, STUDY_FRAMES = 128, 512


class FeatureSettings(BaseModel):
    """Every setting of the model input; the extraction fields form the feature-cache key."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["kaldi_fbank", "whisper_logmel"] = "kaldi_fbank"
    sample_rate: int = Field(default=16000, gt=0)
    num_mel_bins: int = Field(default=128, gt=3)
    target_frames: int = Field(default=512, gt=0, description="pad (zeros) or cut every clip to this many frames")
    frame_length_ms: float = Field(default=25.0, gt=0)
    frame_shift_ms: float = Field(default=10.0, gt=0)
    window_type: Literal["hanning", "hamming", "povey", "rectangular"] = "hanning"
    preemphasis: float = Field(default=0.97, ge=0, le=1)
    low_freq: float = Field(default=20.0, ge=0)
    high_freq: float = Field(default=0.0, description="<= 0: offset from Nyquist (Kaldi convention)")
    remove_dc_offset: bool = True
    subtract_waveform_mean: bool = Field(default=True, description="SSAST removes the clip's mean before fbank")
    pad: Literal["zeros", "silence"] = Field(
        default="zeros", description="kaldi_fbank clips shorter than target_frames: zeros (the study: log-fbank "
                                     "padded with 0, louder than speech) or silence (the log floor of digital "
                                     "silence, as if the audio were padded); Whisper's log-mel always pads audio")
    # applied after loading, not part of the cache key
    normalisation: Literal["study", "train", "none"] = "study"
    norm_mean: float = STUDY_NORM_MEAN
    norm_std: float = Field(default=STUDY_NORM_STD, gt=0)
    spec_augment: bool = True
    freq_mask: int | None = Field(default=None, ge=0, description="None: 24 scaled to num_mel_bins / 128")
    time_mask: int | None = Field(default=None, ge=0, description="None: 96, scaled down when target_frames < 512")

    EXTRACTION_FIELDS: ClassVar[tuple[str, ...]] = (
        "kind", "sample_rate", "num_mel_bins", "target_frames", "frame_length_ms", "frame_shift_ms", "window_type",
        "preemphasis", "low_freq", "high_freq", "remove_dc_offset", "subtract_waveform_mean")

    def extraction(self) -> dict:
        """The settings that change the cached (unnormalised) features."""
        fields = {name: getattr(self, name) for name in self.EXTRACTION_FIELDS}
        if self.pad != "zeros":  # only when set: the cache keys written before `pad` existed stay valid
            fields["pad"] = self.pad
        return fields

    @property
    def time_axis(self) -> int:
        return 0 if self.kind == "kaldi_fbank" else 1

    @property
    def shape(self) -> tuple[int, int]:
        frames, bins = self.target_frames, self.num_mel_bins
        return (frames, bins) if self.time_axis == 0 else (bins, frames)

    def mask_widths(self) -> tuple[int, int]:
        """(frequency, time) SpecAugment widths: explicit values, else the study's scaled to this input."""
        freq = self.freq_mask if self.freq_mask is not None else round(
            STUDY_FREQ_MASK * self.num_mel_bins / STUDY_BINS)
        # 96 frames (0.96 s) is the study's width at 512 frames; a 1-s clip cut to 100 frames gets 19, not 96
        time = self.time_mask if self.time_mask is not None else round(
            STUDY_TIME_MASK * min(1.0, self.target_frames / STUDY_FRAMES))
        return freq, time


# ---------------------------------------------------------------- Kaldi fbank (torchaudio.compliance.kaldi semantics)

def _frame_geometry(settings: FeatureSettings) -> tuple[int, int, int]:
    """(window, shift, padded FFT size) in samples, rounded as Kaldi and torchaudio do (truncation)."""
    window = int(settings.sample_rate * settings.frame_length_ms * 0.001)
    shift = int(settings.sample_rate * settings.frame_shift_ms * 0.001)
    if window < 2 or shift < 1:
        raise ConfigError(f"features: frame length {settings.frame_length_ms} ms / shift {settings.frame_shift_ms} ms "
                          f"give {window} / {shift} samples at {settings.sample_rate} Hz; need >= 2 / >= 1")
    return window, shift, 1 << (window - 1).bit_length()


def num_fbank_frames(num_samples: int, settings: FeatureSettings) -> int:
    """Frames Kaldi's snip-edges framing gives for `num_samples` (0 when shorter than one window)."""
    window, shift, _ = _frame_geometry(settings)
    return 0 if num_samples < window else 1 + (num_samples - window) // shift


def _window(kind: str, size: int) -> torch.Tensor:
    # Kaldi's windows are symmetric (periodic=False); povey is the hann window raised to 0.85
    if kind == "hanning":
        return torch.hann_window(size, periodic=False)
    if kind == "hamming":
        return torch.hamming_window(size, periodic=False, alpha=0.54, beta=0.46)
    if kind == "povey":
        return torch.hann_window(size, periodic=False).pow(0.85)
    return torch.ones(size)


def _mel(freq):
    return 1127.0 * torch.log(1.0 + freq / 700.0) if isinstance(freq, torch.Tensor) else 1127.0 * math.log(
        1.0 + freq / 700.0)


@functools.lru_cache(maxsize=16)
def mel_banks(num_bins: int, fft_size: int, sample_rate: float, low_freq: float, high_freq: float) -> torch.Tensor:
    """Triangular Kaldi/HTK mel filters, (num_bins, fft_size // 2 + 1), float32; the Nyquist column is zero.

    Filters that no FFT bin falls into stay all-zero (128 bins at 16 kHz / 512-point FFT: the lowest ones), as in
    torchaudio; kaldi-native-fbank refuses such settings instead. Computed in float32 like torchaudio, so the
    features match it to the last bits.
    """
    nyquist = 0.5 * sample_rate
    high = high_freq + nyquist if high_freq <= 0 else high_freq
    if not (0 <= low_freq < nyquist and 0 < high <= nyquist and low_freq < high):
        raise ConfigError(f"features: mel range low_freq={low_freq} high_freq={high_freq} is invalid for the "
                          f"Nyquist frequency {nyquist}")
    mel_low, mel_high = _mel(low_freq), _mel(high)
    delta = (mel_high - mel_low) / (num_bins + 1)  # +1: the outer filters spread past their centres
    index = torch.arange(num_bins).unsqueeze(1)
    left = mel_low + index * delta
    centre = mel_low + (index + 1.0) * delta
    right = mel_low + (index + 2.0) * delta
    fft_mel = _mel((sample_rate / fft_size) * torch.arange(fft_size // 2)).unsqueeze(0)
    rising = (fft_mel - left) / (centre - left)
    falling = (right - fft_mel) / (right - centre)
    banks = torch.clamp_min(torch.minimum(rising, falling), 0.0)
    return torch.nn.functional.pad(banks, (0, 1)).to(torch.float32)


def kaldi_fbank(waveforms: torch.Tensor, settings: FeatureSettings) -> torch.Tensor:
    """Log mel filterbank energies of a batch, as `torchaudio.compliance.kaldi.fbank` computes them.

    Args:
        waveforms: (batch, samples) float32 at `settings.sample_rate` (zero-padded clips are fine: frames are
            independent, so trim each clip's result to `num_fbank_frames` of its own length).
    Returns:
        (batch, frames, num_mel_bins): no dither, per-frame DC removal, pre-emphasis, window, power spectrum,
        mel filters, natural log floored at float epsilon; snip-edges framing.
    """
    window, shift, fft_size = _frame_geometry(settings)
    if waveforms.dim() == 1:
        waveforms = waveforms.unsqueeze(0)
    if waveforms.shape[-1] < window:
        return waveforms.new_zeros((waveforms.shape[0], 0, settings.num_mel_bins))
    frames = waveforms.to(torch.float32).unfold(-1, window, shift)  # (batch, frames, window)
    if settings.remove_dc_offset:
        frames = frames - frames.mean(dim=-1, keepdim=True)
    if settings.preemphasis:
        previous = torch.cat([frames[..., :1], frames[..., :-1]], dim=-1)  # first sample pre-emphasised by itself
        frames = frames - settings.preemphasis * previous
    frames = frames * _window(settings.window_type, window)
    frames = torch.nn.functional.pad(frames, (0, fft_size - window))
    power = torch.fft.rfft(frames).abs().pow(2.0)
    banks = mel_banks(settings.num_mel_bins, fft_size, float(settings.sample_rate), settings.low_freq,
                      settings.high_freq)
    energies = torch.matmul(power, banks.T)
    return torch.clamp_min(energies, FLOAT_EPSILON).log()


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch ops on one thread: per-clip FFTs are too small for intra-op threads, which cost more than they
    save (measured on 2 busy cores: 26 ms per 5-s clip with 2 threads, 2.9 ms with 1)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def fix_frames(features: np.ndarray, target_frames: int, time_axis: int = 0, fill: float = 0.0) -> np.ndarray:
    """Cut or pad (with `fill`, the study pads log-fbank with zeros) along `time_axis` to `target_frames`."""
    frames = features.shape[time_axis]
    if frames >= target_frames:
        return np.ascontiguousarray(np.take(features, np.arange(target_frames), axis=time_axis))
    pad = [(0, 0), (0, 0)]
    pad[time_axis] = (0, target_frames - frames)
    return np.pad(features, pad, constant_values=fill)


# ---------------------------------------------------------------- extractors: waveforms -> fixed-length features

class KaldiFbankExtractor:
    """Batched Kaldi fbank, padded/cut to `target_frames`: returns (features (frames, bins), valid frames)."""

    SUB_BATCH = 4

    def __init__(self, settings: FeatureSettings):
        self.settings = settings
        window, shift, _ = _frame_geometry(settings)
        # only the samples that reach the kept frames are transformed (a 30-s clip cut to 512 frames)
        self.max_samples = window + (settings.target_frames - 1) * shift
        # zeros: the study's padding; silence: what a frame of digital silence gives (the floor before the log), so
        # a clip shorter than the window (recorded words of 0.7 s) does not end in frames louder than its speech
        self._fill = 0.0 if settings.pad == "zeros" else math.log(FLOAT_EPSILON)

    def __call__(self, waveforms: Sequence[np.ndarray]) -> list[tuple[np.ndarray, int]]:
        if not waveforms:
            return []
        pieces = []
        for samples in waveforms:
            samples = np.asarray(samples, dtype=np.float32)
            if self.settings.subtract_waveform_mean:
                samples = samples - samples.mean(dtype=np.float64).astype(np.float32)  # over the whole clip
            pieces.append(samples[: self.max_samples])
        results = []
        # small sub-batches: the framed signal of a 5-s clip is ~0.8 MB, and keeping a sub-batch in the CPU cache
        # is faster than one large batch (measured: 32 clips at once take 3-5x longer than 8 at a time)
        for first in range(0, len(pieces), self.SUB_BATCH):
            chunk = pieces[first: first + self.SUB_BATCH]
            batch = torch.zeros((len(chunk), max(len(p) for p in chunk)), dtype=torch.float32)
            for row, piece in enumerate(chunk):
                batch[row, : len(piece)] = torch.from_numpy(piece)
            with torch.no_grad(), one_thread():
                energies = kaldi_fbank(batch, self.settings).numpy()
            for row, piece in enumerate(chunk):
                frames = num_fbank_frames(len(piece), self.settings)
                valid = min(frames, self.settings.target_frames)
                results.append((fix_frames(energies[row, :frames], self.settings.target_frames,
                                           fill=self._fill), valid))
        return results


class WhisperLogMelExtractor:
    """Whisper's own log-mel (transformers WhisperFeatureExtractor), padded/cut to `target_frames` frames
    (2 x the encoder's max_source_positions: 3000 = 30 s for released checkpoints)."""

    HOP = 160

    def __init__(self, settings: FeatureSettings):
        from transformers import WhisperFeatureExtractor

        self.settings = settings
        seconds = settings.target_frames * self.HOP / settings.sample_rate
        if settings.sample_rate != 16000 or seconds != int(seconds):
            raise ConfigError(f"features: Whisper log-mel needs 16 kHz and a whole number of seconds "
                              f"(target_frames a multiple of 100), got {settings.sample_rate} Hz, "
                              f"{settings.target_frames} frames")
        self.extractor = WhisperFeatureExtractor(feature_size=settings.num_mel_bins, sampling_rate=16000,
                                                 hop_length=self.HOP, chunk_length=int(seconds), n_fft=400)

    def __call__(self, waveforms: Sequence[np.ndarray]) -> list[tuple[np.ndarray, int]]:
        if not waveforms:
            return []
        with one_thread():
            features = self.extractor([np.asarray(w, dtype=np.float32) for w in waveforms], sampling_rate=16000,
                                      return_tensors="np", padding="max_length", truncation=True)["input_features"]
        return [(np.ascontiguousarray(f, dtype=np.float32),
                 max(1, min(self.settings.target_frames, len(w) // self.HOP)))
                for f, w in zip(features, waveforms, strict=True)]


def make_extractor(settings: FeatureSettings):
    return KaldiFbankExtractor(settings) if settings.kind == "kaldi_fbank" else WhisperLogMelExtractor(settings)


# ---------------------------------------------------------------- after loading: SpecAugment, normalisation

def spec_augment(features: np.ndarray, settings: FeatureSettings, rng: np.random.Generator) -> np.ndarray:
    """One frequency and one time mask set to 0 with torchaudio's width rule (width = u * max_width,
    start = v * (size - width), both truncated), drawn from `rng`."""
    out = np.array(features, dtype=np.float32, copy=True)
    freq_width, time_width = settings.mask_widths()
    time_axis = settings.time_axis
    for axis, max_width in ((1 - time_axis, freq_width), (time_axis, time_width)):
        if max_width <= 0:
            continue
        size = out.shape[axis]
        width = rng.random() * max_width
        start = rng.random() * max(0.0, size - width)
        index = [slice(None), slice(None)]
        index[axis] = slice(int(start), int(start + width))
        out[tuple(index)] = 0.0
    return out


def normalise(features: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """The study's `(x - mean) / (2 * std)` with the configured (or training-set) statistics; identity for none."""
    if settings.normalisation == "none":
        return features.astype(np.float32, copy=False)
    return ((features - settings.norm_mean) / (2.0 * settings.norm_std)).astype(np.float32)


def prepare_input(features: np.ndarray, settings: FeatureSettings, augment_rng: np.random.Generator | None):
    """Cached features -> model input: normalisation, then SpecAugment (training only: pass its rng).

    The order is the study's (usc-sail/SynthAudio masks the normalised fbank, so masked cells hold the dataset
    mean); SSAST itself masks before normalising.
    """
    normalised = normalise(features, settings)
    if augment_rng is not None and settings.spec_augment:
        return spec_augment(normalised, settings, augment_rng)
    return normalised


def feature_statistics(arrays: Sequence[np.ndarray]) -> tuple[float, float]:
    """(mean, std) over every value of the unnormalised arrays (SSAST's get_norm_stats, padding included)."""
    total, total_sq, count = 0.0, 0.0, 0
    for array in arrays:
        values = array.astype(np.float64)
        total += float(values.sum())
        total_sq += float(np.square(values).sum())
        count += values.size
    if count == 0:
        raise ConfigError("features: no training features to compute normalisation statistics from")
    mean = total / count
    return mean, math.sqrt(max(total_sq / count - mean * mean, 1e-12))
