"""Intervals, paired tests and power for classification results, from per-clip predictions (numpy and scipy only).

Contract:
- An `Evaluation` is one condition on one test set: each test clip's true class and group, and the class each
  training seed's model predicted for it. `evaluation_from_records` (or `_from_files`) builds one from evaluation
  results that keep their per-clip predictions (synthaudio.recognition.evaluation: one result per training seed);
  `make_evaluation` from plain arrays. Test noise drawn with each result's training seed (as a study draws it) is
  one test set for all seeds: each seed's model heard its own draw, which the seed level counts, and two conditions
  pair seed by seed on the same noise.
- `interval(evaluation, metric)` is a seeded two-level bootstrap percentile interval that accounts for both the
  finite test set and the training randomness. Test level: each resample draws the test groups (speakers, source
  recordings, videos) with replacement; clips of one group move together because they are not independent;
  without groups each clip is its own group. Seed level: each seed's metric on the resampled test set is averaged
  over the seeds, and the training randomness of that mean is added as a t variate with S - 1 degrees of freedom
  scaled by the seeds' spread net of test-set noise (see `_two_level`: with S = 3 seeds, resampling the seeds
  themselves has no tails and counts test noise twice). The metrics lie in [0, 1] and their differences in
  [-1, 1], and so do the resamples (clipped: with 2 seeds the t variate is a Cauchy one, whose tails would
  otherwise carry an interval past the possible values). Fewer than two groups: no interval, and the reason says
  so (never a zero-width interval). With one training seed the interval covers the test set only.
- `compare(a, b, metric)` is paired: both conditions must share the test set (same clips, same groups) and the
  seeds (paired by seed value); one draw of test groups (and seed-level variates) serves both, and the seed level
  uses the per-seed differences, so the interval of the difference a - b is paired (`comparisons` does several
  metrics from one draw). Its p-value is the two-sided bootstrap p-value of
  that same distribution (twice the smaller share of resampled differences on either side of zero, counted as
  (1 + k) / (1 + resamples)), so p < 0.05 goes with a 95% interval that leaves out zero. `holm` adjusts a family of
  comparisons' p-values (Holm 1979).
- `detectable_difference(evaluation)` is the smallest accuracy difference that test set detects with 80% power at
  the 5% level (two-sided, normal approximation), from its number of groups and the variance of accuracy between
  them; each comparison carries the detectable difference for its own pair and metric (from both conditions'
  bootstrap spread, seeds included, read from the central 95% of each distribution: the seed level's t variate has
  no finite variance with 3 seeds) and flags an observed difference smaller than it ("this test set cannot tell").

Resampling is vectorised: per (group, seed, class) counts are summed once, each resample is a vector of group
multiplicities, and the metrics of all resamples come from sparse-by-dense products; no Python loop runs per
resample; the draws are cached for the next condition on the same test set. The same inputs and `seed` give the
same numbers.

Measured on simulated predictions (3 seeds, 40 speakers of 4 clips, strong speaker effects): 95% intervals cover
the true accuracy 95-97% of the time with or without training randomness (seed effects up to 0.06 sd); the
paired test rejects a true null 3.6% of the time at the 5% level when the seeds' models differ little overall,
7.6% at a seed sd of 0.03 and 10.7% at 0.06 (7.2% with 5 seeds): three seeds cannot pin the training variance
down; use more seeds where models differ much from seed to seed.
"""

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import sparse, stats

from synthaudio.errors import SynthaudioError

Metric = Literal["accuracy", "uar", "macro_f1"]
METRICS: tuple[str, ...] = ("accuracy", "uar", "macro_f1")
RESAMPLES = 10_000
LEVEL = 0.95
CHUNK = 2_000  # resamples computed at once: bounds memory at about CHUNK x clips numbers


class StatisticsError(SynthaudioError):
    """Inputs the statistics cannot use (different test sets or seeds, missing predictions): one line."""


