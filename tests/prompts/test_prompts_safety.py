"""The offensive-language filter: listed words in their inflected forms are caught, harmless words that contain a
listed string are not, and a user's descriptor file with an offensive or empty entry is refused by position."""

import json

import pytest
from prompts_helpers import flagged_texts, paper_file

from synthaudio.errors import ConfigError
from synthaudio.prompts.descriptor_file import descriptors_for_labels, read_descriptor_entries
from synthaudio.prompts.safety import is_offensive, offensive_items

# The words the offline LLM really wrote into the demo's cache (and forms of them), next to ordinary words that
# hold a listed string inside them.
CAUGHT = ["slutty", "bitchy", "Slutty", "bitchiness", "sluts", "very bitchy", "slut-like", "mother fucker"]
HARMLESS = ["class", "Scunthorpe", "classic", "assess", "bass", "title", "cocktail", "grasshopper", "shell",
            "hello", "therapist", "buttery", "hoarse", "raspy", "sharp", "barking", "whizzing", "tinkling",
            # words of the report's own text whose stems alone are listed
            "tested on the real test split", "tests", "testing", "spaces", "spacing",
            "clips/x/x-00000.wav",  # the letters task's class x: single letters are never joined into a word
            "the paired test is somewhat liberal"]  # nor a function word into its neighbour ("testis")


@pytest.mark.parametrize("text", CAUGHT)
def test_listed_words_are_caught_in_their_inflected_forms(text):
    assert is_offensive(text)


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_words_containing_a_listed_string_pass(text):
    assert not is_offensive(text)


def test_offensive_items_keeps_order_and_checks_each_item():
    assert offensive_items(["gentle", "slutty", "class", "bitchy"]) == ["slutty", "bitchy"]


@pytest.mark.parametrize("name", ["esc50", "gtzan", "ucf101", "activitynet"])
def test_the_study_published_lists_pass_the_filter(name):
    lists = json.loads(paper_file(name).read_text())
    assert [item for items in lists.values() for item in offensive_items(items)] == []


@pytest.mark.parametrize(("lists", "message"), [
    ({"dog": ["barking", "slutty", "loud"]},
     "'dog' entry 2 of 3 is flagged as offensive by the safety filter; replace it"),
    ({"dog": ["barking"], "rain": ["soft", "", "wet"]},
     "'rain' entry 2 of 3 is empty or not a string; remove it or write a descriptor"),
])
def test_a_user_descriptor_file_with_a_bad_entry_is_refused_with_label_and_position(tmp_path, lists, message):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(lists))
    with pytest.raises(ConfigError) as error:
        descriptors_for_labels(path, ["dog"])
    assert str(error.value) == f"{path}: {message}"
    assert "slutty" not in str(error.value)


def test_a_cache_file_is_read_without_screening_so_an_old_flagged_list_is_asked_again(tmp_path):
    path = tmp_path / "cache.json"
    path.write_text(json.dumps({"format": "synthaudio.descriptors/1", "descriptors": {"eight": ["thin", "slutty"]},
                                "provenance": {}}))
    assert read_descriptor_entries(path)["eight"].descriptors == ["thin", "slutty"]


# Every kind of file a study writes prompts or report text into, each holding the word "barking" once.
WRITTEN = {
    "stages/prompts/k/descriptor_cache.json": json.dumps({"format": "synthaudio.descriptors/1",
                                                          "descriptors": {"dog": ["barking", "loud"]}}),
    "stages/pool/k/prompts.json": json.dumps({"prompts": {"dog": ["dog sound, barking, loud"]}}),
    "stages/pool/k/clips/manifest.jsonl": json.dumps({"label": "dog", "prompt": "dog sound, barking"}) + "\n",
    "report/prompt_examples.csv": "labels,class,prompts,example_1\ntones,dog,llm,\"dog sound, barking, loud\"\n",
    "report/report.md": "## Example prompts per class\n\n| tones | dog | llm | dog sound, barking, loud |\n",
    "report/index.html": '<html><body><td title="dog">dog sound, barking</td><script>var rows;</script></body></html>',
}


def test_the_sweep_over_written_files_finds_a_word_planted_in_any_of_them(tmp_path):
    def write(files):
        for name, text in files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text)

    write(WRITTEN)
    assert flagged_texts(tmp_path) == []
    for name, text in WRITTEN.items():
        write({name: text.replace("barking", "slutty")})
        assert [line.split(": ", 1)[0] for line in flagged_texts(tmp_path)] == [name]
        write({name: text})
    # a JSON key (a descriptor cache's label) and an HTML attribute are read too
    write({"report/index.html": '<html><body><td title="slutty dog">dog</td></body></html>',
           "stages/prompts/k/descriptor_cache.json": json.dumps({"descriptors": {"slutty": ["loud"]}})})
    assert len(flagged_texts(tmp_path)) == 2
