"""A report's evidence (synthaudio.report.evidence) and how the report shows it: intervals per condition, declared
paired comparisons with Holm's correction, power per test set, unavailable and refused cases, rebuilt reports."""

import time
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from synthaudio.report import rebuild_report, write_report
from synthaudio.report.evidence import study_evidence
from synthaudio.report.results import Condition, Pair, ResultRow, StatisticsSettings, StudyResults, setting_of
from synthaudio.report.statistics import (
    StatisticsError,
    check_paired,
    comparisons,
    evaluation_from_records,
    holm,
    intervals,
)

LABELS = ("dog", "rooster", "car_horn")
FAST = StatisticsSettings(resamples=1000)


def condition(variant: str, fraction: float = 0.5, snr_db: float | None = None, experiment: str = "mixed",
              dataset: str = "esc") -> Condition:
    synthetic = variant != "real only"
    return Condition(experiment, "mixed", dataset, variant, "audiogen" if synthetic else None,
                     "llm" if synthetic else None, 30 if synthetic else 0, fraction, "real", 0, snr_db)


def records_of(skill: float, seeds=(0, 1, 2), clips: int = 60, groups: list | None = None, sha: str = "a" * 64,
               seed: int = 0, predictions: bool = True) -> list[dict]:
    """Evaluation results as a study stage writes them (one per seed): clips of 3 classes, `skill` right; the seeds'
    models agree on most clips (each redraws a tenth of them), as trained models do."""
    generator = np.random.default_rng(seed)
    groups = [f"source{i // 3}" for i in range(clips)] if groups is None else groups
    targets = np.arange(clips) % 3
    shared = generator.random(clips) < skill
    out = []
    for train_seed in seeds:
        right = np.where(generator.random(clips) < 0.1, generator.random(clips) < skill, shared)
        predicted = np.where(right, targets, (targets + 1) % 3)
        record = {"file": f"stages/evaluate/{seed}-{train_seed}/eval.json", "labels": list(LABELS),
                  "test_manifest_sha256": sha, "split": "test", "noise": None, "train_seed": train_seed,
                  "metrics": {"accuracy": float(right.mean()), "uar": float(right.mean()),
                              "macro_f1": float(right.mean()), "num_clips": clips}}
        if predictions:
            record["predictions"] = [{"id": f"clip{i}", "group": group, "label": LABELS[t], "predicted": LABELS[p]}
                                     for i, (group, t, p) in enumerate(zip(groups, targets, predicted, strict=True))]
        out.append(record)
    return out


def results_of(conditions: list[tuple[Condition, list[dict]]], pairs: list[Pair],
               settings: StatisticsSettings = FAST) -> StudyResults:
    """A StudyResults as the study layer builds it: one row per evaluation, and the evidence."""
    rows = []
    for described, records in conditions:
        for record in records:
            metrics = record["metrics"]
            rows.append(asdict(ResultRow(
                **{**asdict(described), "seed": record["train_seed"]}, accuracy=metrics["accuracy"],
                uar=metrics["uar"], macro_f1=metrics["macro_f1"], top5_accuracy=None, test_clips=metrics["num_clips"],
                train_clips=100, synthetic_clips=0, random_weights=False, protocol="validation", best_epoch=1,
                run="run", evaluation=record["file"], split="test", labels=list(LABELS), per_class={},
                confusion_matrix=[[1, 0, 0], [0, 1, 0], [0, 0, 1]])))
    evidence = study_evidence([(setting_of(c), records) for c, records in conditions], pairs, settings)
    datasets = sorted({c.dataset for c, _ in conditions})
    return StudyResults(
        study="s", protocol="validation", seeds=[0, 1, 2], rows=rows,
        datasets=[{"dataset": d, "classes": 3, "test_clips": 60, "train_clips": 300, "val_clips": 30,
                   "chance": 1 / 3, "majority": 1 / 3, "test_label_counts": {}} for d in datasets],
        statistics=evidence.statistics, intervals=evidence.intervals, comparisons=evidence.comparisons,
        power=evidence.power)


def pair(a: Condition, b: Condition, question: str = "mixed vs real only") -> Pair:
    return Pair(question, setting_of(a), setting_of(b))


@pytest.fixture(scope="module")
def mixed_study():
    real, mixed = condition("real only"), condition("mixed")
    real_full, mixed_full = condition("real only", 1.0), condition("mixed", 1.0)
    conditions = [(real, records_of(0.45, seed=1)), (mixed, records_of(0.9, seed=2)),
                  (real_full, records_of(0.7, seed=3)), (mixed_full, records_of(0.72, seed=4))]
    return conditions, results_of(conditions, [pair(mixed, real), pair(mixed_full, real_full)])