@dataclass(frozen=True)
class Evaluation:
    """One condition on one test set: arrays of integer codes, clips in one fixed order.

    Attributes:
        name: what the condition is called in messages ("mixed 50%").
        test_set: the identity of the test set (manifest hash, split, noise); comparisons need equal ones.
        clip_ids: the test clips, in the order of every array below.
        targets: (clips,) true class index.
        groups: (clips,) group index in 0 .. n_groups - 1.
        predictions: (seeds, clips) predicted class index of each training seed's model.
        seeds: the training seeds, one per row of `predictions`.
        labels: class names by index.
        grouped: whether groups came from the data (False: each clip is its own group).
    """

    name: str
    test_set: str
    clip_ids: tuple[str, ...]
    targets: np.ndarray
    groups: np.ndarray
    predictions: np.ndarray
    seeds: tuple[int, ...]
    labels: tuple[str, ...]
    grouped: bool = True

    @property
    def n_clips(self) -> int:
        return len(self.clip_ids)

    @property
    def n_groups(self) -> int:
        return int(self.groups.max()) + 1 if len(self.groups) else 0

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)


@dataclass(frozen=True)
class Interval:
    """A metric's estimate (mean over seeds) and its interval; low/high None with a reason when unavailable."""

    metric: str
    estimate: float
    low: float | None
    high: float | None
    n_clips: int
    n_groups: int
    n_seeds: int
    level: float = LEVEL
    reason: str | None = None
    grouped: bool = True  # False: the test set names no groups, each clip counted as its own (say so)


@dataclass(frozen=True)
class Comparison:
    """a - b on one metric: its paired interval, p-value (and Holm-adjusted p-value once `holm` ran), and whether
    the difference is smaller than the test set can detect."""

    name_a: str
    name_b: str
    metric: str
    estimate_a: float
    estimate_b: float
    difference: float
    low: float | None
    high: float | None
    p_value: float | None
    detectable: float | None
    below_detectable: bool | None
    n_clips: int
    n_groups: int
    n_seeds: int
    p_holm: float | None = None
    level: float = LEVEL
    reason: str | None = None
    grouped: bool = True

    def supported(self, alpha: float = 0.05) -> bool:
        """The difference holds at `alpha` after Holm's correction (or uncorrected, before `holm` ran)."""
        p = self.p_holm if self.p_holm is not None else self.p_value
        return p is not None and p < alpha


@dataclass(frozen=True)
class Power:
    """The smallest accuracy difference the test set detects with `power` at level `alpha` (None: too few groups)."""

    test_set: str
    difference: float | None
    standard_error: float | None
    n_clips: int
    n_groups: int
    power: float
    alpha: float
    reason: str | None = None


# --- building evaluations -------------------------------------------------------------------------------------

def make_evaluation(name: str, targets: Sequence[int] | np.ndarray, predictions: Sequence[Sequence[int]] | np.ndarray,
                    groups: Sequence | np.ndarray | None = None, seeds: Sequence[int] | None = None,
                    labels: Sequence[str] | None = None, clip_ids: Sequence[str] | None = None,
                    test_set: str = "test") -> Evaluation:
    """An Evaluation from plain arrays; `groups` are any hashable names (None: each clip its own group),
    `predictions` one row per seed."""
    targets = np.asarray(targets, dtype=np.int64)
    predictions = np.atleast_2d(np.asarray(predictions, dtype=np.int64))
    if len(targets) == 0:
        raise StatisticsError(f"{name}: no test clips")
    if predictions.shape[1] != len(targets):
        raise StatisticsError(f"{name}: {predictions.shape[1]} predictions per seed for {len(targets)} test clips")
    if groups is None:
        codes, grouped = np.arange(len(targets)), False
    else:
        _, codes = np.unique(np.asarray(groups), return_inverse=True)
        grouped = True
    classes = int(max(targets.max(initial=-1), predictions.max(initial=-1))) + 1
    labels = tuple(labels) if labels is not None else tuple(str(index) for index in range(classes))
    seeds = tuple(seeds) if seeds is not None else tuple(range(len(predictions)))
    if len(seeds) != len(predictions) or len(set(seeds)) != len(seeds):
        raise StatisticsError(f"{name}: need one distinct seed per row of predictions, got {list(seeds)}")
    clip_ids = tuple(clip_ids) if clip_ids is not None else tuple(str(index) for index in range(len(targets)))
    return Evaluation(name, test_set, clip_ids, targets, codes.astype(np.int64), predictions, seeds, labels, grouped)


