"""Allocation rules of the adaptive experiment: whole clips that add up, going where the model is weak."""

import pytest

from synthaudio.study.allocation import ClassScores, confusion, f1_gap, largest_remainder, uniform
from synthaudio.study.registries import ALLOCATION_RULES

LABELS = ["b", "d", "e", "z"]
# rows: true b, d, e, z; columns: predicted. b is taken for d twice and e once; z is perfect.
CONFUSION = [[1, 2, 1, 0],
             [1, 3, 0, 0],
             [0, 0, 4, 0],
             [0, 0, 0, 4]]
SCORES = ClassScores(LABELS, {"b": 0.4, "d": 0.7, "e": 0.9, "z": 1.0}, CONFUSION, "val")


def test_largest_remainder_sums_exactly_and_breaks_ties_by_order():
    assert largest_remainder({"a": 1, "b": 1, "c": 1}, 10) == {"a": 4, "b": 3, "c": 3}
    assert largest_remainder({"a": 0, "b": 0}, 3) == {"a": 2, "b": 1}  # nothing measured: equal shares
    shares = largest_remainder({"a": 0.2, "b": 0.5, "c": 0.3}, 7)
    assert sum(shares.values()) == 7 and shares == {"a": 1, "b": 4, "c": 2}


def test_uniform_ignores_the_scores():
    assert uniform(LABELS, 8, SCORES) == {"b": 2, "d": 2, "e": 2, "z": 2}


def test_f1_gap_gives_nothing_to_a_perfect_class_and_most_to_the_weakest():
    shares = f1_gap(LABELS, 20, SCORES)
    assert sum(shares.values()) == 20
    assert shares["z"] == 0 and shares["b"] > shares["d"] > shares["e"]
    assert shares == {"b": 12, "d": 6, "e": 2, "z": 0}  # 1 - F1 = 0.6 : 0.3 : 0.1 : 0


def test_confusion_follows_the_errors_on_both_sides():
    # b: 3 missed + 1 taken = 4; d: 1 missed + 2 taken = 3; e: 0 missed + 1 taken = 1; z: none
    assert [SCORES.errors(label) for label in LABELS] == [4, 3, 1, 0]
    assert confusion(LABELS, 8, SCORES) == {"b": 4, "d": 3, "e": 1, "z": 0}


def test_rules_without_measurements_are_uniform():
    assert f1_gap(LABELS, 4, None) == confusion(LABELS, 4, None) == {label: 1 for label in LABELS}


def test_what_a_class_is_mistaken_for():
    assert SCORES.confused_with("b") == ["d", "e"]  # most often first
    assert SCORES.confused_with("e") == ["b"]  # never missed: then what is taken for it
    assert SCORES.confused_with("z") == []


def test_scores_from_an_evaluation_record():
    evaluation = {"labels": ["x", "y"], "split": "val",
                  "metrics": {"per_class": {"x": {"f1": 0.5}, "y": {"f1": 1.0}}, "confusion_matrix": [[1, 1], [0, 2]]}}
    scores = ClassScores.from_evaluation(evaluation)
    assert scores.f1 == {"x": 0.5, "y": 1.0} and scores.split == "val" and scores.confused_with("x") == ["y"]


@pytest.mark.parametrize("rule", ["uniform", "f1_gap", "confusion"])
def test_every_registered_rule_shares_exactly_the_round(rule):
    for total in (4, 7, 33):
        shares = ALLOCATION_RULES.load(rule)(LABELS, total, SCORES)
        assert set(shares) == set(LABELS) and sum(shares.values()) == total and min(shares.values()) >= 0
