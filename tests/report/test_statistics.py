"""Intervals, paired tests and power (synthaudio.report.statistics) on simulated predictions of known accuracy."""

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, f1_score, recall_score

from synthaudio.report.statistics import (
    METRICS,
    StatisticsError,
    compare,
    detectable_difference,
    evaluation_from_files,
    evaluation_from_records,
    holm,
    holm_comparisons,
    interval,
    intervals,
    make_evaluation,
)

TRUE_ACCURACY = 0.7


def binary(name, correct, groups=None, seeds=None, test_set="test"):
    """An evaluation whose clips are all of class 0: a correct prediction is 0, a wrong one 1."""
    correct = np.atleast_2d(correct)
    return make_evaluation(name, np.zeros(correct.shape[1], dtype=int), np.where(correct, 0, 1), groups=groups,
                           seeds=seeds, test_set=test_set)


def speakers(generator, n_groups, clips_per_group, seeds=1):
    """Correctness with strong speaker effects: each speaker's accuracy ~ Beta(1.4, 0.6) (mean 0.7, many speakers
    near 0 or 1), clips of one speaker alike."""
    per_group = generator.beta(1.4, 0.6, n_groups)
    groups = np.repeat(np.arange(n_groups), clips_per_group)
    return generator.random((seeds, len(groups))) < per_group[groups], groups


def test_estimates_are_the_seed_mean_of_the_sklearn_metrics():
    generator = np.random.default_rng(0)
    targets = generator.integers(0, 6, 120)
    predictions = np.where(generator.random((3, 120)) < 0.6, targets, generator.integers(0, 7, (3, 120)))
    targets[targets == 5] = 4  # class 5 absent from the test clips but predicted: macro averages skip it
    found = intervals(make_evaluation("x", targets, predictions, labels=[str(i) for i in range(7)]), resamples=200)
    present = sorted(set(targets))
    expected = {"accuracy": np.mean([accuracy_score(targets, p) for p in predictions]),
                "uar": np.mean([recall_score(targets, p, labels=present, average="macro") for p in predictions]),
                "macro_f1": np.mean([f1_score(targets, p, labels=present, average="macro") for p in predictions])}
    for metric in METRICS:
        assert found[metric].estimate == pytest.approx(expected[metric], abs=1e-12)
        assert found[metric].low < found[metric].estimate < found[metric].high


def test_clip_level_intervals_cover_the_true_accuracy_95_percent_of_the_time():
    generator = np.random.default_rng(1)
    covered = 0
    for index in range(1000):
        found = interval(binary("x", generator.random(100) < TRUE_ACCURACY), resamples=500, seed=index)
        covered += found.low <= TRUE_ACCURACY <= found.high
    assert 0.93 <= covered / 1000 <= 0.97


def test_grouped_intervals_cover_the_truth_and_are_wider_than_clip_level_ones():
    generator = np.random.default_rng(2)
    covered = covered_as_clips = 0
    widths, widths_as_clips = [], []
    for index in range(1000):
        correct, groups = speakers(generator, 40, 4)
        grouped = interval(binary("x", correct, groups), resamples=500, seed=index)
        as_clips = interval(binary("x", correct), resamples=500, seed=index)
        covered += grouped.low <= TRUE_ACCURACY <= grouped.high
        covered_as_clips += as_clips.low <= TRUE_ACCURACY <= as_clips.high
        widths.append(grouped.high - grouped.low)
        widths_as_clips.append(as_clips.high - as_clips.low)
    assert 0.93 <= covered / 1000 <= 0.97
    # treating a speaker's clips as independent understates the uncertainty, and misses the truth far more often
    assert np.mean(widths) > 1.3 * np.mean(widths_as_clips)
    assert covered_as_clips / 1000 < 0.90


