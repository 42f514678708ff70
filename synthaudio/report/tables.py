"""The report's tables: results aggregated over seeds (mean, sample std, n) with each condition's 95% interval
(ci_low, ci_high per metric, from results.json's intervals), as DataFrames, CSV and Markdown."""

import math
from collections.abc import Sequence

import pandas as pd

from synthaudio.report.evidence import test_set_name
from synthaudio.report.results import (
    INTERVAL_METRICS,
    METRICS,
    ROW_COLUMNS,
    SETTING_COLUMNS,
    StudyResults,
    setting_key,
)

ZERO_SHOT_KINDS = ("zero_shot", "quantity")
SHOWN_METRICS = (("accuracy", "accuracy"), ("uar", "UAR"), ("macro_f1", "macro-F1"))
KEY = "_setting"  # the column of each row's setting key (its condition without the seed)
NOT_COMPUTED = ("interval unavailable: this results.json was made before intervals were computed (run the study "
                "again)")


def rows_of(results: StudyResults, kinds: Sequence[str]) -> pd.DataFrame:
    """The result rows of these experiment kinds, each with its setting key (column KEY)."""
    rows = [{**row, KEY: setting_key(row)} for row in results.rows if row["kind"] in kinds]
    return pd.DataFrame(rows)


def interval_lookup(results: StudyResults) -> dict[str, dict]:
    """Each condition's interval record (results.json's intervals) by setting key."""
    return {setting_key(record["setting"]): record for record in results.intervals}


def aggregate(frame: pd.DataFrame, by: list[str], results: StudyResults | None = None) -> pd.DataFrame:
    """One row per group: `by`, then <metric>_mean / <metric>_std per metric, n (runs) and random_weights; with
    `results`, each group's condition interval: <metric>_ci_low / <metric>_ci_high per metric (empty when there is
    none), test_clips, test_groups, grouped (False: each clip counted as its own group) and ci_reason."""
    if frame.empty:
        return pd.DataFrame()
    lookup = interval_lookup(results) if results is not None else {}
    records = []
    for keys, group in frame.groupby(by, dropna=False, sort=True):
        record = dict(zip(by, keys if isinstance(keys, tuple) else (keys,), strict=True))
        for metric in METRICS:
            values = [float(v) for v in group[metric] if v is not None and not pd.isna(v)]
            record[f"{metric}_mean"] = sum(values) / len(values) if values else None
            record[f"{metric}_std"] = _std(values)
            if results is not None and metric in INTERVAL_METRICS:
                record[f"{metric}_ci_low"] = record[f"{metric}_ci_high"] = None
        record["n"] = len(group)
        record["random_weights"] = bool(group["random_weights"].any())
        if results is not None:
            record.update(_interval_columns(group, lookup, results))
        records.append(record)
    return pd.DataFrame(records)


def _interval_columns(group: pd.DataFrame, lookup: dict[str, dict], results: StudyResults) -> dict:
    """The interval columns of one table row: its condition's interval, or why there is none."""
    keys = set(group[KEY]) if KEY in group else set()
    found = lookup.get(next(iter(keys))) if len(keys) == 1 else None
    if found is None:
        clips = {value for value in group.get("test_clips", []) if value is not None and not pd.isna(value)}
        reason = NOT_COMPUTED if results.statistics is None else (
            "interval unavailable: the row pools several conditions" if len(keys) > 1
            else "interval unavailable: not computed for this condition")
        return {"test_clips": clips.pop() if len(clips) == 1 else None, "test_groups": None, "grouped": None,
                "ci_reason": reason}
    columns = {}
    for metric in INTERVAL_METRICS:
        value = found["metrics"][metric]
        columns[f"{metric}_ci_low"], columns[f"{metric}_ci_high"] = value["low"], value["high"]
    reason = found["reason"] and found["reason"].replace(f"'{found['name']}'", "this condition").replace(
        found["name"], "this condition")  # one wording for every row of a table that has the same problem
    columns.update(test_clips=found["n_clips"], test_groups=found["n_groups"], grouped=found["grouped"],
                   ci_reason=reason)
    return columns


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


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def interval_text(mean, low, high, n=None) -> str:
    """'0.633 [0.41, 0.82]' (the mean over seeds and its 95% interval), '0.633 [no interval]' without one;
    '(n=2)' after it when `n` (runs) is given."""
    if _missing(mean):
        return "-"
    bounds = "[no interval]" if _missing(low) or _missing(high) else f"[{low:.2f}, {high:.2f}]"
    return f"{mean:.3f} {bounds}" + ("" if n is None else f" (n={n})")