def test_each_condition_gets_the_seeded_two_level_interval_of_the_statistics_module(mixed_study):
    conditions, results = mixed_study
    assert len(results.intervals) == 4
    for (described, records), record in zip(conditions, results.intervals, strict=True):
        expected = intervals(evaluation_from_records(records, "x"), resamples=FAST.resamples, seed=FAST.seed)
        assert record["setting"] == setting_of(described) and record["seeds"] == [0, 1, 2]
        assert (record["n_clips"], record["n_groups"], record["grouped"], record["reason"]) == (60, 20, True, None)
        for metric, interval in expected.items():
            found = record["metrics"][metric]
            assert (found["estimate"], found["low"], found["high"]) == (interval.estimate, interval.low,
                                                                        interval.high)
            assert found["low"] < found["high"]
    again = results_of(conditions, [])
    assert again.intervals == results.intervals  # seeded: the same study gives the same intervals


def test_declared_pairs_are_compared_paired_and_holm_adjusted_over_the_report(mixed_study):
    conditions, results = mixed_study
    assert [(r["question"], r["metric"]) for r in results.comparisons] == [
        ("mixed vs real only", metric) for _ in range(2) for metric in ("accuracy", "uar", "macro_f1")]
    (_, real), (_, mixed) = conditions[:2]
    direct = comparisons(evaluation_from_records(mixed, "m"), evaluation_from_records(real, "r"),
                         resamples=FAST.resamples, seed=FAST.seed)
    first = results.comparisons[0]
    assert (first["difference"], first["low"], first["high"], first["p_value"]) == pytest.approx(
        (direct["accuracy"].difference, direct["accuracy"].low, direct["accuracy"].high, direct["accuracy"].p_value))
    assert first["name_a"] == "mixed: 0.5 real + audiogen/llm 30/class" and first["name_b"] == "mixed: 0.5 real only"
    # Holm over all six comparisons of the report (two pairs x three metrics), not per pair or per metric
    p_values = [r["p_value"] for r in results.comparisons]
    assert [r["p_holm"] for r in results.comparisons] == holm(p_values)
    assert results.comparisons[0]["p_holm"] > results.comparisons[0]["p_value"]
    assert first["difference"] > 0.3 and first["p_holm"] < 0.05  # mixed at 0.9 vs real only at 0.45: supported
    assert all(r["p_holm"] >= 0.05 for r in results.comparisons[3:])  # 0.72 vs 0.70: within noise
    assert all(r["detectable"] > 0 and r["below_detectable"] == (abs(r["difference"]) < r["detectable"])
               for r in results.comparisons)


def test_the_report_shows_intervals_comparisons_power_and_the_verdict_in_words(mixed_study, tmp_path):
    _, results = mixed_study
    path, summary = write_report(results, tmp_path / "report")
    text = path.read_text()
    folder = path.parent
    table = pd.read_csv(folder / "real_fraction.csv")
    for metric in ("accuracy", "uar", "macro_f1"):
        assert {f"{metric}_mean", f"{metric}_std", f"{metric}_ci_low", f"{metric}_ci_high"} <= set(table.columns)
        assert table[f"{metric}_ci_low"].notna().all()
        assert (table[f"{metric}_ci_low"] < table[f"{metric}_ci_high"]).all()
    assert (table["test_groups"] == 20).all() and "ci_reason" in table
    row = table[(table["real_fraction"] == 0.5) & (table["variant"] == "mixed")].iloc[0]
    cell = f"{row['accuracy_mean']:.3f} [{row['accuracy_ci_low']:.2f}, {row['accuracy_ci_high']:.2f}]"
    assert f"| {cell} |" in text and cell in summary
    assert "Cells: mean over 3 training seeds [95% interval" in text
    assert "esc: 60 test clips in 20 groups (speakers, source recordings or videos, resampled whole)" in text
    compared = pd.read_csv(folder / "comparisons.csv")
    assert len(compared) == 6 and {"difference", "ci_low", "ci_high", "p_value", "p_holm", "supported",
                                   "detectable", "cannot_tell"} <= set(compared.columns)
    assert list(compared["supported"]) == [r["p_holm"] < 0.05 for r in results.comparisons]
    assert "## Paired comparisons" in text and "Holm-adjusted over all 6 comparisons of this report" in text
    assert "**Supported at the 5% level** after Holm's correction over all 6 comparisons" in text
    assert "- mixed: 0.5 real + audiogen/llm 30/class vs mixed: 0.5 real only: accuracy +0." in text
    assert "**Within noise**" in text and "- mixed: 1 real + audiogen/llm 30/class vs mixed: 1 real only (" in text
    assert "- esc test split, 60 test clips in 20 groups: 0." in text  # the power line
    assert "this test set cannot tell" in text
    intervals_csv = pd.read_csv(folder / "intervals.csv")
    assert len(intervals_csv) == 4 and intervals_csv["accuracy_ci_high"].notna().all()
    power = pd.read_csv(folder / "test_sets.csv")
    assert list(power["test_set"]) == ["esc test split"] and power["detectable"].iloc[0] > 0
    assert (folder / "real_fraction.png").read_bytes()[:4] == b"\x89PNG"
    assert "Supported at the 5% level" in summary and "power: esc test split" in summary


