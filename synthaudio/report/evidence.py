"""A study's evidence: synthaudio.report.statistics applied to every condition and declared pair of a report.

`study_evidence` takes each condition (a result row's Condition without its seed: all seeds of one setting on one
test set) with its evaluation results (one per seed, keeping per-clip predictions), and the pairs the experiments
declared (`Pair`), and returns plain records for results.json:

- per condition, the two-level (seeds x test groups) bootstrap interval of accuracy, UAR and macro-F1, or why
  there is none (evaluations without per-clip predictions; a test set of fewer than two groups);
- per pair and metric, the paired difference a - b, its interval and bootstrap p-value, Holm-adjusted across every
  comparison of the report, and the smallest difference that pair detects with 80% power ("this test set cannot
  tell" when the observed one is smaller); a pair on different test sets or seeds is refused with the one line
  `statistics.check_paired` writes, naming both;
- per test set, the smallest accuracy difference it detects with 80% power at its number of groups
  (`statistics.detectable_difference`, median over the conditions tested on it).

Every number comes from one seeded set of draws per test set (`StatisticsSettings.seed`), so the same study gives
the same evidence; the resampling is vectorised (statistics: no Python loop per resample).
"""

import statistics as pystatistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from synthaudio.report.results import (
    INTERVAL_METRICS,
    ComparisonRecord,
    ConditionIntervals,
    MetricInterval,
    Pair,
    StatisticsSettings,
    TestSetPower,
    setting_key,
)
from synthaudio.report.statistics import (
    Evaluation,
    StatisticsError,
    comparisons,
    detectable_difference,
    evaluation_from_records,
    holm,
    intervals,
)

METRIC_TITLES = {"accuracy": "accuracy", "uar": "UAR", "macro_f1": "macro-F1"}


@dataclass
class Evidence:
    """results.json's statistics, intervals, comparisons and power (plain dicts)."""

    statistics: dict
    intervals: list[dict]
    comparisons: list[dict]
    power: list[dict]


def condition_name(setting: dict) -> str:
    """How the report names a condition: its experiment, then what it trained on (and its test condition)."""
    kind, variant = setting["kind"], setting["variant"]
    synthetic = (f"{setting['generator']}/{setting['prompts']} {setting['clips_per_class']}/class"
                 if setting.get("generator") else None)
    real = f"{setting['real_fraction']:g} real"
    if kind in ("zero_shot", "quantity"):
        body = synthetic or variant
    elif kind in ("mixed", "filtered"):
        if variant == "real only" or synthetic is None:
            body = f"{real} only" if variant == "real only" else f"{real} ({variant})"
        elif variant == "mixed":
            body = f"{real} + {synthetic}"
        else:
            body = f"{real} + {variant} {synthetic}"
    elif kind == "speech_augment":
        body = "no noise augmentation" if variant == "none" else f"augmented with {variant}"
    else:
        body = " ".join(str(part) for part in (variant, synthetic) if part)
    snr = setting.get("snr_db")
    test = "" if snr is None else f", tested at {snr:g} dB SNR"
    if kind == "speech_augment" and snr is None:
        test = ", tested clean"
    return f"{setting['experiment']}: {body}{test}"


def test_set_name(setting: dict) -> str:
    """The test set of a condition in words: its dataset's real test split, clean or with noise at an SNR."""
    snr = setting.get("snr_db")
    return f"{setting['dataset']} test split" + ("" if snr is None else f" + noise at {snr:g} dB SNR")


def study_evidence(conditions: Sequence[tuple[dict, list[dict]]], pairs: Sequence[Pair],
                   settings: StatisticsSettings | None = None) -> Evidence:
    """The evidence of a report. `conditions`: (setting, its evaluation results, one per seed) in report order;
    `pairs`: the declared comparisons, in order; `settings`: resamples, seed, level, power (StatisticsSettings())."""
    settings = settings or StatisticsSettings()
    evaluations: dict[str, Evaluation] = {}
    problems: dict[str, str] = {}
    names: dict[str, str] = {}
    records = []
    for setting, results in conditions:
        key, name = setting_key(setting), condition_name(setting)
        names[key] = name
        record, evaluation = _condition(setting, name, results, settings)
        records.append(record)
        if evaluation is not None:
            evaluations[key] = evaluation
        if record.reason is not None:
            problems[key] = record.reason
    return Evidence(asdict(settings), [asdict(record) for record in records],
                    [asdict(record) for record in _comparisons(pairs, evaluations, problems, names, settings)],
                    [asdict(record) for record in _power(evaluations, conditions, settings)])


