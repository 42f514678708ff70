"""The `clap` clip scorer of the clip-level filter, on a tiny randomly initialised CLAP of the real architecture:
a score in [0, 1] per clip against its label's caption; every option checked with one line naming the field."""

import numpy as np
import pytest

from synthaudio.errors import ConfigError
from synthaudio.manifest import read_manifest
from synthaudio.study.clap_scorer import ClapScorer
from synthaudio.study.registries import SCORERS
from tests.fixtures.tiny_encoders import save_tiny_clap
from tests.recognition.conftest import tone_manifest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_clap(tmp_path_factory):
    return save_tiny_clap(tmp_path_factory.mktemp("tiny-clap"))


@pytest.fixture(scope="module")
def synthetic_tones(tmp_path_factory):
    return tone_manifest(tmp_path_factory.mktemp("synthetic"), {"train": 3}, source="synthetic", seed=1)


def test_clap_is_a_registered_scorer():
    assert "clap" in SCORERS and SCORERS.load("clap") is ClapScorer


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
