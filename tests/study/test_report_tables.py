"""Report tables from a hand-made results table: mean, sample std and n, intervals, chance, flags."""

import math

import pytest

from synthaudio.report import StudyResults, write_report
from synthaudio.report.tables import (
    aggregate,
    interval_text,
    markdown,
    mean_std_text,
    signed_interval_text,
    zero_shot_table,
)
from synthaudio.study.filtering import classes_to_drop


def row(seed, accuracy, generator="g", random_weights=False, kind="zero_shot", **extra):
    values = {"experiment": kind, "kind": kind, "dataset": "d", "variant": "synthetic only", "generator": generator,
              "prompts": "label", "clips_per_class": 4, "real_fraction": 0.0, "validation": "real", "seed": seed,
              "snr_db": None, "accuracy": accuracy, "uar": accuracy, "macro_f1": accuracy, "top5_accuracy": None,
              "test_clips": 10, "train_clips": 12, "synthetic_clips": 12, "random_weights": random_weights,
              "protocol": "validation", "best_epoch": 1, "evaluation": "e.json", "split": "test",
              "labels": ["a", "b"], "per_class": {"a": {"precision": 0.5, "recall": 1.0},
                                                  "b": {"precision": 1.0, "recall": 0.25}},
              "confusion_matrix": [[5, 0], [3, 2]]}
    values.update(extra)
    return values


def test_mean_sample_std_and_n():
    import pandas as pd

    table = aggregate(pd.DataFrame([row(0, 0.5), row(1, 0.7), row(2, 0.9)]), ["generator"])
    assert table["accuracy_mean"][0] == pytest.approx(0.7)
    assert table["accuracy_std"][0] == pytest.approx(0.2)  # sample std (n - 1)
    assert table["n"][0] == 3
    assert mean_std_text(0.7, 0.2, 3) == "0.700 ± 0.200 (n=3)"
    assert mean_std_text(0.7, None, 1) == "0.700 (n=1)"  # one run has no spread to show


def test_interval_cells():
    assert interval_text(0.6333, 0.4111, 0.8249) == "0.633 [0.41, 0.82]"
    assert interval_text(0.6333, None, None) == "0.633 [no interval]"
    assert interval_text(0.6333, 0.4, 0.8, 2) == "0.633 [0.40, 0.80] (n=2)"
    assert interval_text(None, None, None) == "-"
    assert signed_interval_text(0.12, 0.05, 0.19) == "+0.120 [+0.050, +0.190]"
    assert signed_interval_text(-0.02, None, None) == "-0.020"


def test_random_weights_marked_in_tables_and_report(tmp_path):
    results = StudyResults(study="s", protocol="validation", seeds=[0, 1],
                           datasets=[{"dataset": "d", "classes": 2, "test_clips": 10, "train_clips": 5,
                                      "val_clips": 2, "chance": 0.5, "majority": 0.5,
                                      "test_label_counts": {"a": 5, "b": 5}}],
                           rows=[row(0, 0.5, random_weights=True), row(1, 0.6, random_weights=True)],
                           random_weight_generators=["g (tiny-random)"])
    assert bool(zero_shot_table(results)["random_weights"][0])
    path, summary = write_report(results, tmp_path)
    text = path.read_text()
    assert "g (RANDOM WEIGHTS)" in text and "RANDOM-WEIGHT GENERATORS: g (tiny-random)" in text
    # made without the evidence (as an old results.json): the mean over seeds, no interval, and why
    assert "| 0.550 [no interval] |" in text and "made before intervals were computed" in text
    assert "WARNING" in summary and "d has only 10 real test clips (chance 0.500)" in summary
    assert (tmp_path / "zero_shot_accuracy.png").is_file() and not (tmp_path / "snr.png").exists()


def test_class_filter_drops_the_bottom_share_of_classes():
    precision = {"a": 0.9, "b": 0.1, "c": 0.5, "d": 0.1, "e": 0.7}
    assert classes_to_drop(precision, 20) == ["b"]  # 20% of 5 classes: 1, ties broken by label
    assert classes_to_drop(precision, 40) == ["b", "d"]
    assert classes_to_drop({f"c{i}": i / 50 for i in range(50)}, 20) == [f"c{i}" for i in range(10)]
    assert classes_to_drop({"a": 0.2, "b": 0.3, "c": 0.1}, 10) == []  # 0.3 classes round to none


def test_markdown_escapes_and_formats():
    import pandas as pd

    text = markdown(pd.DataFrame([{"name": "a|b", "value": math.nan, "x": 0.12345}]))
    assert "a\\|b" in text and "| - |" in text and "0.123" in text