def test_a_report_rebuilt_from_results_json_is_the_same(mixed_study, tmp_path):
    _, results = mixed_study
    first, _ = write_report(results, tmp_path / "first")
    rebuilt, _ = rebuild_report(first.parent / "results.json", tmp_path / "rebuilt")
    names = sorted(p.name for p in first.parent.iterdir() if p.suffix in (".csv", ".md", ".json"))
    assert {"intervals.csv", "comparisons.csv", "test_sets.csv", "real_fraction.csv"} <= set(names)
    for name in names:
        assert (rebuilt.parent / name).read_text() == (first.parent / name).read_text(), name


def test_an_old_results_json_without_intervals_still_reports_and_says_why(mixed_study, tmp_path):
    _, results = mixed_study
    old = StudyResults(**{**asdict(results), "statistics": None, "intervals": [], "comparisons": [], "power": []})
    old.save(tmp_path / "results.json")
    path, summary = rebuild_report(tmp_path / "results.json", tmp_path / "report")
    text = path.read_text()
    assert "[no interval]" in text and "made before intervals were computed (run the study again)" in text
    assert "before intervals and paired comparisons were computed" in text
    table = pd.read_csv(path.parent / "real_fraction.csv")
    assert table["accuracy_ci_low"].isna().all() and table["accuracy_mean"].notna().all()


def test_unavailable_intervals_say_why_and_are_never_zero_width(tmp_path):
    old, one_group = condition("real only"), condition("mixed", experiment="other", dataset="single")
    fine = condition("mixed")
    results = results_of([(old, records_of(0.6, predictions=False)),
                          (one_group, records_of(0.6, groups=["speaker"] * 60, sha="b" * 64)),
                          (fine, records_of(0.6))], [pair(fine, old)])
    by_name = {record["name"]: record for record in results.intervals}
    missing = by_name["mixed: 0.5 real only"]
    assert missing["reason"] == ("interval unavailable: stages/evaluate/0-0/eval.json: keeps no per-clip predictions "
                                 "(made by an older version); evaluate the run again")
    assert missing["metrics"]["accuracy"]["estimate"] == pytest.approx(np.mean(
        [r["metrics"]["accuracy"] for r in records_of(0.6, predictions=False)]))
    single = by_name["other: 0.5 real + audiogen/llm 30/class"]
    assert single["reason"].startswith("interval unavailable: the test set of other: 0.5 real + audiogen/llm "
                                       "30/class has 1 group, and a test set needs at least 2")
    for record in (missing, single):
        assert all(value["low"] is None and value["high"] is None for value in record["metrics"].values())
    assert {r["reason"] for r in results.comparisons} == {
        "comparison unavailable: stages/evaluate/0-0/eval.json: keeps no per-clip predictions (made by an older "
        "version); evaluate the run again"}
    assert all(r["p_value"] is None and r["p_holm"] is None for r in results.comparisons)
    text = write_report(results, tmp_path / "report")[0].read_text()
    assert "[no interval]" in text
    assert ("No interval where marked: interval unavailable: the test set of this condition has 1 group, and a test "
            "set needs at least 2") in text
    assert "**Not compared:**" in text and "keeps no per-clip predictions" in text
    power = {p["name"]: p for p in results.power}
    assert power["single test split"]["detectable"] is None and "1 group" in power["single test split"]["reason"]


def test_without_groups_each_clip_is_its_own_group_and_the_report_says_so(tmp_path):
    real, mixed = condition("real only"), condition("mixed")
    clips = [None] * 60
    results = results_of([(real, records_of(0.5, groups=clips)), (mixed, records_of(0.6, groups=clips))],
                         [pair(mixed, real)])
    assert {(r["n_groups"], r["grouped"]) for r in results.intervals} == {(60, False)}
    assert all(r["grouped"] is False for r in results.comparisons)
    text = write_report(results, tmp_path / "report")[0].read_text()
    assert "esc: 60 test clips; the data names no groups, so each clip counts as its own group" in text
    assert "60 test clips (the data names no groups: each clip counts as its own group)" in text