def signed_interval_text(difference, low, high) -> str:
    """A difference and its interval: '+0.120 [0.050, 0.190]'."""
    if _missing(difference):
        return "-"
    bounds = "" if _missing(low) or _missing(high) else f" [{low:+.3f}, {high:+.3f}]"
    return f"{difference:+.3f}{bounds}"


def datasets_table(results: StudyResults) -> pd.DataFrame:
    return pd.DataFrame([{"dataset": d["dataset"], "classes": d["classes"], "real train clips": d["train_clips"],
                          "real val clips": d["val_clips"], "real test clips": d["test_clips"],
                          "chance (1/classes)": d["chance"], "majority-class accuracy": d["majority"],
                          "test speakers (groups)": len(d.get("test_groups") or ()) or None}
                         for d in results.datasets])


def zero_shot_table(results: StudyResults) -> pd.DataFrame:
    return aggregate(rows_of(results, ("zero_shot",)),
                     ["experiment", "dataset", "generator", "prompts", "clips_per_class", "validation"], results)


def quantity_table(results: StudyResults) -> pd.DataFrame:
    return aggregate(rows_of(results, ("quantity",)),
                     ["experiment", "dataset", "generator", "prompts", "clips_per_class", "validation"], results)


def adaptive_table(results: StudyResults) -> pd.DataFrame:
    frame = rows_of(results, ("adaptive",))
    if frame.empty:
        return frame
    return aggregate(frame, ["experiment", "dataset", "generator", "prompts", "clips_per_class", "real_fraction",
                             "variant"], results)


def allocation_table(results: StudyResults) -> pd.DataFrame:
    """Clips added per class and round (mean over seeds), one row per adaptive run's rule and round."""
    frame = pd.DataFrame(results.allocations)
    if frame.empty:
        return frame
    frame["measured_on"] = frame["measured_on"].fillna("-")  # the uniform rounds measure nothing
    keys = ["experiment", "generator", "prompts", "rule", "round"]
    table = frame.pivot_table(index=keys, columns="label", values="added", aggfunc="mean", sort=False)
    table.columns = [str(column) for column in table.columns]
    table = table.round(1).reset_index()
    rewritten = frame[frame["rewritten"]].groupby(keys, sort=False)["label"].apply(
        lambda labels: ", ".join(f"{label} x{count}" if count > 1 else label
                                 for label, count in labels.value_counts(sort=False).items()))
    measured = frame.groupby(keys, sort=False)["measured_on"].first()
    table["measured_on"] = [measured.get(tuple(row[k] for k in keys), "-") for _, row in table.iterrows()]
    table["rewritten"] = [rewritten.get(tuple(row[k] for k in keys), "") for _, row in table.iterrows()]
    return table


def rewrites_table(results: StudyResults) -> pd.DataFrame:
    """Every LLM rewrite an adaptive run asked for, with what the class was confused with."""
    frame = pd.DataFrame(results.allocations)
    if frame.empty:
        return frame
    asked = frame[frame["rewritten"] | frame["rewrite_failed"].notna()]
    return asked[["experiment", "generator", "prompts", "rule", "seed", "round", "label", "f1_before",
                  "confused_with", "descriptors", "rewrite_failed"]].reset_index(drop=True)