def test_three_seeds_with_training_randomness_still_cover_the_truth():
    generator = np.random.default_rng(13)
    covered, widths, widths_without = 0, [], []
    for index in range(1000):
        groups = np.repeat(np.arange(40), 4)
        per_group = 0.1 + 0.8 * generator.beta(1.5, 0.5, 40)  # mean 0.7, within [0.1, 0.9]
        training = generator.uniform(-0.1, 0.1, (3, 1))  # each seed's model a little better or worse overall
        correct = generator.random((3, 160)) < per_group[groups] + training
        found = interval(binary("x", correct, groups), resamples=500, seed=index)
        covered += found.low <= TRUE_ACCURACY <= found.high
        widths.append(found.high - found.low)
        if index < 200:
            without = interval(binary("x", generator.random((3, 160)) < per_group[groups], groups), resamples=500,
                               seed=index)
            widths_without.append(without.high - without.low)
    assert 0.93 <= covered / 1000 <= 0.97
    assert np.mean(widths) > 1.1 * np.mean(widths_without)  # the seed level adds the training randomness


def test_one_seed_clip_level_interval_agrees_with_scipy_bootstrap():
    correct = np.random.default_rng(3).random(300) < TRUE_ACCURACY
    ours = interval(binary("x", correct), resamples=10_000, seed=0)
    theirs = stats.bootstrap((correct.astype(float),), np.mean, n_resamples=10_000, method="percentile",
                             random_state=0).confidence_interval
    assert ours.low == pytest.approx(theirs.low, abs=0.01) and ours.high == pytest.approx(theirs.high, abs=0.01)


def test_seeded_and_the_training_seeds_spread_widens_the_interval():
    generator = np.random.default_rng(4)
    correct, groups = speakers(generator, 60, 4, seeds=3)
    evaluation = binary("x", correct, groups)
    assert interval(evaluation, seed=5, resamples=2000) == interval(evaluation, seed=5, resamples=2000)
    assert interval(evaluation, seed=5, resamples=2000) != interval(evaluation, seed=6, resamples=2000)
    # seeds whose models differ overall (one much better than the others) on the same test clips
    shifted = correct.copy()
    shifted[0] = generator.random(correct.shape[1]) < 0.95
    shifted[2] = generator.random(correct.shape[1]) < 0.45
    spread = interval(binary("x", shifted, groups), seed=5, resamples=2000)
    calm = interval(evaluation, seed=5, resamples=2000)
    assert spread.high - spread.low > 1.5 * (calm.high - calm.low)


def test_fewer_than_two_groups_is_unavailable_with_the_reason():
    found = interval(binary("demo", np.ones(10, dtype=bool), groups=["alice"] * 10))
    assert found.low is None and found.high is None and found.estimate == 1.0
    assert found.reason == ("interval unavailable: the test set of demo has 1 group, and a test set needs at least 2 "
                            "to say how much a result would vary on other groups")
    power = detectable_difference(binary("demo", np.ones(10, dtype=bool), groups=["alice"] * 10))
    assert power.difference is None and "power unavailable" in power.reason


def test_paired_test_rejects_at_the_nominal_rate_under_the_null_and_finds_real_differences():
    generator = np.random.default_rng(5)
    null_rejections = found = 0
    for index in range(400):
        groups = np.repeat(np.arange(40), 4)
        # both conditions see the same speakers and clips (shared difficulty): that is what pairing exploits
        difficulty = np.clip(generator.beta(1.4, 0.6, 40)[groups] + generator.normal(0, 0.2, 160), 0, 1)
        a = binary("a", generator.random((3, 160)) < difficulty, groups)
        b = binary("b", generator.random((3, 160)) < difficulty, groups)
        better = binary("better", generator.random((3, 160)) < np.clip(difficulty + 0.15, 0, 1), groups)
        null_rejections += compare(a, b, resamples=500, seed=index).p_value < 0.05
        found += compare(better, b, resamples=500, seed=index).p_value < 0.05
    assert 0.02 <= null_rejections / 400 <= 0.08
    assert found / 400 > 0.8  # a 15-point gain on 40 speakers with 3 seeds


