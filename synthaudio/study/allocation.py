"""Allocation rules of the adaptive experiment: how one round's clips are shared among the classes, given how a
model trained on the clips so far does per class on the REAL VALIDATION split (never the test split, except under
the paper protocol, which says so).

A rule is `rule(labels, total, scores) -> {label: clips}` with the clips summing to exactly `total`; `scores` is
None for a round that has nothing measured yet (every rule is then uniform). Rules are registered by name in
synthaudio.study.registries.ALLOCATION_RULES (plugins: entry-point group "synthaudio.allocation_rules").

Shares are turned into whole clips by the largest-remainder method, ties going to the label that comes first, so
an allocation depends only on its inputs.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class ClassScores:
    """Per-class results of one evaluation: F1 per label and the confusion matrix (rows: true label, columns:
    predicted), in `labels` order, and which split they were measured on."""

    labels: list[str]
    f1: dict[str, float]
    confusion: list[list[int]]
    split: str

    @classmethod
    def from_evaluation(cls, evaluation: Mapping) -> "ClassScores":
        """From an evaluation record (synthaudio.recognition.evaluation: labels, metrics.per_class, confusion)."""
        labels = list(evaluation["labels"])
        metrics = evaluation["metrics"]
        per_class = metrics["per_class"]
        return cls(labels, {label: float(per_class[label]["f1"]) for label in labels},
                   [list(map(int, row)) for row in metrics["confusion_matrix"]], evaluation["split"])

    def errors(self, label: str) -> int:
        """Validation clips of `label` recognised as another class, plus other clips recognised as `label`."""
        i = self.labels.index(label)
        missed = sum(count for j, count in enumerate(self.confusion[i]) if j != i)
        taken = sum(row[i] for j, row in enumerate(self.confusion) if j != i)
        return missed + taken

    def confused_with(self, label: str, most: int = 2) -> list[str]:
        """The classes `label`'s clips are most often recognised as (then, if none, the classes most often
        recognised as `label`), at most `most`, most frequent first."""
        i = self.labels.index(label)
        for counts in (self.confusion[i], [row[i] for row in self.confusion]):
            ranked = sorted(((count, j) for j, count in enumerate(counts) if j != i and count > 0),
                            key=lambda pair: (-pair[0], pair[1]))
            if ranked:
                return [self.labels[j] for _, j in ranked[:most]]
        return []


def largest_remainder(weights: Mapping[str, float], total: int) -> dict[str, int]:
    """Whole shares of `total` proportional to `weights` (in their order), summing to `total`; equal shares when
    every weight is zero."""
    labels = list(weights)
    if total < 0 or not labels:
        raise ValueError(f"cannot share {total} clips among {len(labels)} classes")
    # exact arithmetic: no tie is decided by float rounding
    exact_weights = [Fraction(weights[label]) for label in labels]
    mass = sum(exact_weights)
    exact = [total * weight / mass if mass > 0 else Fraction(total, len(labels)) for weight in exact_weights]
    shares = [int(value) for value in exact]
    left = total - sum(shares)
    order = sorted(range(len(labels)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return dict(zip(labels, shares, strict=True))


def uniform(labels: list[str], total: int, scores: ClassScores | None) -> dict[str, int]:
    """The same number of clips for every class (the baseline every adaptive rule is compared with)."""
    return largest_remainder({label: 1.0 for label in labels}, total)


def f1_gap(labels: list[str], total: int, scores: ClassScores | None) -> dict[str, int]:
    """Proportional to 1 - F1: a class the model already gets right gets nothing more."""
    if scores is None:
        return uniform(labels, total, scores)
    return largest_remainder({label: max(0.0, 1.0 - scores.f1[label]) for label in labels}, total)


def confusion(labels: list[str], total: int, scores: ClassScores | None) -> dict[str, int]:
    """Proportional to the validation errors a class takes part in (missed, or wrongly taken for it): the clips go
    where the confusions are, on either side of them."""
    if scores is None:
        return uniform(labels, total, scores)
    return largest_remainder({label: float(scores.errors(label)) for label in labels}, total)
