"""Descriptor files: the study's published lists, key matching, and bad files."""

import json

import pytest
from prompts_helpers import ESC50_LABELS, paper_file

from synthaudio.errors import ConfigError
from synthaudio.prompts.descriptor_file import (
    FORMAT,
    DescriptorEntry,
    descriptors_for_labels,
    read_descriptor_cache,
    read_descriptor_entries,
    write_descriptor_cache,
)


def test_every_esc50_label_finds_the_study_list():
    path = paper_file("esc50")
    study = json.loads(path.read_text())
    found = descriptors_for_labels(path, ESC50_LABELS)
    assert list(found) == ESC50_LABELS
    assert found["car_horn"] == study["Car horn"]
    assert found["helicopter"] == study["helicopter"]
    assert found["door_wood_creaks"] == study["Door, wood creaks"]
    assert all(8 <= len(items) <= 10 for items in found.values())  # repeats in the study's lists dropped


def test_gtzan_genres_find_their_twenty():
    found = descriptors_for_labels(paper_file("gtzan"), ["blues", "hiphop", "rock"])
    assert [len(items) for items in found.values()] == [20, 20, 20]


def test_labels_missing_from_the_file_are_all_named_in_one_error():
    # UCF101 spells its classes BlowDryHair, BasketballDunk; the study asked its LLM about "blowing dry hair".
    path = paper_file("ucf101")
    with pytest.raises(ConfigError) as error:
        descriptors_for_labels(path, ["bowling", "BlowDryHair", "BasketballDunk"])
    message = str(error.value)
    assert message.startswith(f"{path}: no descriptors for 2 of 3 labels: 'BlowDryHair', 'BasketballDunk'")
    assert "'bowling'" not in message


def test_camel_case_and_spaced_keys_match(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"Blow dry hair": ["whirring", "hot air"], "Applying+sunscreen": ["soft"]}))
    found = descriptors_for_labels(path, ["BlowDryHair", "applying_sunscreen"])
    assert found == {"BlowDryHair": ["whirring", "hot air"], "applying_sunscreen": ["soft"]}


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON (Expecting property name enclosed in double quotes, line 1)"),
    ("[1, 2]", "the file must be a non-empty JSON object mapping each label to a list of descriptors"),
    ("{}", "the file must be a non-empty JSON object"),
    ('{"dog": "barking"}', "'dog' must map to a non-empty list of descriptor strings"),
    ('{"dog": []}', "'dog' must map to a non-empty list of descriptor strings"),
    ('{"dog": ["barking", 3]}', "'dog' entry 2 of 2 is empty or not a string"),
    ('{"Car horn": ["a"], "car_horn": ["b"]}', "keys 'Car horn' and 'car_horn' name the same label; keep one"),
    ('{"format": "other/2", "descriptors": {}}', "field 'format' is 'other/2', expected 'synthaudio.descriptors/1'"),
])
def test_malformed_descriptor_files_are_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as error:
        descriptors_for_labels(path, ["dog"])
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nope.json: descriptor file not found"):
        descriptors_for_labels(tmp_path / "nope.json", ["dog"])


def test_cache_round_trip_keeps_provenance(tmp_path):
    path = tmp_path / "cache.json"
    assert read_descriptor_cache(path) == {}
    write_descriptor_cache(path, {"dog": DescriptorEntry(["barking"], {"backend": "openai", "count": 1})})
    assert json.loads(path.read_text())["format"] == FORMAT
    entries = read_descriptor_entries(path)
    assert entries["dog"].descriptors == ["barking"]
    assert entries["dog"].made_for({"count": 1}) and not entries["dog"].made_for({"count": 2})
    assert descriptors_for_labels(path, ["Dog"]) == {"Dog": ["barking"]}  # a cache is also a --descriptors file


def test_a_file_of_another_shape_is_never_used_as_a_cache(tmp_path):
    path = tmp_path / "study.json"
    path.write_text('{"dog": ["barking"]}')
    with pytest.raises(ConfigError, match="not a synthaudio descriptor cache .* will not be overwritten"):
        read_descriptor_cache(path)


def test_repeated_words_in_a_list_are_used_once():
    found = descriptors_for_labels(paper_file("esc50"), ["frog"])  # the study's Frog list has 'croaking' twice
    assert found["frog"][:3] == ["croaking", "ribbiting", "peeping"]
    assert len(found["frog"]) == len({item.lower() for item in found["frog"]}) == 8
