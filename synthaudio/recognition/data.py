"""Clips -> model inputs: which rows are used, checks that keep evaluation honest, cached features, seeded
per-source sampling and seeded background-noise augmentation.

Rows: training uses the rows with split "train" of every training manifest, validation the "val" rows of the
validation manifest, evaluation the "test" rows of the test manifest (each overridable).
Every random choice (order, noise clip, SNR, polarity, SpecAugment) is derived from (seed, epoch, clip), so a
run is reproducible whatever the batch size or number of loader workers.
"""

from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from synthaudio.audio import load_audio, mix_at_snr, power
from synthaudio.errors import AudioError, ConfigError, DatasetError
from synthaudio.features import FEATURE_CODE_VERSION, FeatureSettings, make_extractor, prepare_input
from synthaudio.fsutil import file_sha256
from synthaudio.manifest import Clip, read_manifest, select
from synthaudio.recognition.feature_cache import WAVEFORM_CODE_VERSION, ArrayCache, clip_key, default_cache_dir
from synthaudio.seeding import derive_seed, rng

SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}


class NoiseAugmentation(BaseModel):
    """Background noise mixed into training audio, as audiomentations' AddBackgroundNoise in the study (relative
    SNR drawn uniformly, noise polarity inverted with some probability), but seeded per (seed, epoch, clip)."""

    model_config = ConfigDict(extra="forbid")

    manifest: str = Field(description="clip manifest of the noise (e.g. synthetic ESC-50 clips)")
    split: str | None = Field(default=None, description="only these rows of the noise manifest; None: all rows")
    snr_db: tuple[float, float] = (3.0, 30.0)
    p: float = Field(default=1.0, ge=0, le=1, description="probability that a training clip gets noise")
    invert_polarity_p: float = Field(default=0.5, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> "NoiseAugmentation":
        if self.snr_db[0] > self.snr_db[1]:
            raise ValueError(f"snr_db must be (low, high) with low <= high, got {self.snr_db}")
        return self


# ---------------------------------------------------------------- which rows, and checks

def read_split(manifest: Path | str, split: str | None, role: str) -> list[Clip]:
    """The rows of `manifest` with `split` (None: all rows); an empty result is an error naming both."""
    clips = read_manifest(manifest)
    chosen = clips if split is None else select(clips, split=split)
    if not chosen:
        found = ", ".join(f"{name}: {count}" for name, count in sorted(Counter(c.split for c in clips).items()))
        wanted = "any rows" if split is None else f"rows with split '{split}'"
        raise DatasetError(f"{manifest}: no {wanted} for the {role} data (the manifest has {found or 'no rows'}); "
                           f"pass a manifest that has them or choose another split")
    return chosen


def clip_identity(clip: Clip) -> tuple[str, str, float]:
    """What seeds a clip's random draws: stable across machines and manifest moves (no absolute paths)."""
    return clip.id, file_sha256(clip.path), clip.offset


@dataclass(frozen=True)
class FileRecord:
    path: str
    sha256: str
    clip_id: str
    manifest: str


def file_records(clips: Sequence[Clip], manifest: str) -> list[FileRecord]:
    return [FileRecord(str(Path(c.path).resolve()), file_sha256(c.path), c.id, manifest) for c in clips]


def check_disjoint(train: Sequence[FileRecord], other: Sequence[FileRecord], other_role: str) -> None:
    """Refuse evaluation data that shares an audio file with the training data, by resolved path or by content
    (a copy under another name)."""
    by_path = {record.path: record for record in train}
    by_hash = {record.sha256: record for record in train}
    for record in other:
        seen = by_path.get(record.path)
        how = "is"
        if seen is None:
            seen, how = by_hash.get(record.sha256), "has the same audio content as"
        if seen is not None:
            target = "" if how == "is" else f" {seen.path}"
            raise DatasetError(
                f"{record.path} (clip '{record.clip_id}' of {record.manifest}) {how}{target} in the training data "
                f"(clip '{seen.clip_id}' of {seen.manifest}) and the {other_role} data: remove it from one of them, "
                f"or the {other_role} score is measured on training audio")


def check_labels_known(clips: Sequence[Clip], labels: Sequence[str], where: str) -> None:
    unknown = sorted({c.label for c in clips} - set(labels))
    if unknown:
        shown = ", ".join(repr(label) for label in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        raise DatasetError(f"{where}: label(s) {shown} unknown to the model (it knows {len(labels)}: "
                           f"{', '.join(labels[:10])}{' ...' if len(labels) > 10 else ''}); evaluate on data with "
                           f"the model's labels, or train with these classes")


# ---------------------------------------------------------------- features, cached

class FeatureStore:
    """Decoded waveforms and fixed-length unnormalised features of clips, from the on-disk cache when enabled.

    Two layers: the on-disk cache (shared by runs and processes) and, within this process, up to `memory_mb` of
    features kept in memory, so epochs after the first read neither disk nor audio. With `use_cache=False` every
    request decodes and computes again (the study's behaviour; the baseline of benchmarks/training.py).
    """

    def __init__(self, settings: FeatureSettings, cache_dir: Path | str | None = None, use_cache: bool = True,
                 memory_mb: float = 1024.0):
        self.settings = settings
        self.extractor = make_extractor(settings)
        self.use_cache = use_cache
        root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.feature_cache = ArrayCache(root / "features")
        self.waveform_cache = ArrayCache(root / "waveforms")
        self._extraction = settings.extraction()
        self._memory: dict[str, tuple[np.ndarray, int]] = {}
        self._memory_left = int(memory_mb * 2**20) if use_cache else 0

    def _remember(self, key: str, values: np.ndarray, valid: int) -> None:
        if values.nbytes <= self._memory_left:
            values.setflags(write=False)  # shared by every later epoch: nobody may change it in place
            self._memory[key] = (values, valid)
            self._memory_left -= values.nbytes

    def _feature_key(self, clip: Clip) -> str:
        return clip_key(clip, "features", self._extraction, FEATURE_CODE_VERSION)

    def waveform(self, clip: Clip) -> np.ndarray:
        """Mono float32 at the feature sample rate: the clip's segment, decoded and resampled (cached)."""
        key = clip_key(clip, "waveform", {"sample_rate": self.settings.sample_rate}, WAVEFORM_CODE_VERSION)
        if self.use_cache:
            hit = self.waveform_cache.get(key)
            if hit is not None:
                return hit[0]
        samples = load_audio(clip.path, self.settings.sample_rate, offset=clip.offset, duration=clip.duration)
        if self.use_cache:
            self.waveform_cache.put(key, samples, len(samples))
        return samples

    def compute(self, waveforms: Sequence[np.ndarray], clips: Sequence[Clip]) -> list[tuple[np.ndarray, int]]:
        """Features of waveforms (e.g. noisy versions of `clips`), never cached."""
        results = self.extractor(list(waveforms))
        for (_, valid), clip in zip(results, clips, strict=True):
            if valid <= 0:
                raise AudioError(clip.path, f"clip '{clip.id}' is shorter than one "
                                            f"{self.settings.frame_length_ms:g} ms analysis frame")
        return results

    def features(self, clips: Sequence[Clip], batch_size: int = 32) -> list[tuple[np.ndarray, int]]:
        """(features, valid frames) of each clip, computing (in batches) and storing what the cache lacks."""
        results: list[tuple[np.ndarray, int] | None] = [None] * len(clips)
        missing: list[int] = []
        keys = [self._feature_key(c) for c in clips] if self.use_cache else [None] * len(clips)
        for index, key in enumerate(keys):
            hit = None
            if key:
                hit = self._memory.get(key)
                if hit is None:
                    hit = self.feature_cache.get(key, self.settings.time_axis)
                    if hit is not None:
                        self._remember(key, *hit)
            if hit is None:
                missing.append(index)
            else:
                results[index] = hit
        for first in range(0, len(missing), batch_size):
            chunk = missing[first: first + batch_size]
            computed = self.compute([self.waveform_uncached(clips[i]) for i in chunk], [clips[i] for i in chunk])
            for index, (values, valid) in zip(chunk, computed, strict=True):
                if self.use_cache:
                    self.feature_cache.put(keys[index], values, valid, self.settings.time_axis)
                    self._remember(keys[index], values, valid)
                results[index] = (values, valid)
        return results  # type: ignore[return-value]

    def waveform_uncached(self, clip: Clip) -> np.ndarray:
        # features are cached themselves: do not also store the waveform of every clip
        return load_audio(clip.path, self.settings.sample_rate, offset=clip.offset, duration=clip.duration)

    def prepare(self, clips: Sequence[Clip], progress: Callable[[int, int], None] | None = None,
                batch_size: int = 32) -> None:
        """Fill the cache for `clips` (nothing to do without a cache: features are computed when used)."""
        if not self.use_cache:
            return
        for first in range(0, len(clips), batch_size):
            self.features(clips[first: first + batch_size], batch_size)
            if progress:
                progress(min(first + batch_size, len(clips)), len(clips))


# ---------------------------------------------------------------- noise

class NoiseBank:
    """Noise clips to mix into signals; the clip, its excerpt and polarity are drawn from the caller's rng."""

    def __init__(self, clips: Sequence[Clip], store: FeatureStore, manifest: str, memory_clips: int = 64):
        if not clips:
            raise DatasetError(f"{manifest}: no noise clips")
        self.clips = list(clips)
        self.store = store
        self.manifest = manifest
        self._memory: OrderedDict[int, np.ndarray] = OrderedDict()
        self._memory_clips = memory_clips

    def _noise(self, index: int) -> np.ndarray:
        if index in self._memory:
            self._memory.move_to_end(index)
            return self._memory[index]
        samples = self.store.waveform(self.clips[index])
        if power(samples) == 0.0:
            clip = self.clips[index]
            raise DatasetError(f"{self.manifest}: noise clip '{clip.id}' ({clip.path}) is silent; remove it from "
                               f"the noise manifest")
        self._memory[index] = samples
        if len(self._memory) > self._memory_clips:
            self._memory.popitem(last=False)
        return samples

    def mix(self, signal: np.ndarray, snr_db: float, generator: np.random.Generator,
            invert_polarity_p: float = 0.0) -> tuple[np.ndarray, str]:
        """(signal + noise at `snr_db` over the whole clip, the id of the noise clip used)."""
        index = int(generator.integers(len(self.clips)))
        mixed = mix_at_snr(signal, self._noise(index), snr_db, generator, invert_polarity_p=invert_polarity_p)
        return mixed, self.clips[index].id


# ---------------------------------------------------------------- datasets and sampling

class ClipDataset(torch.utils.data.Dataset):
    """Model inputs of clips: cached features (or features of a noisy waveform), SpecAugment when training,
    normalisation. Items: (input, label index, valid frames)."""

    def __init__(self, clips: Sequence[Clip], label_index: dict[str, int], store: FeatureStore, seed: int = 0,
                 train: bool = False, noise: NoiseBank | None = None,
                 augmentation: NoiseAugmentation | None = None):
        if (noise is None) != (augmentation is None):
            raise ConfigError("noise augmentation needs both a noise bank and its settings")
        self.clips = list(clips)
        self.label_index = label_index
        self.store = store
        self.seed = seed
        self.train = train
        self.noise = noise
        self.augmentation = augmentation
        self.epoch = 0
        self.silent_skipped = 0

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int):
        clip = self.clips[index]
        identity = clip_identity(clip)
        noisy = self._noisy(clip, identity)
        values, valid = noisy if noisy is not None else self.store.features([clip])[0]
        augment_rng = rng(self.seed, "specaugment", self.epoch, *identity) if self.train else None
        model_input = prepare_input(values, self.store.settings, augment_rng)
        return torch.from_numpy(model_input), self.label_index[clip.label], valid

    def _noisy(self, clip: Clip, identity) -> tuple[np.ndarray, int] | None:
        if not (self.train and self.noise is not None):
            return None
        draw = rng(self.seed, "noise", self.epoch, *identity)
        if draw.random() >= self.augmentation.p:
            return None
        signal = self.store.waveform(clip)
        if power(signal) == 0.0:
            # no SNR is defined against silence; audiomentations also leaves such clips as they are
            self.silent_skipped += 1
            return None
        snr_db = float(draw.uniform(*self.augmentation.snr_db))
        mixed, _ = self.noise.mix(signal, snr_db, draw, self.augmentation.invert_polarity_p)
        return self.store.compute([mixed], [clip])[0]


def source_weights_per_clip(clips: Sequence[Clip], source_weights: dict[str, float]) -> np.ndarray:
    """Sampling weight of each clip so that each source is drawn with its given share (e.g. half synthetic,
    half real, whatever the clip counts)."""
    counts = Counter(c.source for c in clips)
    unknown = sorted(set(counts) - set(source_weights))
    if unknown:
        raise ConfigError(f"source weights name {sorted(source_weights)} but the training data also has source(s) "
                          f"{unknown}: give every source a weight (e.g. synthetic=0.5,real=0.5)")
    absent = sorted(s for s, w in source_weights.items() if w > 0 and s not in counts)
    if absent:
        raise ConfigError(f"source weights give weight to {absent}, but the training data has no such clips")
    if any(w < 0 for w in source_weights.values()) or sum(source_weights[s] for s in counts) <= 0:
        raise ConfigError(f"source weights must be >= 0 with a positive total, got {source_weights}")
    return np.array([source_weights[c.source] / counts[c.source] for c in clips], dtype=np.float64)


def epoch_order(num_clips: int, seed: int, epoch: int, weights: np.ndarray | None = None) -> list[int]:
    """The clip indices of one training epoch: a seeded permutation, or `num_clips` seeded weighted draws with
    replacement (torch's WeightedRandomSampler) when per-clip weights are given."""
    generator = torch.Generator().manual_seed(derive_seed(seed, "order", epoch))
    if weights is None:
        return torch.randperm(num_clips, generator=generator).tolist()
    sampler = torch.utils.data.WeightedRandomSampler(torch.as_tensor(weights), num_samples=num_clips,
                                                     replacement=True, generator=generator)
    return list(sampler)


def collate(items):
    inputs, labels, valid = zip(*items, strict=True)
    return torch.stack(inputs), torch.tensor(labels, dtype=torch.long), torch.tensor(valid, dtype=torch.long)


def loader(dataset: ClipDataset, batch_size: int, order: Sequence[int] | None = None, num_workers: int = 0):
    """Batches in `order` (None: the dataset's order)."""
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size,
                                       sampler=list(order) if order is not None else None, shuffle=False,
                                       collate_fn=collate, num_workers=num_workers)
