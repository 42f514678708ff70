"""Cleaning up and validating an LLM's descriptor list: what small models really write."""

import pytest

from synthaudio.prompts.descriptors import descriptor_problems, echoes_label, parse_list

TEN = ["wailing", "loud", "rising", "falling", "piercing", "urgent", "electronic", "doppler shift", "distant",
       "two-tone"]


@pytest.mark.parametrize("answer", [
    ", ".join(TEN),
    ", ".join(TEN) + ".",
    "\n".join(f"{i}. {item}" for i, item in enumerate(TEN, 1)),
    "\n".join(f"{i}) {item.capitalize()}" for i, item in enumerate(TEN, 1)),
    "\n".join(f"- {item}" for item in TEN),
    "\n".join(f"* **{item}**" for item in TEN),
    "Here are 10 characteristics of the siren sound:\n" + "\n".join(f"{i}. {item}" for i, item in enumerate(TEN, 1)),
    "Sure! Here they are: " + ", ".join(f'"{item}"' for item in TEN),
    "\n".join(f"{i}. **{item.title()}**: the siren is {item} here." for i, item in enumerate(TEN, 1)),
    "\n".join(f"{i}. {item} - as heard from the street" for i, item in enumerate(TEN, 1)),
    ", ".join(TEN[:9]) + ", and " + TEN[9],
    "```\n" + ", ".join(TEN) + "\n```",
    ", ".join(TEN) + "\nThese words describe how a siren sounds in a recording.",
    "; ".join(f"'{item}'" for item in TEN),
])
def test_lists_in_every_shape_parse_to_the_same_items(answer):
    assert parse_list(answer) == TEN


def test_acronyms_keep_their_capitals_and_shouting_does_not():
    assert parse_list("TR-808 drums, LOUD, Warm") == ["TR-808 drums", "loud", "warm"]


def test_a_valid_list_has_no_problems():
    assert descriptor_problems(TEN, "siren", 10) == []


def test_wrong_count_is_reported_with_both_numbers():
    assert descriptor_problems(TEN[:9], "siren", 10) == ["it has 9 items, expected exactly 10"]
    assert descriptor_problems(TEN + ["shrill"], "siren", 10) == ["it has 11 items, expected exactly 10"]


def test_long_repeated_echoed_and_markup_items_are_named():
    items = TEN[:6] + ["wailing", "a very long wailing tone", "sirens", "[citation]"]
    problems = descriptor_problems(items, "siren", 10)
    assert problems == ["too long (more than 3 words): 'a very long wailing tone'", "repeated: 'wailing'",
                        "repeats the name itself: 'sirens'", "not plain words: '[citation]'"]


def test_echo_means_every_word_of_the_label():
    assert echoes_label("blaring car horn", "car_horn")
    assert echoes_label("Car Horns", "car_horn")
    assert not echoes_label("car engine", "car_horn")
    assert not echoes_label("horn-like", "car_horn")


def test_an_answer_copied_from_the_worked_example_is_refused():
    example = {"pattering", "steady", "soft", "dripping", "splashing", "wet", "rhythmic", "soothing", "drumming",
               "hissing"}
    copied = sorted(example)
    assert descriptor_problems(copied, "siren", 10, copied_from=example) == [
        "copied from the example instead of describing the class"]
    assert descriptor_problems(TEN, "siren", 10, copied_from=example) == []


def test_rambling_prose_is_not_mistaken_for_items():
    answer = "The sound of a siren is a musical instrument with a rhythmic pattern that can be heard far away."
    assert parse_list(answer) == []
    assert descriptor_problems(parse_list(answer), "siren", 10) == ["it has 0 items, expected exactly 10"]


def test_problem_messages_cut_huge_items():
    rambling = ["x " * 300]
    problem = descriptor_problems(rambling, "siren", 1)[0]
    assert len(problem) < 120 and problem.endswith("...'")


def test_explanations_after_numbered_items_are_dropped_even_with_commas():
    answer = "1. Loud: the siren is loud, piercing and near\n2. shrill, rising"
    assert parse_list(answer) == ["loud", "shrill", "rising"]
