import numpy as np
import pytest
import torch

from synthaudio.features import (
    FLOAT_EPSILON,
    FeatureSettings,
    KaldiFbankExtractor,
    WhisperLogMelExtractor,
    fix_frames,
    kaldi_fbank,
    mel_banks,
    normalise,
    num_fbank_frames,
    prepare_input,
    spec_augment,
)

SAMPLE_RATE = 16000


def chirp(seconds=1.5, seed=0):
    generator = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    chirp = 0.3 * np.sin(2 * np.pi * (200 + 1500 * t) * t) + 0.05 * generator.standard_normal(len(t))
    return chirp.astype(np.float32)


def knf_fbank(samples: np.ndarray, bins: int) -> np.ndarray:
    """kaldi-native-fbank with Kaldi's classic settings as torchaudio/SSAST use them."""
    import kaldi_native_fbank as knf

    options = knf.FbankOptions()
    options.frame_opts.samp_freq = SAMPLE_RATE
    options.frame_opts.dither = 0.0
    options.frame_opts.window_type = "hanning"
    options.frame_opts.preemph_coeff = 0.97
    options.frame_opts.remove_dc_offset = True
    options.frame_opts.snip_edges = True
    options.frame_opts.round_to_power_of_two = True
    options.mel_opts.num_bins = bins
    options.mel_opts.low_freq = 20.0
    options.mel_opts.high_freq = 0.0
    options.mel_opts.use_slaney_mel_scale = False  # Kaldi/HTK mel: 1127 ln(1 + f/700)
    options.mel_opts.is_librosa = False
    options.use_energy = False
    options.use_log_fbank = True
    options.use_power = True
    computer = knf.OnlineFbank(options)
    computer.accept_waveform(SAMPLE_RATE, samples.tolist())
    computer.input_finished()
    return np.stack([computer.get_frame(i) for i in range(computer.num_frames_ready)])


@pytest.mark.parametrize("bins", [80, 40])
def test_fbank_matches_kaldi_native_fbank(bins):
    samples = chirp()
    ours = kaldi_fbank(torch.from_numpy(samples), FeatureSettings(num_mel_bins=bins, subtract_waveform_mean=False))
    reference = knf_fbank(samples, bins)
    assert ours.shape[1:] == reference.shape
    # Both compute in float32 with different FFTs and summation orders: a relative power error of ~1e-5 gives
    # ~1e-5 in log units; 1e-3 (0.1 % power) leaves room for the quietest cells while any difference in window,
    # pre-emphasis or mel scale shows up as 1e-2 or more (checked below with the wrong window).
    assert np.abs(ours[0].numpy() - reference).max() < 1e-3
    wrong = kaldi_fbank(torch.from_numpy(samples), FeatureSettings(num_mel_bins=bins, window_type="povey"))
    assert np.abs(wrong[0].numpy() - reference).max() > 1e-2


def test_128_bins_keep_empty_low_filters_like_torchaudio():
    import kaldi_native_fbank as knf

    with pytest.raises(Exception, match="num_mel_bins|too large|empty"):
        knf_fbank(chirp(0.2), 128)
    banks = mel_banks(128, 512, 16000.0, 20.0, 0.0)
    empty = (banks.sum(dim=1) == 0).nonzero().flatten().tolist()
    assert empty and max(empty) < 10  # some of the lowest filters get no FFT bin
    features = kaldi_fbank(torch.from_numpy(chirp()), FeatureSettings())
    assert features.shape == (1, num_fbank_frames(len(chirp()), FeatureSettings()), 128)
    assert torch.all(features[0, :, empty] == np.log(FLOAT_EPSILON))
    assert knf is not None


def test_batched_equals_one_by_one_and_lengths_are_kept():
    settings = FeatureSettings(target_frames=120)
    clips = [chirp(0.4, 1), chirp(1.5, 2), chirp(0.9, 3)]
    extractor = KaldiFbankExtractor(settings)
    together = extractor(clips)
    for clip, (features, valid) in zip(clips, together, strict=True):
        alone, alone_valid = extractor([clip])[0]
        np.testing.assert_array_equal(features, alone)
        assert valid == alone_valid == min(num_fbank_frames(len(clip), settings), 120)
        assert features.shape == (120, 128)
    short_features, short_valid = together[0]
    assert short_valid == 38 and np.all(short_features[short_valid:] == 0)  # padded with zeros as the study


def test_fix_frames_cuts_and_pads_along_the_time_axis():
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert fix_frames(values, 2).shape == (2, 4)
    padded = fix_frames(values, 5, time_axis=1, fill=-1.0)
    assert padded.shape == (3, 5) and np.all(padded[:, 4] == -1.0)


def test_normalisation_is_the_studys_formula():
    values = np.array([[-6.6268, 4.0901]], dtype=np.float32)  # mean, mean + 2 std: (x + 6.6268) / (2 * 5.3585)
    np.testing.assert_allclose(normalise(values, FeatureSettings()), [[0.0, 1.0]], atol=1e-4)
    custom = FeatureSettings(norm_mean=1.0, norm_std=0.5)
    np.testing.assert_allclose(normalise(np.array([2.0]), custom), [1.0])
    assert normalise(values, FeatureSettings(normalisation="none")) is not None


def test_spec_augment_is_seeded_and_only_with_a_generator():
    settings = FeatureSettings(target_frames=512)
    features = np.random.default_rng(0).standard_normal((512, 128)).astype(np.float32) + 5
    first = prepare_input(features, settings, np.random.default_rng(7))
    again = prepare_input(features, settings, np.random.default_rng(7))
    other = prepare_input(features, settings, np.random.default_rng(8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    clean = prepare_input(features, settings, None)
    np.testing.assert_array_equal(clean, normalise(features, settings))
    masked_rows = np.where(np.all(first == 0, axis=1))[0]
    masked_columns = np.where(np.all(first == 0, axis=0))[0]
    assert len(masked_rows) < 96 and len(masked_columns) < 24  # widths below the study's maxima
    assert np.all(np.diff(masked_rows) == 1) or len(masked_rows) <= 1


def test_mask_widths_scale_with_small_inputs():
    assert FeatureSettings().mask_widths() == (24, 96)
    assert FeatureSettings(target_frames=100).mask_widths() == (24, 19)
    assert FeatureSettings(num_mel_bins=64, target_frames=1024).mask_widths() == (12, 96)
    assert FeatureSettings(freq_mask=5, time_mask=7).mask_widths() == (5, 7)
    rows = np.ones((100, 128), dtype=np.float32)
    widest = max(int(np.all(spec_augment(rows, FeatureSettings(target_frames=100), np.random.default_rng(s)) == 0,
                            axis=1).sum()) for s in range(50))
    assert 0 < widest <= 19  # torchaudio rule: int(start + width) - int(start) <= max width


def test_whisper_log_mel_has_the_encoder_window():
    settings = FeatureSettings(kind="whisper_logmel", num_mel_bins=80, target_frames=100, normalisation="none")
    extractor = WhisperLogMelExtractor(settings)
    (short, short_valid), (long, long_valid) = extractor([chirp(0.3), chirp(1.5)])
    assert short.shape == long.shape == (80, 100)
    assert short_valid == 30 and long_valid == 100
    assert settings.shape == (80, 100) and settings.time_axis == 1
