"""Seeded, stratified splits and subsets (exact per-class counts, also for classes of one or two items),
used by the dataset recipes and the study."""

from collections import Counter
from collections.abc import Sequence

import numpy as np


def stratified_split(labels: Sequence[str], fractions: dict[str, float], seed: int) -> list[str]:
    """Assign each item a split name so each split gets `fractions[name]` of every class (as near as counts allow).

    Args:
        labels: the class of each item, in a fixed order (the result is aligned with it).
        fractions: split name -> fraction, summing to 1, e.g. {"train": 0.8, "val": 0.1, "test": 0.1}.
    Returns:
        the split name of each item. Deterministic for the same labels (in the same order) and seed.
    """
    total = sum(fractions.values())
    if not np.isclose(total, 1.0) or any(f < 0 for f in fractions.values()):
        raise ValueError(f"split fractions must be >= 0 and sum to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    names = list(fractions)
    result = [names[0]] * len(labels)
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    for label in sorted(by_label):
        indices = np.array(by_label[label])
        rng.shuffle(indices)
        counts = _apportion(len(indices), [fractions[n] for n in names])
        start = 0
        for name, count in zip(names, counts, strict=True):
            for index in indices[start: start + count]:
                result[index] = name
            start += count
    return result


def _apportion(total: int, fractions: Sequence[float]) -> list[int]:
    """Integer counts summing to `total`, largest-remainder rounding; every non-zero fraction gets >= 1 if it can."""
    raw = [total * f for f in fractions]
    counts = [int(np.floor(r)) for r in raw]
    for index in sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)[: total - sum(counts)]:
        counts[index] += 1
    # small classes: give every wanted split at least one item, taken from the largest split
    for index, fraction in enumerate(fractions):
        if fraction > 0 and counts[index] == 0 and total >= sum(1 for f in fractions if f > 0):
            donor = max(range(len(counts)), key=lambda i: counts[i])
            counts[donor] -= 1
            counts[index] += 1
    return counts


def stratified_subset(labels: Sequence[str], fraction: float, seed: int) -> list[int]:
    """Indices of a seeded, stratified `fraction` of the items (at least one per class), in input order."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return list(range(len(labels)))
    chosen = stratified_split(labels, {"keep": fraction, "drop": 1 - fraction}, seed)
    kept = [i for i, name in enumerate(chosen) if name == "keep"]
    present = {labels[i] for i in kept}
    missing = [label for label in Counter(labels) if label not in present]
    assert not missing, f"stratified_subset lost classes {missing}"
    return kept
