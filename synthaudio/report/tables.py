"""The report's tables: results aggregated over seeds (mean, sample std, n), as DataFrames, CSV and Markdown."""

import math
from collections.abc import Sequence

import pandas as pd

from synthaudio.report.results import METRICS, ROW_COLUMNS, StudyResults

ZERO_SHOT_KINDS = ("zero_shot", "quantity")
SHOWN_METRICS = (("accuracy", "accuracy"), ("uar", "UAR"), ("macro_f1", "macro-F1"))


def rows_of(results: StudyResults, kinds: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame([row for row in results.rows if row["kind"] in kinds])
    return frame


def aggregate(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """One row per group: `by`, then <metric>_mean / <metric>_std per metric, n (runs) and random_weights."""
    if frame.empty:
        return pd.DataFrame()
    records = []
    for keys, group in frame.groupby(by, dropna=False, sort=True):
        record = dict(zip(by, keys if isinstance(keys, tuple) else (keys,), strict=True))
        for metric in METRICS:
            values = [float(v) for v in group[metric] if v is not None and not pd.isna(v)]
            record[f"{metric}_mean"] = sum(values) / len(values) if values else None
            record[f"{metric}_std"] = _std(values)
        record["n"] = len(group)
        record["random_weights"] = bool(group["random_weights"].any())
        records.append(record)
    return pd.DataFrame(records)


def _std(values: list[float]) -> float | None:
    """Sample standard deviation (n - 1); None for fewer than two runs."""
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def mean_std_text(mean, std, n) -> str:
    if mean is None or pd.isna(mean):
        return "-"
    if std is None or pd.isna(std):
        return f"{mean:.3f} (n={n})"
    return f"{mean:.3f} ± {std:.3f} (n={n})"


def datasets_table(results: StudyResults) -> pd.DataFrame:
    return pd.DataFrame([{"dataset": d["dataset"], "classes": d["classes"], "real train clips": d["train_clips"],
                          "real val clips": d["val_clips"], "real test clips": d["test_clips"],
                          "chance (1/classes)": d["chance"], "majority-class accuracy": d["majority"],
                          "test speakers (groups)": len(d.get("test_groups") or ()) or None}
                         for d in results.datasets])


def zero_shot_table(results: StudyResults) -> pd.DataFrame:
    return aggregate(rows_of(results, ("zero_shot",)),
                     ["experiment", "dataset", "generator", "prompts", "clips_per_class", "validation"])


def quantity_table(results: StudyResults) -> pd.DataFrame:
    return aggregate(rows_of(results, ("quantity",)),
                     ["experiment", "dataset", "generator", "prompts", "clips_per_class", "validation"])


def real_fraction_table(results: StudyResults) -> pd.DataFrame:
    frame = rows_of(results, ("mixed", "filtered"))
    if frame.empty:
        return frame
    frame = frame.fillna({"generator": "-", "prompts": "-"})
    return aggregate(frame, ["experiment", "dataset", "real_fraction", "variant", "generator", "prompts",
                             "clips_per_class"])


def speech_table(results: StudyResults) -> pd.DataFrame:
    frame = rows_of(results, ("speech_augment",))
    if frame.empty:
        return frame
    frame = frame.assign(condition=[("clean" if pd.isna(snr) else f"{snr:g} dB") for snr in frame["snr_db"]],
                         snr_order=[(math.inf if pd.isna(snr) else snr) for snr in frame["snr_db"]],
                         training_speech=[training_speech(row) for _, row in frame.iterrows()])
    table = aggregate(frame, ["experiment", "dataset", "training_speech", "variant", "snr_order", "condition"])
    return table.drop(columns="snr_order")


def training_speech(row) -> str:
    """'real' (a fraction of the real training split), or the synthetic speech a zero-shot model trained on."""
    if row["real_fraction"] > 0:
        return "real" if row["real_fraction"] == 1 else f"real ({row['real_fraction']:g} of train)"
    return f"synthetic {row['generator']}/{row['prompts']} ({row['clips_per_class']}/class)"


def per_class_precision_table(results: StudyResults) -> pd.DataFrame:
    """Zero-shot precision and recall per class on the real test split (mean over seeds)."""
    records = []
    for row in results.rows:
        if row["kind"] not in ZERO_SHOT_KINDS:
            continue
        for label, values in row["per_class"].items():
            records.append({"experiment": row["experiment"], "dataset": row["dataset"],
                            "generator": row["generator"], "prompts": row["prompts"],
                            "clips_per_class": row["clips_per_class"], "label": label,
                            "precision": values["precision"], "recall": values["recall"],
                            "random_weights": row["random_weights"]})
    if not records:
        return pd.DataFrame()
    frame = pd.DataFrame(records)
    keys = ["experiment", "dataset", "generator", "prompts", "clips_per_class", "label"]
    return frame.groupby(keys, sort=True).agg(precision=("precision", "mean"), recall=("recall", "mean"),
                                              n=("precision", "size"),
                                              random_weights=("random_weights", "any")).reset_index()


def class_filter_table(results: StudyResults) -> pd.DataFrame:
    records = []
    for record in results.filters:
        if record["filter"] != "class":
            continue
        for label, precision in sorted(record["precision"].items()):
            records.append({"experiment": record["experiment"], "dataset": record["dataset"],
                            "generator": record["generator"], "prompts": record["prompts"],
                            "clips_per_class": record["clips_per_class"], "label": label, "precision": precision,
                            "measured_on": record["measured_on"], "runs": record["runs"],
                            "dropped": label in record["dropped_classes"]})
    return pd.DataFrame(records)


def clip_filter_table(results: StudyResults) -> pd.DataFrame:
    return pd.DataFrame([{"experiment": r["experiment"], "dataset": r["dataset"], "generator": r["generator"],
                          "prompts": r["prompts"], "clips_per_class": r["clips_per_class"],
                          "real_fraction": r["real_fraction"], "seed": r["seed"], "scorer": r["scorer"],
                          "threshold": r["threshold"], "kept": r["kept_clips"], "dropped": r["dropped_clips"],
                          "mean_score": r["mean_score"]}
                         for r in results.filters if r["filter"] == "clip"])


def results_table(results: StudyResults) -> pd.DataFrame:
    return pd.DataFrame([{column: row.get(column) for column in ROW_COLUMNS} for row in results.rows],
                        columns=list(ROW_COLUMNS))


# ---------------------------------------------------------------- display

def display(table: pd.DataFrame, columns: list[str], mark: str | None = "generator") -> pd.DataFrame:
    """The table as shown: `columns` (the `mark` column says RANDOM WEIGHTS where the synthetic data came from a
    random-weight generator), then 'mean ± std (n=..)' per shown metric."""
    shown = table[columns].copy()
    if mark is not None and mark in shown and "random_weights" in table:
        shown[mark] = [f"{value} (RANDOM WEIGHTS)" if random and value not in (None, "-") else value
                       for value, random in zip(table[mark], table["random_weights"], strict=True)]
    for metric, title in SHOWN_METRICS:
        shown[title] = [mean_std_text(m, s, n) for m, s, n in
                        zip(table[f"{metric}_mean"], table[f"{metric}_std"], table["n"], strict=True)]
    return shown


def _cell(value, digits: int) -> str:
    """A table cell: floats to `digits` places, a missing value as "-"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency)."""
    if table.empty:
        return "_(no rows)_\n"
    header = [str(column) for column in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(value, digits).replace("|", "\\|") for value in row) + " |")
    return "\n".join(lines) + "\n"


def text_table(table: pd.DataFrame, digits: int = 3) -> str:
    """A plain aligned table for the terminal."""
    if table.empty:
        return "(no rows)"
    cells = [[str(c) for c in table.columns]] + [[_cell(v, digits) for v in row]
                                                 for row in table.itertuples(index=False)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
