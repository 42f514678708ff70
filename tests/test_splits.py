from collections import Counter

import pytest

from synthaudio.splits import stratified_split, stratified_subset


def test_stratified_split_gives_each_class_its_share_and_is_seeded():
    labels = ["a"] * 10 + ["b"] * 20 + ["c"] * 3
    splits = stratified_split(labels, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=1)
    counts = Counter(zip(labels, splits, strict=True))
    assert (counts[("a", "train")], counts[("a", "val")], counts[("a", "test")]) == (8, 1, 1)
    assert (counts[("b", "train")], counts[("b", "val")], counts[("b", "test")]) == (16, 2, 2)
    assert counts[("c", "val")] == 1 and counts[("c", "test")] == 1  # small classes still reach every split
    assert splits == stratified_split(labels, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=1)
    assert splits != stratified_split(labels, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=2)


def test_stratified_subset_keeps_every_class():
    labels = [f"c{i % 5}" for i in range(100)]
    kept = stratified_subset(labels, 0.1, seed=0)
    assert len(kept) == 10 and {labels[i] for i in kept} == {f"c{i}" for i in range(5)}
    assert stratified_subset(labels, 1.0, seed=0) == list(range(100))
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        stratified_subset(labels, 1.5, seed=0)
    with pytest.raises(ValueError, match="sum to 1"):
        stratified_split(labels, {"train": 0.5, "test": 0.2}, seed=0)