def real_fraction_table(results: StudyResults) -> pd.DataFrame:
    frame = rows_of(results, ("mixed", "filtered"))
    if frame.empty:
        return frame
    frame = frame.fillna({"generator": "-", "prompts": "-"})
    return aggregate(frame, ["experiment", "dataset", "real_fraction", "variant", "generator", "prompts",
                             "clips_per_class"], results)


def speech_table(results: StudyResults) -> pd.DataFrame:
    frame = rows_of(results, ("speech_augment",))
    if frame.empty:
        return frame
    frame = frame.assign(condition=[("clean" if pd.isna(snr) else f"{snr:g} dB") for snr in frame["snr_db"]],
                         snr_order=[(math.inf if pd.isna(snr) else snr) for snr in frame["snr_db"]],
                         training_speech=[training_speech(row) for _, row in frame.iterrows()])
    table = aggregate(frame, ["experiment", "dataset", "training_speech", "variant", "snr_order", "condition"],
                      results)
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


def intervals_table(results: StudyResults) -> pd.DataFrame:
    """One row per condition (its setting columns): test set, seeds, each metric's mean over seeds with ci_low and
    ci_high, and the reason when there is no interval."""
    records = []
    for record in results.intervals:
        row = {column: record["setting"].get(column) for column in SETTING_COLUMNS}
        row.update(condition=record["name"], test_set=test_set_name(record["setting"]),
                   test_set_identity=record["test_set"], n_seeds=len(record["seeds"]),
                   seeds=" ".join(str(seed) for seed in record["seeds"]), test_clips=record["n_clips"],
                   test_groups=record["n_groups"], grouped=record["grouped"])
        for metric in INTERVAL_METRICS:
            value = record["metrics"][metric]
            row.update({metric: value["estimate"], f"{metric}_ci_low": value["low"],
                        f"{metric}_ci_high": value["high"]})
        row["ci_reason"] = record["reason"]
        records.append(row)
    return pd.DataFrame(records)


COMPARISON_COLUMNS = ("experiment", "question", "a", "b", "test_set", "metric", "estimate_a", "estimate_b",
                      "difference", "ci_low", "ci_high", "p_value", "p_holm", "supported", "detectable",
                      "cannot_tell", "n_seeds", "test_clips", "test_groups", "grouped", "reason", "test_set_identity")


def comparisons_table(results: StudyResults, alpha: float = 0.05) -> pd.DataFrame:
    """One row per declared pair and metric: a - b with its paired interval (ci_low, ci_high), p-value, Holm-adjusted
    p-value (over every comparison of the report), supported (p_holm < alpha), the smallest difference this pair
    detects with 80% power, cannot_tell (the observed difference is smaller), and why a row has no numbers."""
    records = []
    for record in results.comparisons:
        records.append({
            "experiment": record["experiment"], "question": record["question"], "a": record["name_a"],
            "b": record["name_b"], "test_set": test_set_name(record["setting_a"]), "metric": record["metric"],
            "estimate_a": record["estimate_a"], "estimate_b": record["estimate_b"],
            "difference": record["difference"], "ci_low": record["low"], "ci_high": record["high"],
            "p_value": record["p_value"], "p_holm": record["p_holm"],
            "supported": None if record["p_holm"] is None else record["p_holm"] < alpha,
            "detectable": record["detectable"], "cannot_tell": record["below_detectable"],
            "n_seeds": record["n_seeds"], "test_clips": record["n_clips"], "test_groups": record["n_groups"],
            "grouped": record["grouped"], "reason": record["reason"], "test_set_identity": record["test_set"]})
    return pd.DataFrame(records, columns=list(COMPARISON_COLUMNS))


# ---------------------------------------------------------------- display