def test_paired_interval_is_narrower_than_the_unpaired_spread_and_excludes_zero_when_p_is_small():
    generator = np.random.default_rng(6)
    correct, groups = speakers(generator, 50, 4, seeds=3)
    improved = correct | (generator.random(correct.shape) < 0.3)
    result = compare(binary("filtered", improved, groups), binary("unfiltered", correct, groups), seed=1)
    assert result.difference == pytest.approx(improved.mean() - correct.mean())
    assert 0 < result.low < result.difference < result.high and result.p_value < 0.05
    alone = interval(binary("unfiltered", correct, groups), seed=1)
    assert result.high - result.low < alone.high - alone.low  # pairing cancels the speakers' shared difficulty
    for metric in ("uar", "macro_f1"):
        assert compare(binary("f", improved, groups), binary("u", correct, groups), metric, seed=1).metric == metric


def test_comparisons_across_test_sets_or_seeds_are_refused_naming_both():
    correct = np.random.default_rng(7).random((3, 20)) < 0.5
    mixed = binary("mixed 50%", correct, test_set="esc50 fold 1")
    with pytest.raises(StatisticsError) as error:
        compare(mixed, binary("real only", correct, test_set="esc50 fold 2"))
    assert str(error.value) == ("cannot compare 'mixed 50%' (test set esc50 fold 1, 20 clips) with 'real only' "
                                "(test set esc50 fold 2, 20 clips): a paired comparison needs both evaluated on the "
                                "same test set")
    with pytest.raises(StatisticsError, match=r"^cannot compare 'mixed 50%' \(seeds 0, 1, 2\) with 'real only' "
                                              r"\(seeds 0, 1, 7\): a paired comparison needs the same training seeds"):
        compare(mixed, binary("real only", correct, seeds=[0, 1, 7], test_set="esc50 fold 1"))
    with pytest.raises(StatisticsError, match="^unknown metric 'f1'; known: accuracy, uar, macro_f1$"):
        compare(mixed, mixed, "f1")


def test_seeds_are_paired_by_value_not_position():
    correct = np.random.default_rng(8).random((3, 40)) < 0.6
    a = binary("a", correct, seeds=[0, 1, 2])
    reordered = binary("b", correct[::-1], seeds=[2, 1, 0])
    result = compare(a, reordered, resamples=300)
    assert result.difference == 0 and result.low == result.high == 0 and result.p_value == 1.0


