import shutil
import threading

import numpy as np
import pytest
import soundfile

from synthaudio.features import FeatureSettings
from synthaudio.manifest import read_manifest
from synthaudio.recognition.data import FeatureStore
from synthaudio.recognition.feature_cache import ArrayCache, default_cache_dir


class CountingExtractor:
    """Wraps a store's extractor and counts the clips it had to compute."""

    def __init__(self, store):
        self.inner, self.clips = store.extractor, 0
        store.extractor = self

    def __call__(self, waveforms):
        self.clips += len(waveforms)
        return self.inner(waveforms)


@pytest.fixture
def clips(make_tones, tmp_path):
    return read_manifest(make_tones(tmp_path / "data", {"train": 2}))


def test_second_request_reads_the_cache(clips, tmp_path):
    settings = FeatureSettings(target_frames=80)
    first_store = FeatureStore(settings, tmp_path / "cache")
    counter = CountingExtractor(first_store)
    first = first_store.features(clips)
    assert counter.clips == len(clips)
    later_run = FeatureStore(settings, tmp_path / "cache")  # a later run in another process would do the same
    later_counter = CountingExtractor(later_run)
    again = later_run.features(clips)
    assert later_counter.clips == 0
    for (a, valid_a), (b, valid_b) in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
        assert valid_a == valid_b == 48
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_key_follows_content_and_settings_not_file_names(clips, tmp_path):
    store = FeatureStore(FeatureSettings(target_frames=80), tmp_path / "cache")
    store.features(clips[:1])
    copy = tmp_path / "copy.wav"
    shutil.copy(clips[0].path, copy)
    renamed = clips[0].model_copy(update={"path": str(copy), "id": "renamed"})
    counter = CountingExtractor(store)
    store.features([renamed])
    assert counter.clips == 0  # same bytes under another name: a hit
    other_settings = FeatureStore(FeatureSettings(target_frames=80, num_mel_bins=64), tmp_path / "cache")
    other_counter = CountingExtractor(other_settings)
    other_settings.features(clips[:1])
    assert other_counter.clips == 1  # any extraction setting changes the key
    shifted = clips[0].model_copy(update={"offset": 0.1, "duration": 0.3})
    store.features([shifted])
    assert counter.clips == 1  # a different segment of the same file
    # normalisation and SpecAugment are applied after loading: they share the entry
    normalised_differently = FeatureStore(FeatureSettings(target_frames=80, norm_mean=3.0, freq_mask=2),
                                          tmp_path / "cache")
    shared = CountingExtractor(normalised_differently)
    normalised_differently.features(clips[:1])
    assert shared.clips == 0
    soundfile.write(str(copy), np.random.default_rng(0).standard_normal(8000).astype(np.float32) * 0.1, 16000)
    counter_after_edit = CountingExtractor(store)
    store.features([renamed])
    assert counter_after_edit.clips == 1  # edited content under the same name: a miss


def test_uncached_store_recomputes_every_time(clips, tmp_path):
    store = FeatureStore(FeatureSettings(target_frames=80), tmp_path / "cache", use_cache=False)
    counter = CountingExtractor(store)
    store.features(clips)
    store.features(clips)
    assert counter.clips == 2 * len(clips)
    assert not (tmp_path / "cache").exists()


def test_padding_is_stored_once_and_restored(tmp_path):
    cache = ArrayCache(tmp_path)
    values = np.zeros((512, 128), dtype=np.float32)
    values[:100] = np.random.default_rng(0).standard_normal((100, 128))
    cache.put("ab" * 32, values, 100)
    assert cache.path("ab" * 32).stat().st_size < values.nbytes / 4
    restored, valid = cache.get("ab" * 32)
    np.testing.assert_array_equal(restored, values)
    assert valid == 100
    whisper_like = np.full((80, 300), -0.7, dtype=np.float32)
    whisper_like[:, :40] = 1.0
    cache.put("cd" * 32, whisper_like, 40, time_axis=1)
    np.testing.assert_array_equal(cache.get("cd" * 32, time_axis=1)[0], whisper_like)


def test_damaged_entry_is_recomputed(clips, tmp_path):
    store = FeatureStore(FeatureSettings(target_frames=80), tmp_path / "cache")
    expected = store.features(clips[:1])[0][0]
    entry = next((tmp_path / "cache" / "features").rglob("*.f32"))
    entry.write_bytes(b"not an entry")
    later = FeatureStore(FeatureSettings(target_frames=80), tmp_path / "cache")
    counter = CountingExtractor(later)
    np.testing.assert_array_equal(later.features(clips[:1])[0][0], expected)
    assert counter.clips == 1
    assert later.feature_cache.get(entry.stem) is not None  # rewritten


def test_later_epochs_read_memory_not_disk(clips, tmp_path):
    store = FeatureStore(FeatureSettings(target_frames=80), tmp_path / "cache")
    first = store.features(clips)
    shutil.rmtree(tmp_path / "cache")
    counter = CountingExtractor(store)
    again = store.features(clips)
    assert counter.clips == 0 and all(a[0] is b[0] for a, b in zip(first, again, strict=True))
    with pytest.raises(ValueError):
        again[0][0][0, 0] = 1.0  # shared between epochs: read-only
    no_memory = FeatureStore(FeatureSettings(target_frames=80), tmp_path / "cache", memory_mb=0)
    no_memory.features(clips)
    shutil.rmtree(tmp_path / "cache")
    counter = CountingExtractor(no_memory)
    no_memory.features(clips)
    assert counter.clips == len(clips)


def test_concurrent_writers_leave_readable_entries(clips, tmp_path):
    settings = FeatureSettings(target_frames=80)
    errors = []

    def work():
        try:
            for _ in range(3):
                FeatureStore(settings, tmp_path / "cache").features(clips)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    entries = list((tmp_path / "cache" / "features").rglob("*.f32"))
    assert len(entries) == len(clips)
    assert not list((tmp_path / "cache").rglob("*.tmp"))
    cache = ArrayCache(tmp_path / "cache" / "features")
    assert all(cache.get(entry.stem) is not None for entry in entries)


def test_cache_location_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTHAUDIO_CACHE", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("SYNTHAUDIO_CACHE")
    assert default_cache_dir().name == "synthaudio"
