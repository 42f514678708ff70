"""features.pad: a clip shorter than target_frames is padded with the study's zeros (default) or with the log floor
of digital silence, which is what padding the audio itself gives."""

import math

import numpy as np

from synthaudio.features import FLOAT_EPSILON, FeatureSettings, make_extractor
from tests.conftest import tone


def test_default_padding_and_cache_keys_are_unchanged():
    settings = FeatureSettings(target_frames=100, num_mel_bins=64)
    assert settings.pad == "zeros" and "pad" not in settings.extraction()  # caches made before `pad` stay valid
    silence = FeatureSettings(target_frames=100, num_mel_bins=64, pad="silence")
    assert silence.extraction() == {**settings.extraction(), "pad": "silence"}


def test_silence_padding_equals_padding_the_audio_with_silence():
    short = tone(440.0, seconds=0.7)  # 68 frames of a 100-frame window, like a recorded digit
    padded_audio = np.concatenate([short, np.zeros(16000 - len(short), dtype=np.float32)])
    zeros = FeatureSettings(target_frames=100, num_mel_bins=64, subtract_waveform_mean=False)
    silence = zeros.model_copy(update={"pad": "silence"})
    (by_zeros, valid), = make_extractor(zeros)([short])
    (by_silence, _), = make_extractor(silence)([short])
    (from_audio, _), = make_extractor(silence)([padded_audio])
    assert valid == 68
    assert np.array_equal(by_zeros[:valid], by_silence[:valid])  # the clip's own frames are untouched
    assert np.all(by_zeros[valid:] == 0.0)  # the study's padding: louder, over the band, than the tone's frames
    assert by_zeros[:valid].mean(axis=1).max() < 0.0
    assert np.all(by_silence[valid:] == np.float32(math.log(FLOAT_EPSILON)))
    # frames wholly inside the appended silence are exactly the floor; the two frames that straddle the end differ
    assert np.array_equal(by_silence[valid + 2:], from_audio[valid + 2:])