def test_holm_adjusts_across_the_family():
    adjusted = holm([0.01, 0.04, 0.03, 0.005, None])
    assert adjusted[4] is None
    assert adjusted[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    generator = np.random.default_rng(9)
    base = binary("base", generator.random((1, 200)) < 0.6)
    results = holm_comparisons([compare(binary(f"c{i}", generator.random((1, 200)) < 0.6 + 0.1 * (i == 0)), base,
                                        resamples=2000) for i in range(4)])
    assert all(r.p_holm >= r.p_value for r in results)
    assert sorted(r.p_holm for r in results)[0] == pytest.approx(min(1.0, 4 * min(r.p_value for r in results)))


def test_detectable_difference_grows_with_speaker_effects_and_flags_small_effects():
    generator = np.random.default_rng(10)
    correct, groups = speakers(generator, 40, 10)
    grouped = detectable_difference(binary("x", correct, groups))
    as_clips = detectable_difference(binary("x", correct))
    assert grouped.n_groups == 40 and as_clips.n_groups == 400
    assert grouped.difference > 1.5 * as_clips.difference  # ten clips of one speaker are worth far less than ten
    # the analytic size agrees with the one the paired comparison derives from its bootstrap (one seed)
    other = binary("y", generator.random((1, 400)) < 0.7, groups)
    result = compare(binary("x", correct, groups), other, seed=2)
    standard_errors = np.hypot(grouped.standard_error, detectable_difference(other).standard_error)
    assert result.detectable == pytest.approx((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * standard_errors, rel=0.2)
    assert result.below_detectable == (abs(result.difference) < result.detectable)
    tiny = compare(binary("a", correct, groups), binary("b", np.roll(correct, 1), groups), seed=2)
    assert abs(tiny.difference) < tiny.detectable and tiny.below_detectable


def records_of(name, correct, groups, seeds, sha="abc", labels=("yes", "no")):
    """Evaluation results as synthaudio.recognition.evaluation writes them, one per training seed."""
    return [{"file": f"{name}/seed{seed}/eval.json", "labels": list(labels), "test_manifest_sha256": sha,
             "split": "test", "noise": None, "train_seed": seed,
             "predictions": [{"id": f"clip{i}", "group": group, "label": "yes", "predicted": "yes" if ok else "no",
                              "probabilities": {"yes": 0.9 if ok else 0.1, "no": 0.1 if ok else 0.9}}
                             for i, (ok, group) in enumerate(zip(row, groups, strict=True))]}
            for seed, row in zip(seeds, correct, strict=True)]


def test_evaluation_from_records():
    generator = np.random.default_rng(11)
    correct = generator.random((2, 30)) < 0.7
    groups = [f"speaker{i % 6}" for i in range(29)] + [None]  # the last clip has no group: its own
    evaluation = evaluation_from_records(records_of("mixed", correct, groups, [3, 4]), "mixed")
    assert evaluation.seeds == (3, 4) and evaluation.labels == ("yes", "no") and evaluation.n_groups == 7
    assert evaluation.clip_ids[:2] == ("clip0", "clip1") and evaluation.grouped
    np.testing.assert_array_equal(evaluation.predictions == evaluation.targets, correct)
    assert interval(evaluation).estimate == pytest.approx(correct.mean())
    ungrouped = evaluation_from_records(records_of("real", correct, [None] * 30, [3, 4]), "real")
    assert ungrouped.n_groups == 30 and not ungrouped.grouped
    compare(evaluation, evaluation_from_records(records_of("real", correct, groups, [4, 3]), "real"))


def test_evaluation_from_records_bad_input():
    correct = np.ones((2, 5), dtype=bool)
    old = records_of("old", correct, [None] * 5, [0, 1])
    del old[1]["predictions"]
    with pytest.raises(StatisticsError, match=r"^old/seed1/eval.json: keeps no per-clip predictions \(made by an "
                                              r"older version\); evaluate the run again$"):
        evaluation_from_records(old, "old")
    mixed = records_of("a", correct[:1], [None] * 5, [0]) + records_of("a", correct[:1], [None] * 5, [1], sha="def")
    with pytest.raises(StatisticsError, match="^a/seed1/eval.json: another test set or label set than "
                                              "a/seed0/eval.json"):
        evaluation_from_records(mixed, "a")
    with pytest.raises(StatisticsError, match="^a: no evaluation results$"):
        evaluation_from_records([], "a")
    other_run = records_of("b", correct, [None] * 5, [0, 0])
    with pytest.raises(StatisticsError, match=r"^b: need one distinct seed per row of predictions, got \[0, 0\]$"):
        evaluation_from_records(other_run, "b")


def test_evaluation_from_files_and_the_grouped_flag(tmp_path):
    import json

    correct = np.random.default_rng(12).random((2, 12)) < 0.5
    paths = []
    for record in records_of("real", correct, [None] * 12, [0, 1]):
        paths.append(tmp_path / f"seed{record['train_seed']}.json")
        paths[-1].write_text(json.dumps(record))
    found = interval(evaluation_from_files(paths, "real"), resamples=200)
    assert found.n_groups == 12 and not found.grouped  # the report must say each clip counted as its own group
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(StatisticsError, match=r"broken.json: not a readable evaluation result \("):
        evaluation_from_files([tmp_path / "broken.json"], "real")


def test_bad_settings_are_one_line():
    evaluation = binary("x", np.ones(10, dtype=bool))
    with pytest.raises(StatisticsError, match=r"^resamples must be a whole number >= 100, got 10$"):
        interval(evaluation, resamples=10)
    with pytest.raises(StatisticsError,
                       match=r"^the interval level must lie between 0 and 1 \(0.95 for 95%\), got 95$"):
        interval(evaluation, level=95)
    with pytest.raises(StatisticsError, match="^empty: no test clips$"):
        make_evaluation("empty", [], [[]])