def display(table: pd.DataFrame, columns: list[str], mark: str | None = "generator") -> pd.DataFrame:
    """The table as shown: `columns` (the `mark` column says RANDOM WEIGHTS where the synthetic data came from a
    random-weight generator), then 'mean [95% interval]' per shown metric ('(n=..)' after it on rows with fewer
    runs than the table's others; `interval_notes` says the number of seeds and the test size once)."""
    shown = table[columns].copy()
    if mark is not None and mark in shown and "random_weights" in table:
        shown[mark] = [f"{value} (RANDOM WEIGHTS)" if random and value not in (None, "-") else value
                       for value, random in zip(table[mark], table["random_weights"], strict=True)]
    most = int(table["n"].max())
    for metric, title in SHOWN_METRICS:
        lows = table.get(f"{metric}_ci_low", pd.Series([None] * len(table)))
        highs = table.get(f"{metric}_ci_high", pd.Series([None] * len(table)))
        shown[title] = [interval_text(m, low, high, None if n == most else n) for m, low, high, n in
                        zip(table[f"{metric}_mean"], lows, highs, table["n"], strict=True)]
    return shown


def interval_notes(table: pd.DataFrame) -> list[str]:
    """What the cells of an aggregated table rest on, said once: the seeds, each dataset's test clips and groups
    (or that the data names none), and why some rows have no interval."""
    if table.empty:
        return []
    runs = sorted({int(n) for n in table["n"]})
    seeds = f"{runs[0]}" if len(runs) == 1 else f"{runs[0]}-{runs[-1]}"
    lines = [f"Cells: mean over {seeds} training seed{'s' if runs[-1] > 1 else ''} [95% interval: two-level "
             "bootstrap over the seeds and the test set's groups]."]
    sizes = []
    for dataset in sorted(set(table["dataset"])):
        part = table[table["dataset"] == dataset]
        known = part.dropna(subset=["test_groups"]) if "test_groups" in part else part.iloc[0:0]
        if known.empty:
            clips = {int(c) for c in part.get("test_clips", []) if not _missing(c)}
            sizes.append(f"{dataset}: {clips.pop()} test clips" if len(clips) == 1 else f"{dataset}: test size unknown")
            continue
        first = known.iloc[0]
        groups = int(first["test_groups"])
        if bool(first["grouped"]):
            sizes.append(f"{dataset}: {int(first['test_clips'])} test clips in {plural(groups, 'group')} (speakers, "
                         "source recordings or videos, resampled whole)")
        else:
            sizes.append(f"{dataset}: {int(first['test_clips'])} test clips; the data names no groups, so each clip "
                         "counts as its own group")
    lines.append("Test sets: " + "; ".join(sizes) + ".")
    if "ci_reason" in table:
        reasons = sorted({reason for reason in table["ci_reason"] if isinstance(reason, str) and reason})
        lines += [f"No interval where marked: {reason}." if not reason.endswith(".") else
                  f"No interval where marked: {reason}" for reason in reasons]
    return lines


def _cell(value, digits: int) -> str:
    """A table cell: floats to `digits` places, a missing value as "-"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _markdown_text(text: str) -> str:
    """Cell text that stays in its cell: a row of a Markdown table ends at a line break (a label may hold one)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("|", "\\|").replace("\n", "<br>")


def markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency)."""
    if table.empty:
        return "_(no rows)_\n"
    header = [_markdown_text(str(column)) for column in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_markdown_text(_cell(value, digits)) for value in row) + " |")
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


POWER_COLUMNS = ("test_set", "test_clips", "test_groups", "grouped", "detectable", "lowest", "highest", "conditions",
                 "reason", "test_set_identity")


def power_table(results: StudyResults) -> pd.DataFrame:
    """One row per test set: its clips and groups, and the smallest accuracy difference it detects with 80% power
    at the 5% level (median, lowest and highest over the conditions tested on it), or why there is none."""
    return pd.DataFrame([{"test_set": r["name"], "test_clips": r["n_clips"], "test_groups": r["n_groups"],
                          "grouped": r["grouped"], "detectable": r["detectable"], "lowest": r["lowest"],
                          "highest": r["highest"], "conditions": r["conditions"], "reason": r["reason"],
                          "test_set_identity": r["test_set"]} for r in results.power], columns=list(POWER_COLUMNS))
