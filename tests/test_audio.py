import math

import numpy as np
import pytest
import soundfile

from synthaudio.audio import (
    audio_info,
    band_limit,
    fix_length,
    load_audio,
    loudness_normalize,
    measured_snr_db,
    mix_at_snr,
    peak_normalize,
    write_wav,
)
from synthaudio.errors import AudioError
from tests.conftest import tone
from tests.fixtures.media import write_video


def dominant_hz(samples, sample_rate):
    spectrum = np.abs(np.fft.rfft(samples))
    return np.argmax(spectrum) * sample_rate / len(samples)


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_loads_audio_formats_as_mono_float32_at_target_rate(write_tone, fmt):
    path = write_tone(f"a.{fmt}", frequency=1000, seconds=1.0, sample_rate=44100, channels=2)
    samples = load_audio(path, sample_rate=16000)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - 16000) <= 1200  # lossy codecs add priming/padding
    assert abs(dominant_hz(samples, 16000) - 1000) < 5
    duration, rate = audio_info(path)
    assert rate == 44100 and abs(duration - 1.0) < 0.1


@pytest.mark.parametrize("suffix", [".mp4", ".avi", ".mkv"])
def test_loads_the_audio_track_of_videos(tmp_path, suffix):
    path = write_video(tmp_path / f"v{suffix}", seconds=1.0, frequency=500)
    samples = load_audio(path, sample_rate=8000)
    assert abs(len(samples) - 8000) < 1000 and abs(dominant_hz(samples, 8000) - 500) < 10
    segment = load_audio(path, sample_rate=8000, offset=0.25, duration=0.5)
    assert len(segment) == 4000
    assert abs(audio_info(path)[0] - 1.0) < 0.15


def test_segments_of_audio_files(write_tone):
    path = write_tone("a.wav", seconds=2.0)
    assert len(load_audio(path, offset=1.5)) == 8000
    assert len(load_audio(path, offset=0.5, duration=1.0)) == 16000
    with pytest.raises(AudioError, match=r"a.wav: offset 3.000 s is past the end of the audio \(2.000 s\)"):
        load_audio(path, offset=3.0)


def test_bad_audio_raises_one_error_naming_file_and_problem(tmp_path, write_tone):
    cases = {}
    (tmp_path / "empty.wav").write_bytes(b"")
    cases["empty.wav"] = r"empty file \(0 bytes\)"
    whole = write_tone("whole.wav").read_bytes()
    (tmp_path / "truncated.wav").write_bytes(whole[: len(whole) // 2])
    cases["truncated.wav"] = r"truncated: the data chunk promises 32000 bytes"
    (tmp_path / "text.wav").write_text("this is not audio at all")
    cases["text.wav"] = "not a readable audio or video file"
    write_video(tmp_path / "silent_film.mp4", audio=False)
    cases["silent_film.mp4"] = "has no audio track"
    bad = tone()
    bad[10] = np.nan
    soundfile.write(str(tmp_path / "nan.wav"), bad, 16000, subtype="FLOAT")
    cases["nan.wav"] = "contains NaN or Inf samples"
    soundfile.write(str(tmp_path / "zero.wav"), np.zeros(0, np.float32), 16000)
    cases["zero.wav"] = r"contains no audio samples \(zero length\)"
    cases["missing.wav"] = "file not found"
    for name, message in cases.items():
        with pytest.raises(AudioError, match=message) as caught:
            load_audio(tmp_path / name)
        assert str(caught.value).startswith(str(tmp_path / name) + ": ")
        assert "\n" not in str(caught.value)


def test_fix_length_crops_at_offset_and_pads():
    samples = np.arange(10, dtype=np.float32)
    assert fix_length(samples, 4, offset=3).tolist() == [3, 4, 5, 6]
    assert fix_length(samples, 12, offset=8).tolist() == [8, 9] + [0] * 10


def test_peak_and_loudness_normalisation():
    samples = tone(seconds=1.0, amplitude=0.1)
    assert math.isclose(float(np.abs(peak_normalize(samples, -1.0)).max()), 10 ** (-1 / 20), rel_tol=1e-5)
    assert not peak_normalize(np.zeros(100, np.float32)).any()
    import pyloudnorm

    louder = loudness_normalize(samples, 16000, target_lufs=-20.0)
    assert abs(pyloudnorm.Meter(16000).integrated_loudness(louder.astype(np.float64)) + 20.0) < 0.1
    with pytest.raises(ValueError, match="at least 0.4 s"):
        loudness_normalize(samples[:1000], 16000)


@pytest.mark.parametrize("subtype, expected", [("pcm16", "PCM_16"), ("float", "FLOAT")])
def test_write_wav_is_atomic_and_round_trips(tmp_path, subtype, expected):
    path = tmp_path / "out" / "a.wav"
    write_wav(path, tone(), 16000, subtype=subtype)
    assert soundfile.info(str(path)).subtype == expected
    assert np.allclose(load_audio(path), tone(), atol=1e-4)
    with pytest.raises(AudioError, match="refusing to write NaN"):
        write_wav(path, np.full(10, np.nan, np.float32), 16000)
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.wav"]  # no temporary left, old file intact


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 7.5, 20.0])
def test_mix_at_snr_hits_the_target(snr_db):
    signal = tone(seconds=1.0)
    noise = np.random.default_rng(0).normal(size=5000).astype(np.float32)  # shorter than the signal: looped
    rng = np.random.default_rng(1)
    mixture = mix_at_snr(signal, noise, snr_db, rng)
    assert abs(measured_snr_db(signal, mixture - signal) - snr_db) < 0.1
    again = mix_at_snr(signal, noise, snr_db, np.random.default_rng(1))
    assert np.array_equal(mixture, again)


def test_band_limit_removes_energy_above_the_telephone_band():
    sample_rate = 22050
    wide = tone(300, sample_rate=sample_rate) + tone(6000, sample_rate=sample_rate)
    narrow = band_limit(wide, sample_rate, 8000)
    spectrum = np.abs(np.fft.rfft(narrow))
    freqs = np.fft.rfftfreq(len(narrow), 1 / sample_rate)
    assert spectrum[freqs > 4100].max() < 0.01 * spectrum.max()
    assert len(narrow) == len(wide)