def evaluation_from_records(records: Sequence[dict], name: str) -> Evaluation:
    """One condition from its evaluation results (recognition.evaluation.evaluate_run, one per training seed),
    which must keep "predictions" and share the test set, the clips and the labels."""
    if not records:
        raise StatisticsError(f"{name}: no evaluation results")
    first = records[0]
    test_set = _test_set_of(first)
    labels = tuple(first["labels"])
    index = {label: i for i, label in enumerate(labels)}
    rows = []
    seeds = []
    for number, record in enumerate(records):
        where = record.get("file") or f"{name} result {number + 1}"
        predictions = record.get("predictions")
        if not predictions:
            raise StatisticsError(f"{where}: keeps no per-clip predictions (made by an older version); evaluate "
                                  f"the run again")
        if _test_set_of(record) != test_set or tuple(record["labels"]) != labels:
            raise StatisticsError(f"{where}: another test set or label set than {first.get('file') or 'the first'}"
                                  f" ({_test_set_of(record)} vs {test_set}); one condition needs one test set")
        rows.append(predictions)
        seed = record.get("train_seed")
        seeds.append(number if seed is None else int(seed))
    clip_ids = [row["id"] for row in rows[0]]
    for number, predictions in enumerate(rows[1:], start=2):
        if [row["id"] for row in predictions] != clip_ids:
            raise StatisticsError(f"{name}: result {number} holds other test clips than result 1")
    used = {row["label"] for row in rows[0]} | {row["predicted"] for predictions in rows for row in predictions}
    unknown = sorted(used - set(index))
    if unknown:
        raise StatisticsError(f"{name}: labels {', '.join(unknown)} are not among the model's labels")
    groups = [row["group"] for row in rows[0]]
    grouped = any(group is not None for group in groups)
    # a clip without a group is its own group, named so that it cannot collide with a real group name
    names = [group if group is not None else f"\0clip:{clip}" for group, clip in zip(groups, clip_ids, strict=True)]
    evaluation = make_evaluation(name, [index[row["label"]] for row in rows[0]],
                                 [[index[row["predicted"]] for row in predictions] for predictions in rows],
                                 groups=names, seeds=seeds, labels=labels, clip_ids=clip_ids, test_set=test_set)
    return replace(evaluation, grouped=grouped)


def evaluation_from_files(paths: Sequence[Path | str], name: str) -> Evaluation:
    """`evaluation_from_records` of evaluation result files (RUN/eval/*.json, a study's stages/evaluate/*/eval.json)."""
    records = []
    for path in paths:
        try:
            record = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise StatisticsError(f"{path}: not a readable evaluation result ({error})") from None
        records.append({**record, "file": str(path)})
    return evaluation_from_records(records, name)


def _test_set_of(record: dict) -> str:
    """The identity of a result's test set. Test noise drawn with the training seed (as a study draws it) is named
    so, not by the seed's value: all seeds of one condition then share one test set, each seed's model heard its own
    noise draw (counted in the seed level), and two conditions pair seed by seed on the same noise."""
    noise = record.get("noise")
    text = f"{record.get('test_manifest_sha256', record.get('test_manifest', '?'))[:16]}:{record.get('split')}"
    if noise:
        seed = noise.get("seed")
        drawn = "the training seed" if seed is not None and seed == record.get("train_seed") else f"seed {seed}"
        text += f"+noise {noise.get('manifest_sha256', '')[:16]} at {noise.get('snr_db'):g} dB drawn with {drawn}"
    return text


# --- resampling -------------------------------------------------------------------------------------------------

