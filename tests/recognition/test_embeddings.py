"""Clip embeddings for the domain gap and the CLAP scorer: a trained run's penultimate layer, tiny randomly
initialised CLAP and Whisper of the real architectures; cached by audio content; a pretrained encoder that is
not on the machine is one clear error, never a download."""

import numpy as np
import pytest

from synthaudio.errors import ConfigError
from synthaudio.manifest import read_manifest, select
from synthaudio.recognition import embeddings
from synthaudio.report.domain_gap import kernel_distance
from synthaudio.study.clap_scorer import ClapScorer
from tests.fixtures.tiny_encoders import save_tiny_clap, save_tiny_whisper


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


class _Config:
    def error(self, loc, problem):
        return ConfigError(f"study.yaml: {'.'.join(str(part) for part in loc)}: {problem}")


class _Context:
    def __init__(self, labels, cache_dir):
        self.config = _Config()
        self.prepared = {"tones": type("Info", (), {"labels": labels})()}
        self.cache_dir = cache_dir


def test_clap_scorer_scores_each_clip_against_its_caption(synthetic_tones, tiny_clap, tmp_path):
    ctx = _Context(["high", "low", "mid"], tmp_path)
    scoring, deps = ClapScorer().plan(ctx, "filtered", "tones", 0.5, 0, {"checkpoint": str(tiny_clap)})
    assert deps == () and scoring.captions["low"] == "the sound of low"
    scores = scoring.score(synthetic_tones)
    assert set(scores) == {clip.id for clip in read_manifest(synthetic_tones)}
    assert all(0.0 <= score <= 1.0 for score in scores.values())
    # probability: over the three captions, the scores of one clip's three labels would sum to one; a random
    # CLAP is near chance
    assert 0.2 < np.mean(list(scores.values())) < 0.5
    similarity, _ = ClapScorer().plan(ctx, "filtered", "tones", 0.5, 0,
                                      {"checkpoint": str(tiny_clap), "score": "similarity",
                                       "caption": "a {label} tone"})
    assert similarity.identity() != scoring.identity()
    assert all(0.0 <= score <= 1.0 for score in similarity.score(synthetic_tones).values())


@pytest.mark.parametrize("options, message", [
    ({"threshold": 0.3}, "options.threshold: unknown option of scorer 'clap' (its options: checkpoint, caption, "
                         "score)"),
    ({"caption": "a tone"}, "options.caption: 'a tone' has no {label}"),
    ({"score": "logit"}, "options.score: 'logit' is not a score of scorer 'clap'"),
    ({"checkpoint": "nobody/no-such-clap"}, "options.checkpoint: nobody/no-such-clap: not in the Hugging Face cache"),
])
def test_clap_scorer_options_are_checked(options, message, tmp_path):
    with pytest.raises(ConfigError) as error:
        ClapScorer().plan(_Context(["low"], tmp_path), "filtered", "tones", 0.5, 0, options)
    assert f"study.yaml: experiments.filtered.clip_filter.{message}" in str(error.value)