def _condition(setting: dict, name: str, results: list[dict], settings: StatisticsSettings
               ) -> tuple[ConditionIntervals, Evaluation | None]:
    seeds = [int(result["train_seed"]) for result in results if result.get("train_seed") is not None]
    try:
        evaluation = evaluation_from_records(results, name)
    except StatisticsError as error:
        estimates = {metric: _mean([result["metrics"].get(metric) for result in results])
                     for metric in INTERVAL_METRICS}
        clips = {result["metrics"].get("num_clips") for result in results}
        return ConditionIntervals(
            name, dict(setting), None, seeds, clips.pop() if len(clips) == 1 else None, None, None,
            {metric: MetricInterval(estimates[metric], None, None) for metric in INTERVAL_METRICS},
            reason=f"interval unavailable: {error}"), None
    found = intervals(evaluation, INTERVAL_METRICS, settings.resamples, settings.seed, settings.level)
    first = found[INTERVAL_METRICS[0]]
    return ConditionIntervals(
        name, dict(setting), evaluation.test_set, list(evaluation.seeds), evaluation.n_clips, evaluation.n_groups,
        evaluation.grouped, {metric: MetricInterval(value.estimate, value.low, value.high)
                             for metric, value in found.items()}, reason=first.reason), evaluation


def _mean(values: list) -> float | None:
    present = [float(value) for value in values if value is not None]
    return sum(present) / len(present) if present else None


def _comparisons(pairs: Sequence[Pair], evaluations: dict[str, Evaluation], problems: dict[str, str],
                 names: dict[str, str], settings: StatisticsSettings) -> list[ComparisonRecord]:
    out: list[ComparisonRecord] = []
    for pair in pairs:
        key_a, key_b = setting_key(pair.a), setting_key(pair.b)
        described = dict(question=pair.question, experiment=pair.a["experiment"],
                         name_a=names.get(key_a, condition_name(pair.a)),
                         name_b=names.get(key_b, condition_name(pair.b)),
                         setting_a=dict(pair.a), setting_b=dict(pair.b))
        reason = None
        for key, name in ((key_a, described["name_a"]), (key_b, described["name_b"])):
            if reason is None and key not in evaluations:
                reason = (f"comparison unavailable: {problems[key].removeprefix('interval unavailable: ')}"
                          if key in problems else f"comparison unavailable: no results for '{name}'")
        if reason is not None:
            out += [ComparisonRecord(metric=metric, test_set=None, reason=reason, **described)
                    for metric in INTERVAL_METRICS]
            continue
        a, b = evaluations[key_a], evaluations[key_b]
        try:
            found = comparisons(a, b, INTERVAL_METRICS, settings.resamples, settings.seed, settings.level,
                                settings.power, settings.alpha)
        except StatisticsError as error:  # different test sets or seeds: the one line naming both
            out += [ComparisonRecord(metric=metric, test_set=None, reason=str(error), **described)
                    for metric in INTERVAL_METRICS]
            continue
        for metric, result in found.items():
            out.append(ComparisonRecord(
                metric=metric, test_set=a.test_set, estimate_a=result.estimate_a, estimate_b=result.estimate_b,
                difference=result.difference, low=result.low, high=result.high, p_value=result.p_value,
                detectable=result.detectable, below_detectable=result.below_detectable, n_seeds=result.n_seeds,
                n_clips=result.n_clips, n_groups=result.n_groups, grouped=result.grouped, reason=result.reason,
                **described))
    adjusted = holm([record.p_value for record in out])  # the family: every comparison of the report
    return [ComparisonRecord(**{**asdict(record), "p_holm": p}) for record, p in zip(out, adjusted, strict=True)]


def _power(evaluations: dict[str, Evaluation], conditions: Sequence[tuple[dict, list[dict]]],
           settings: StatisticsSettings) -> list[TestSetPower]:
    """One line per test set: the detectable accuracy difference of each condition tested on it, summarised."""
    by_test_set: dict[str, list[tuple[dict, Evaluation]]] = {}
    for setting, _ in conditions:
        evaluation = evaluations.get(setting_key(setting))
        if evaluation is not None:
            by_test_set.setdefault(evaluation.test_set, []).append((setting, evaluation))
    out = []
    for test_set, members in by_test_set.items():
        setting, first = members[0]
        found = [detectable_difference(evaluation, settings.power, settings.alpha) for _, evaluation in members]
        # a condition whose accuracy is the same in every group (e.g. all correct) has no variance to go by
        sizes = [power.difference for power in found if power.difference]
        reason = (f"power unavailable: the test set has {first.n_groups} group{'' if first.n_groups == 1 else 's'}, "
                  "and at least 2 are needed" if first.n_groups < 2 else
                  "power unavailable: no condition's accuracy varies between the groups of this test set, so there is "
                  "no variance to estimate it from")
        out.append(TestSetPower(
            test_set, test_set_name(setting), first.n_clips, first.n_groups, first.grouped,
            pystatistics.median(sizes) if sizes else None, min(sizes) if sizes else None,
            max(sizes) if sizes else None, len(sizes), reason=None if sizes else reason))
    return out