class _Counts:
    """Per-(group, seed, class) counts of one evaluation as sparse (groups, seeds x classes) matrices."""

    def __init__(self, evaluation: Evaluation):
        seeds, clips = evaluation.predictions.shape
        classes = len(evaluation.labels)
        self.seeds, self.classes, self.groups = seeds, classes, evaluation.n_groups
        rows = np.tile(evaluation.groups, seeds)
        seed_of = np.repeat(np.arange(seeds), clips)
        correct = (evaluation.predictions == evaluation.targets[None, :]).ravel().astype(np.float64)
        shape = (self.groups, seeds * classes)
        self.true_positive = sparse.csr_matrix(
            (correct, (rows, seed_of * classes + np.tile(evaluation.targets, seeds))), shape=shape)
        self.predicted = sparse.csr_matrix(
            (np.ones(seeds * clips), (rows, seed_of * classes + evaluation.predictions.ravel())), shape=shape)
        self.support = sparse.csr_matrix((np.ones(clips), (evaluation.groups, evaluation.targets)),
                                         shape=(self.groups, classes))
        # one (true positives, predictions, support) x groups matrix: a single product per chunk of resamples
        self.stacked = sparse.vstack([self.true_positive.T, self.predicted.T, self.support.T]).tocsr()

    def per_seed(self, group_weights: np.ndarray) -> dict[str, np.ndarray]:
        """Each metric of each seed under each row of group multiplicities: {metric: (resamples, seeds)}."""
        return self.per_seed_transposed(np.ascontiguousarray(group_weights.T))

    def per_seed_transposed(self, weights_t: np.ndarray) -> dict[str, np.ndarray]:
        """`per_seed` of the (groups, resamples) multiplicities."""
        count, cells = weights_t.shape[1], self.seeds * self.classes
        summed = self.stacked @ weights_t
        true_positive = summed[:cells].T.reshape(count, self.seeds, self.classes)
        predicted = summed[cells: 2 * cells].T.reshape(count, self.seeds, self.classes)
        support = summed[2 * cells:].T[:, None, :]  # the same clips for every seed
        present = support > 0
        classes_present = np.maximum(present.sum(axis=2), 1)
        total = np.maximum(support.sum(axis=2), 1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            recall = np.where(present, true_positive / support, 0.0)
            f1 = np.where(present, 2 * true_positive / (predicted + support), 0.0)
        return {"accuracy": true_positive.sum(axis=2) / total,
                "uar": recall.sum(axis=2) / classes_present,
                "macro_f1": f1.sum(axis=2) / classes_present}


def _draws(n_groups: int, n_seeds: int, resamples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(resamples, groups) group multiplicities (each row a draw of the groups with replacement), and (resamples,)
    Student t variates with seeds - 1 degrees of freedom for the seed level (zeros for one seed)."""
    generator = np.random.default_rng(np.random.SeedSequence([seed, n_groups, n_seeds, resamples]))
    group_weights = _multiplicities(generator, n_groups, resamples)
    if n_seeds < 2:
        return group_weights, np.zeros(resamples)
    return group_weights, stats.t.rvs(n_seeds - 1, size=resamples, random_state=generator)


@functools.lru_cache(maxsize=4)
def _draw_chunks(n_groups: int, n_seeds: int, resamples: int, seed: int) -> tuple[tuple[np.ndarray, ...],
                                                                                  np.ndarray]:
    """`_draws` with the group multiplicities as contiguous (groups, chunk) blocks, kept for the next call: a
    report draws the same seeds and groups for every condition on one test set."""
    group_weights, seed_level = _draws(n_groups, n_seeds, resamples, seed)
    chunks = tuple(np.ascontiguousarray(group_weights[start: start + CHUNK].T) for start in range(0, resamples, CHUNK))
    for chunk in chunks:
        chunk.flags.writeable = False
    seed_level.flags.writeable = False
    return chunks, seed_level


def _multiplicities(generator: np.random.Generator, items: int, resamples: int) -> np.ndarray:
    """How often each of `items` is drawn in each of `resamples` draws of `items` with replacement (one bincount
    over all draws: numpy's multinomial loops over rows)."""
    drawn = generator.integers(0, items, size=(resamples, items)) + (np.arange(resamples) * items)[:, None]
    return np.bincount(drawn.ravel(), minlength=resamples * items).reshape(resamples, items).astype(np.float64)


def _resampled(counts: Sequence[_Counts], metrics: Sequence[str], resamples: int, seed: int
               ) -> tuple[list[dict[str, np.ndarray]], np.ndarray]:
    """For each evaluation, {metric: (resamples, seeds)} each seed's metric on the resampled test groups (the same
    group draws for all evaluations), and the (resamples,) t variates of the seed level."""
    chunks, seed_level = _draw_chunks(counts[0].groups, counts[0].seeds, resamples, seed)
    out: list[dict[str, list[np.ndarray]]] = [{metric: [] for metric in metrics} for _ in counts]
    for groups in chunks:
        for evaluation_counts, collected in zip(counts, out, strict=True):
            per_seed = evaluation_counts.per_seed_transposed(groups)
            for metric in metrics:
                collected[metric].append(per_seed[metric])
    return [{metric: np.concatenate(values) for metric, values in collected.items()} for collected in out], \
        seed_level


def _two_level(per_seed_draws: np.ndarray, per_seed: np.ndarray, seed_level: np.ndarray) -> np.ndarray:
    """The seed-averaged statistic of each resample: its mean over seeds on the resampled test groups, plus the
    training randomness of a mean of S seeds, sqrt(training variance / S) x a t variate with S - 1 degrees of freedom.

    The training variance is the seeds' observed variance less its part that is test-set noise (seed-by-clip
    disagreement on a finite test set, measured by the spread of the seeds around their mean across the group
    resamples), which the group level already counts (a method-of-moments split as in Davison and Hinkley 1997,
    3.8). Resampling S = 3 seeds instead would show at most 10 distinct means, no tails, and count the test-set
    noise twice (Owen 2007, "The pigeonhole bootstrap")."""
    averaged = per_seed_draws.mean(axis=1)
    seeds = per_seed.shape[0]
    if seeds < 2:
        return averaged
    observed = float(per_seed.var(ddof=1))
    test_noise = float((per_seed_draws - averaged[:, None]).var(axis=0, ddof=1).mean()) * seeds / (seeds - 1)
    training = max(0.0, observed - test_noise)
    return averaged + np.sqrt(training / seeds) * seed_level


def _per_seed_estimates(counts: _Counts) -> dict[str, np.ndarray]:
    """Each metric of each seed on the whole test set: {metric: (seeds,)}."""
    return {metric: values[0] for metric, values in counts.per_seed(np.ones((1, counts.groups))).items()}


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise StatisticsError(f"unknown metric '{metric}'; known: {', '.join(METRICS)}")


def _check_settings(resamples: int, level: float) -> None:
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 100:
        raise StatisticsError(f"resamples must be a whole number >= 100, got {resamples!r}")
    if not 0 < level < 1:
        raise StatisticsError(f"the interval level must lie between 0 and 1 (0.95 for 95%), got {level!r}")


def _percentiles(values: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def _too_few_groups(evaluation: Evaluation) -> str | None:
    if evaluation.n_groups >= 2:
        return None
    unit = "group" if evaluation.grouped else "clip"
    return (f"interval unavailable: the test set of {evaluation.name} has {evaluation.n_groups} {unit}"
            f"{'' if evaluation.n_groups == 1 else 's'}, and a test set needs at least 2 to say how much a result "
            f"would vary on other {unit}s")


# --- public API -------------------------------------------------------------------------------------------------

def intervals(evaluation: Evaluation, metrics: Sequence[str] = METRICS, resamples: int = RESAMPLES,
              seed: int = 0, level: float = LEVEL) -> dict[str, Interval]:
    """The two-level bootstrap interval of each metric (one set of draws serves all metrics)."""
    for metric in metrics:
        _check_metric(metric)
    counts = _Counts(evaluation)
    per_seed = _per_seed_estimates(counts)
    estimates = {metric: float(values.mean()) for metric, values in per_seed.items()}
    reason = _too_few_groups(evaluation)
    _check_settings(resamples, level)
    sizes = dict(n_clips=evaluation.n_clips, n_groups=evaluation.n_groups, n_seeds=evaluation.n_seeds, level=level,
                 grouped=evaluation.grouped)
    if reason is not None:
        return {metric: Interval(metric, estimates[metric], None, None, reason=reason, **sizes) for metric in metrics}
    (draws,), seed_level = _resampled([counts], metrics, resamples, seed)
    return {metric: Interval(metric, estimates[metric],
                             *_percentiles(np.clip(_two_level(draws[metric], per_seed[metric], seed_level), 0, 1),
                                           level), **sizes)
            for metric in metrics}


def interval(evaluation: Evaluation, metric: Metric = "accuracy", resamples: int = RESAMPLES, seed: int = 0,
             level: float = LEVEL) -> Interval:
    """The two-level (seeds x test groups) percentile bootstrap interval of one metric."""
    return intervals(evaluation, (metric,), resamples, seed, level)[metric]


def check_paired(a: Evaluation, b: Evaluation) -> None:
    """StatisticsError naming both conditions unless they share the test set, its clips and groups, and the seeds."""
    if a.test_set != b.test_set or a.clip_ids != b.clip_ids or not np.array_equal(a.groups, b.groups) \
            or not np.array_equal(a.targets, b.targets) or a.labels != b.labels:
        raise StatisticsError(f"cannot compare '{a.name}' (test set {a.test_set}, {a.n_clips} clips) with "
                              f"'{b.name}' (test set {b.test_set}, {b.n_clips} clips): a paired comparison needs "
                              f"both evaluated on the same test set")
    if sorted(a.seeds) != sorted(b.seeds):
        raise StatisticsError(f"cannot compare '{a.name}' (seeds {', '.join(map(str, a.seeds))}) with '{b.name}' "
                              f"(seeds {', '.join(map(str, b.seeds))}): a paired comparison needs the same "
                              f"training seeds")


def compare(a: Evaluation, b: Evaluation, metric: Metric = "accuracy", resamples: int = RESAMPLES, seed: int = 0,
            level: float = LEVEL, power: float = 0.8, alpha: float = 0.05) -> Comparison:
    """Paired comparison a - b on one metric: difference, paired interval, bootstrap p-value, detectable size."""
    return comparisons(a, b, (metric,), resamples, seed, level, power, alpha)[metric]


def comparisons(a: Evaluation, b: Evaluation, metrics: Sequence[str] = METRICS, resamples: int = RESAMPLES,
                seed: int = 0, level: float = LEVEL, power: float = 0.8, alpha: float = 0.05
                ) -> dict[str, Comparison]:
    """`compare` on several metrics, from one set of draws."""
    for metric in metrics:
        _check_metric(metric)
    check_paired(a, b)
    order = [b.seeds.index(s) for s in a.seeds]  # pair the seeds by value
    b = replace(b, predictions=b.predictions[order], seeds=a.seeds)
    counts = [_Counts(a), _Counts(b)]
    per_seed_a, per_seed_b = (_per_seed_estimates(c) for c in counts)
    _check_settings(resamples, level)
    sizes = dict(n_clips=a.n_clips, n_groups=a.n_groups, n_seeds=a.n_seeds, level=level, grouped=a.grouped)
    reason = _too_few_groups(a)
    if reason is not None:
        return {metric: Comparison(a.name, b.name, metric, float(per_seed_a[metric].mean()),
                                   float(per_seed_b[metric].mean()), float((per_seed_a[metric]
                                                                            - per_seed_b[metric]).mean()),
                                   None, None, None, None, None, reason=reason.replace("interval", "comparison"),
                                   **sizes)
                for metric in metrics}
    (draws_a, draws_b), seed_level = _resampled(counts, metrics, resamples, seed)
    out = {}
    for metric in metrics:
        seeds_a, seeds_b = per_seed_a[metric], per_seed_b[metric]
        differences = np.clip(_two_level(draws_a[metric] - draws_b[metric], seeds_a - seeds_b, seed_level), -1, 1)
        single_a = np.clip(_two_level(draws_a[metric], seeds_a, seed_level), 0, 1)
        single_b = np.clip(_two_level(draws_b[metric], seeds_b, seed_level), 0, 1)
        low, high = _percentiles(differences, level)
        below = int(np.count_nonzero(differences <= 0))
        above = int(np.count_nonzero(differences >= 0))
        p_value = min(1.0, 2.0 * (1 + min(below, above)) / (resamples + 1))
        detectable = _detectable(float(np.hypot(_spread(single_a), _spread(single_b))), power, alpha)
        estimate_a, estimate_b = float(seeds_a.mean()), float(seeds_b.mean())
        difference = estimate_a - estimate_b
        out[metric] = Comparison(a.name, b.name, metric, estimate_a, estimate_b, difference, low, high, p_value,
                                 detectable, abs(difference) < detectable, **sizes)
    return out


def _spread(values: np.ndarray) -> float:
    """A standard error read from the central 95% of a bootstrap distribution (its width / (2 x 1.96)): the seed
    level's t variate with S - 1 = 2 degrees of freedom has no finite variance, so the sample variance of the
    resamples would be dominated by a few draws and change with the bootstrap seed."""
    low, high = np.quantile(values, [0.025, 0.975])
    return float(high - low) / (2.0 * float(stats.norm.ppf(0.975)))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (None stays None and does not count towards the family)."""
    present = [(p, index) for index, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(sorted(present)):
        running = max(running, min(1.0, (len(present) - rank) * p))
        adjusted[index] = running
    return adjusted


def holm_comparisons(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The comparisons with `p_holm` filled in, the family being all of them (e.g. every comparison in a report)."""
    adjusted = holm([comparison.p_value for comparison in comparisons])
    return [replace(comparison, p_holm=p) for comparison, p in zip(comparisons, adjusted, strict=True)]


def _detectable(standard_error: float, power: float, alpha: float) -> float:
    return float((stats.norm.ppf(1.0 - alpha / 2.0) + stats.norm.ppf(power)) * standard_error)


def detectable_accuracy_difference(n_groups: int, between_group_variance: float, power: float = 0.8,
                                   alpha: float = 0.05) -> float:
    """The smallest difference between two independent accuracies on a test set of `n_groups` groups that a
    two-sided test at `alpha` detects with `power`, when group accuracies vary with `between_group_variance` (the
    variance between groups of (correct clips - accuracy x clips) / mean clips per group)."""
    if n_groups < 2:
        raise StatisticsError(f"a test set of {n_groups} group(s) cannot detect any difference; it needs at least 2")
    standard_error = float(np.sqrt(between_group_variance / n_groups))
    return _detectable(float(np.sqrt(2.0)) * standard_error, power, alpha)


def detectable_difference(evaluation: Evaluation, power: float = 0.8, alpha: float = 0.05) -> Power:
    """The test set's smallest detectable accuracy difference, from its groups and their observed variance (seeds
    averaged), for two conditions compared as if independent (pairing can only make a test more sensitive)."""
    groups = evaluation.n_groups
    if groups < 2:
        return Power(evaluation.test_set, None, None, evaluation.n_clips, groups, power, alpha,
                     reason=_too_few_groups(evaluation).replace("interval", "power"))
    correct = (evaluation.predictions == evaluation.targets[None, :]).mean(axis=0)
    per_group = np.bincount(evaluation.groups, weights=correct, minlength=groups)
    sizes = np.bincount(evaluation.groups, minlength=groups).astype(np.float64)
    accuracy = per_group.sum() / sizes.sum()
    mean_size = sizes.mean()
    # the ratio estimator's variance: spread of (correct - accuracy x clips) between groups, per mean group size
    variance = float(((per_group - accuracy * sizes) ** 2).sum() / (groups - 1) / mean_size ** 2)
    standard_error = float(np.sqrt(variance / groups))
    difference = detectable_accuracy_difference(groups, variance, power, alpha)
    return Power(evaluation.test_set, difference, standard_error, evaluation.n_clips, groups, power, alpha)
