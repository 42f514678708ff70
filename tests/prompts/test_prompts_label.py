"""Label-guided prompts: labels in plain words, one template per domain."""

import pytest
from prompts_helpers import ESC50_LABELS

from synthaudio.errors import ConfigError
from synthaudio.prompts.label import label_prompt, normalise_label


@pytest.mark.parametrize(("label", "words"), [
    ("car_horn", "car horn"),
    ("CAR_HORN", "car horn"),
    ("Car horn", "car horn"),
    ("  door_wood_knock ", "door wood knock"),
    ("BlowDryHair", "blow dry hair"),
    ("BoxingPunchingBag", "boxing punching bag"),
    ("PlayingDhol", "playing dhol"),
    ("YoYo", "yo yo"),
    ("BMXRacing", "BMX racing"),  # an acronym inside a mixed-case label keeps its capitals
    ("Applying+sunscreen", "applying sunscreen"),  # ActivityNet spelling
    ("hip-hop", "hip-hop"),
    ("seven", "seven"),
])
def test_labels_become_plain_words(label, words):
    assert normalise_label(label) == words


def test_templates_per_domain():
    assert label_prompt("car_horn", "sound") == "car horn sound"
    assert label_prompt("hiphop", "music") == "hiphop music"
    assert label_prompt("BlowDryHair", "action") == "blow dry hair"
    assert label_prompt("seven", "speech") == "seven"


def test_a_label_that_names_its_kind_gets_no_second_one():
    assert label_prompt("engine_noise", "sound") == "engine noise"
    assert label_prompt("classical music", "music") == "classical music"


def test_every_esc50_label_reads_as_the_study_wrote_it():
    # The study: "{label} sound", label lower-cased, underscores to spaces.
    for label in ESC50_LABELS:
        assert label_prompt(label, "sound") == label.replace("_", " ") + " sound"


def test_unknown_domain_and_wordless_label_are_refused():
    with pytest.raises(ConfigError, match="unknown domain 'noise'; choose one of: sound, music, speech, action"):
        label_prompt("dog", "noise")
    with pytest.raises(ConfigError, match="label '___' has no words"):
        normalise_label("___")
