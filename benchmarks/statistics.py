"""Intervals and paired tests for a study the size of studies/esc50.yaml: the vectorised two-level bootstrap
(synthaudio.report.statistics) vs a straightforward per-resample Python loop, on the same simulated data.

Data: `--conditions` conditions x `--seeds` training seeds (about 200 evaluations by default) on one test set of
`--clips` clips in `--groups` groups (source recordings), `--classes` classes; predictions simulated with speaker
effects. Work: the interval of accuracy, UAR and macro-F1 of every condition, and a paired comparison of every
condition with the first on each metric, all with `--resamples` resamples.

The loop uses the same draws of test groups as the vectorised code and, per resample, gathers the drawn clips and
computes each seed's metrics with numpy (the seed level, a few array operations per condition, is left out of its
time); it is timed on `--loop-resamples` resamples of a few evaluations and scaled to the whole work (it would take
many minutes in full), and its per-seed metrics are checked equal to the vectorised ones on those resamples.

Last line: `ratio: X.X` = (scaled) loop time / vectorised time.
"""

import argparse
import sys
import time

import numpy as np

from synthaudio.report.statistics import (
    METRICS,
    _Counts,
    _draws,
    comparisons,
    holm_comparisons,
    intervals,
    make_evaluation,
)


def simulate(conditions: int, seeds: int, clips: int, groups: int, classes: int, seed: int):
    generator = np.random.default_rng(seed)
    group_of = np.sort(generator.integers(0, groups, clips))
    targets = generator.integers(0, classes, clips)
    ease = generator.beta(2.0, 1.0, groups)[group_of]  # speaker effects: some recordings are easy, some hard
    evaluations = []
    for condition in range(conditions):
        skill = 0.5 + 0.3 * condition / max(conditions - 1, 1)
        correct = generator.random((seeds, clips)) < np.clip(ease * skill * 1.3, 0, 1)
        wrong = (targets + generator.integers(1, classes, (seeds, clips))) % classes
        evaluations.append(make_evaluation(f"condition {condition}", targets, np.where(correct, targets, wrong),
                                           groups=group_of, labels=[f"class{i}" for i in range(classes)]))
    return evaluations


def loop_per_seed(evaluation, group_weights: np.ndarray) -> dict[str, np.ndarray]:
    """Each seed's metrics on each resampled test set, one resample at a time (the straightforward way)."""
    members = [np.flatnonzero(evaluation.groups == group) for group in range(evaluation.n_groups)]
    classes = len(evaluation.labels)
    out = {metric: np.empty((len(group_weights), evaluation.n_seeds)) for metric in METRICS}
    for row, weights in enumerate(group_weights):
        chosen = np.concatenate([np.repeat(members[g], int(w)) for g, w in enumerate(weights) if w])
        targets = evaluation.targets[chosen]
        support = np.bincount(targets, minlength=classes)
        present = support > 0
        for seed in range(evaluation.n_seeds):
            predicted = evaluation.predictions[seed, chosen]
            hits = predicted == targets
            true_positive = np.bincount(targets[hits], minlength=classes)
            predicted_count = np.bincount(predicted, minlength=classes)
            out["accuracy"][row, seed] = hits.mean()
            out["uar"][row, seed] = (true_positive[present] / support[present]).mean()
            out["macro_f1"][row, seed] = (2 * true_positive[present]
                                          / (predicted_count[present] + support[present])).mean()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", type=int, default=67)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--groups", type=int, default=250)
    parser.add_argument("--classes", type=int, default=50)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--loop-resamples", type=int, default=300)
    parser.add_argument("--loop-evaluations", type=int, default=3)
    args = parser.parse_args()

    evaluations = simulate(args.conditions, args.seeds, args.clips, args.groups, args.classes, seed=0)
    intervals(evaluations[0], resamples=100)  # warm-up: imports and first calls do not count
    started = time.perf_counter()
    found = [intervals(evaluation, resamples=args.resamples, seed=0) for evaluation in evaluations]
    compared = holm_comparisons([result for evaluation in evaluations[1:] for result in comparisons(
        evaluation, evaluations[0], METRICS, resamples=args.resamples, seed=0).values()])
    vectorised = time.perf_counter() - started

    # the loop: the same draws, timed on a subset and scaled to the evaluation-resamples the whole work needs
    group_weights, _ = _draws(evaluations[0].n_groups, args.seeds, args.resamples, 0)
    subset = group_weights[: args.loop_resamples]
    started = time.perf_counter()
    looped = [loop_per_seed(evaluation, subset) for evaluation in evaluations[: args.loop_evaluations]]
    loop_seconds = time.perf_counter() - started
    per_evaluation_resample = loop_seconds / (args.loop_evaluations * len(subset))
    # intervals: every evaluation once; comparisons: both conditions (all metrics come from one pass)
    needed = (len(evaluations) + 2 * (len(evaluations) - 1)) * args.resamples
    loop_total = per_evaluation_resample * needed
    for evaluation, by_loop in zip(evaluations, looped, strict=False):
        by_vector = _Counts(evaluation).per_seed(subset)
        for metric in METRICS:
            np.testing.assert_allclose(by_loop[metric], by_vector[metric], rtol=1e-10, atol=1e-12)

    supported = sum(comparison.supported() for comparison in compared)
    example = found[-1]["accuracy"]
    print(f"data: {len(evaluations)} conditions x {args.seeds} seeds = {len(evaluations) * args.seeds} evaluations "
          f"of {args.clips} clips in {args.groups} groups, {args.classes} classes; {args.resamples} resamples")
    print(f"work: {len(found) * len(METRICS)} intervals and {len(compared)} paired comparisons (Holm over all: "
          f"{supported} supported at 5%); e.g. {evaluations[-1].name} accuracy {example.estimate:.3f} "
          f"[{example.low:.3f}, {example.high:.3f}]")
    print(f"vectorised: {vectorised:.2f} s")
    print(f"per-resample loop: {loop_seconds:.2f} s for {args.loop_evaluations} evaluations x {len(subset)} "
          f"resamples (same metrics, checked), scaled to {needed} evaluation-resamples: {loop_total:.1f} s")
    print(f"ratio: {loop_total / vectorised:.1f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
