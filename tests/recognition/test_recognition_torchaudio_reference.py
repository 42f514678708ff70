"""Our fbank against torchaudio's own (the study's feature code), where torchaudio is installed.

torchaudio has no wheel for this project's torch on CPU machines, so this module is skipped there; it runs where
torchaudio exists (e.g. the GPU machines' images), and was run there.
"""

import numpy as np
import pytest
import torch

from synthaudio.features import FeatureSettings, KaldiFbankExtractor, kaldi_fbank, normalise

kaldi = pytest.importorskip("torchaudio.compliance.kaldi", reason="torchaudio is not installed here")


def signals():
    generator = np.random.default_rng(0)
    t = np.arange(16000 * 3) / 16000
    yield (0.3 * np.sin(2 * np.pi * (200 + 900 * t) * t) + 0.05 * generator.standard_normal(len(t))).astype(np.float32)
    yield (0.1 * generator.standard_normal(16000 * 6)).astype(np.float32)  # longer than 512 frames
    quiet = np.zeros(8000, dtype=np.float32)
    quiet[4000:4100] = 0.5  # mostly digital silence: exercises the epsilon floor
    yield quiet


@pytest.mark.parametrize("bins", [128, 80])
def test_fbank_equals_torchaudio(bins):
    for samples in signals():
        waveform = torch.from_numpy(samples)
        theirs = kaldi.fbank(waveform.unsqueeze(0), htk_compat=True, sample_frequency=16000, use_energy=False,
                             window_type="hanning", num_mel_bins=bins, dither=0.0, frame_shift=10)
        ours = kaldi_fbank(waveform, FeatureSettings(num_mel_bins=bins))[0]
        assert ours.shape == theirs.shape
        # same float32 operations in the same order: differences are rounding in the FFT only
        assert (ours - theirs).abs().max().item() < 1e-4


def test_model_input_equals_the_studys_pipeline():
    """usc-sail/SynthAudio AudioDatasetGenerator._wav2fbank: mean removal, fbank, zero pad/cut to 512, normalise."""
    settings = FeatureSettings()
    extractor = KaldiFbankExtractor(settings)
    for samples in signals():
        waveform = torch.from_numpy(samples).unsqueeze(0)
        waveform = waveform - waveform.mean()
        fbank = kaldi.fbank(waveform, htk_compat=True, sample_frequency=16000, use_energy=False,
                            window_type="hanning", num_mel_bins=128, dither=0.0, frame_shift=10)
        frames = fbank.shape[0]
        fbank = torch.nn.functional.pad(fbank, (0, 0, 0, 512 - frames)) if frames < 512 else fbank[:512]
        study = ((fbank - -6.6268077) / (5.358466 * 2)).numpy()
        ours = normalise(extractor([samples])[0][0], settings)
        assert np.abs(ours - study).max() < 1e-4