def test_a_declared_pair_on_another_test_set_or_other_seeds_is_refused_with_one_line_naming_both(tmp_path):
    clean, noisy = condition("real only"), condition("real only", snr_db=0.0)
    mixed, fewer = condition("mixed"), condition("mixed", 1.0)
    conditions = [(clean, records_of(0.6)), (noisy, records_of(0.5, sha="c" * 64)), (mixed, records_of(0.7)),
                  (fewer, records_of(0.7, seeds=(0, 1)))]
    results = results_of(conditions, [pair(mixed, noisy), pair(fewer, clean)])
    evaluations = {c: evaluation_from_records(r, name) for (c, r), name in zip(conditions, (
        "mixed: 0.5 real only", "mixed: 0.5 real only, tested at 0 dB SNR", "mixed: 0.5 real + audiogen/llm 30/class",
        "mixed: 1 real + audiogen/llm 30/class"), strict=True)}
    expected = []
    for a, b in ((mixed, noisy), (fewer, clean)):
        with pytest.raises(StatisticsError) as refused:
            check_paired(evaluations[a], evaluations[b])
        expected.append(str(refused.value))
    assert expected[0].startswith("cannot compare 'mixed: 0.5 real + audiogen/llm 30/class' (test set aaaa")
    assert "with 'mixed: 0.5 real only, tested at 0 dB SNR' (test set cccc" in expected[0]
    assert expected[1] == ("cannot compare 'mixed: 1 real + audiogen/llm 30/class' (seeds 0, 1) with 'mixed: 0.5 real "
                           "only' (seeds 0, 1, 2): a paired comparison needs the same training seeds")
    assert [r["reason"] for r in results.comparisons] == [expected[0]] * 3 + [expected[1]] * 3
    assert "\n" not in expected[0] + expected[1]
    text = write_report(results, tmp_path / "report")[0].read_text()
    for line in expected:
        assert f"- refused: {line}" in text
    compared = pd.read_csv(tmp_path / "report" / "comparisons.csv")
    assert compared["p_value"].isna().all() and list(compared["reason"]) == [expected[0]] * 3 + [expected[1]] * 3


def test_noise_drawn_with_the_training_seed_is_one_test_set_for_all_seeds():
    records = records_of(0.6)
    for record in records:
        record["noise"] = {"manifest_sha256": "n" * 64, "snr_db": 5.0, "seed": record["train_seed"]}
    evaluation = evaluation_from_records(records, "noisy")  # one condition: each seed heard its own noise draw
    assert evaluation.test_set.endswith("at 5 dB drawn with the training seed")
    fixed = [{**record, "noise": {**record["noise"], "seed": 7}} for record in records]
    assert evaluation_from_records(fixed, "fixed").test_set.endswith("drawn with seed 7")


@pytest.mark.slow
def test_an_esc50_sized_report_takes_seconds():
    """About studies/esc50.yaml: 67 conditions x 3 seeds on 400 test clips in 250 groups, 50 classes, 26 pairs,
    10,000 resamples (measured: about 5 s on 2 cores; a per-resample Python loop would take many minutes)."""
    generator = np.random.default_rng(0)
    group_of = np.sort(generator.integers(0, 250, 400))
    targets = generator.integers(0, 50, 400)
    labels = [f"class{i}" for i in range(50)]
    ease = generator.beta(2, 1, 250)[group_of]
    conditions = []
    for index in range(67):
        setting = setting_of(condition(f"variant {index}"))
        records = []
        for seed in range(3):
            right = generator.random(400) < np.clip(ease * (0.5 + 0.3 * index / 67) * 1.3, 0, 1)
            predicted = np.where(right, targets, (targets + generator.integers(1, 50, 400)) % 50)
            records.append({"labels": labels, "test_manifest_sha256": "e" * 64, "split": "test", "noise": None,
                            "train_seed": seed, "metrics": {"num_clips": 400},
                            "predictions": [{"id": f"x{i}", "group": f"src{group_of[i]}", "label": labels[targets[i]],
                                             "predicted": labels[predicted[i]]} for i in range(400)]})
        conditions.append((setting, records))
    pairs = [Pair("q", conditions[index][0], conditions[0][0]) for index in range(1, 27)]
    started = time.perf_counter()
    evidence = study_evidence(conditions, pairs)
    seconds = time.perf_counter() - started
    assert len(evidence.intervals) == 67 and len(evidence.comparisons) == 78
    assert all(r["p_value"] is not None for r in evidence.comparisons)
    assert seconds < 60, f"{seconds:.1f} s"
