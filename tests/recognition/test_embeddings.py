"""Clip embeddings for the domain gap and the CLAP scorer: a trained run's penultimate layer, tiny randomly
initialised CLAP and Whisper of the real architectures; cached by audio content; a pretrained encoder that is
not on the machine is one clear error, never a download. (The CLAP scorer: tests/study/test_clap_scorer.py.)"""

import numpy as np
import pytest

from synthaudio.manifest import read_manifest, select
from synthaudio.recognition import embeddings
from synthaudio.report.domain_gap import kernel_distance
from tests.fixtures.tiny_encoders import save_tiny_clap, save_tiny_whisper

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_clap(tmp_path_factory):
    return save_tiny_clap(tmp_path_factory.mktemp("tiny-clap"))


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory):
    return save_tiny_whisper(tmp_path_factory.mktemp("tiny-whisper"))


def test_classifier_embeddings_put_a_class_near_itself_and_are_cached(trained_run, tones, synthetic_tones,
                                                                      tmp_path, monkeypatch):
    real = select(read_manifest(tones), split="test")
    synthetic = read_manifest(synthetic_tones)
    cache = tmp_path / "cache"
    real_embeddings = embeddings.classifier_embeddings(trained_run.run_dir, real, cache)
    synthetic_embeddings = embeddings.classifier_embeddings(trained_run.run_dir, synthetic, cache)
    assert real_embeddings.shape[0] == len(real) and real_embeddings.shape[1] > 3

    def of(values, clips, label):
        return values[[clip.label == label for clip in clips]]

    same = kernel_distance(of(real_embeddings, real, "low"), of(synthetic_embeddings, synthetic, "low"))
    other = kernel_distance(of(real_embeddings, real, "low"), of(synthetic_embeddings, synthetic, "high"))
    assert same < other  # a synthetic tone of the right pitch lies nearer the real class than another pitch

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded although every embedding is cached")

    monkeypatch.setattr(embeddings, "load_run", no_model)
    again = embeddings.classifier_embeddings(trained_run.run_dir, real, cache)
    np.testing.assert_array_equal(again, real_embeddings)


def test_tiny_clap_and_whisper_embed_and_cache(tones, tiny_clap, tiny_whisper, tmp_path, monkeypatch):
    clips = select(read_manifest(tones), split="test")[:5]
    clap = embeddings.clap_embeddings(clips, str(tiny_clap), tmp_path)
    whisper = embeddings.whisper_embeddings(clips, str(tiny_whisper), tmp_path)
    assert clap.shape == (5, 16) and whisper.shape == (5, 16)
    assert np.isfinite(clap).all() and np.isfinite(whisper).all()
    assert not np.allclose(clap[0], clap[1])  # different clips, different embeddings

    import transformers

    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded although every embedding is cached")

    monkeypatch.setattr(transformers.ClapModel, "from_pretrained", no_model)
    monkeypatch.setattr(transformers.WhisperModel, "from_pretrained", no_model)
    np.testing.assert_array_equal(embeddings.clap_embeddings(clips, str(tiny_clap), tmp_path), clap)
    np.testing.assert_array_equal(embeddings.whisper_embeddings(clips, str(tiny_whisper), tmp_path), whisper)


def test_an_encoder_not_in_the_cache_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(embeddings.EncoderUnavailable, match="laion/clap-htsat-unfused: not in the Hugging Face "
                                                            "cache .*huggingface-cli download"):
        embeddings.resolve_checkpoint("laion/clap-htsat-unfused")
