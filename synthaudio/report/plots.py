"""The report's plots, drawn with matplotlib's object API on the Agg canvas (no pyplot, no global state, no
display needed) and written atomically as PNG. Error bars are the tables' 95% intervals (accuracy_ci_low,
accuracy_ci_high: two-level bootstrap over seeds and test groups); a condition without an interval has no bar."""

import math
from pathlib import Path

import numpy as np
import pandas as pd

from synthaudio.fsutil import atomic_write

DPI = 110


def _figure(panels: int, width: float = 5.5, height: float = 4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = min(panels, 3)
    rows = math.ceil(panels / columns)
    figure = Figure(figsize=(width * columns, height * rows), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for extra in axes[panels:]:
        extra.set_visible(False)
    return figure, axes[:panels]


def _save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "wb", encoding=None) as handle:
        figure.savefig(handle, format="png", dpi=DPI)
    return path


def _chance(axis, chance: float | None) -> None:
    if chance is not None:
        axis.axhline(chance, color="grey", linestyle="--", linewidth=1, label=f"chance {chance:.3f}")


def _interval_bars(means, lows, highs) -> np.ndarray:
    """(2, n) distances from each mean down to its interval's low end and up to its high end (NaN: no interval,
    no bar; never negative, should a percentile interval not contain the mean)."""
    def values(column):
        return np.array([np.nan if v is None or pd.isna(v) else float(v) for v in column], dtype=float)

    mean, low, high = values(means), values(lows), values(highs)
    return np.vstack([np.clip(mean - low, 0, None), np.clip(high - mean, 0, None)])


ERROR_BARS = "error bars: 95% interval (seeds x test groups)"


def _blank(value) -> bool:
    """Series-name parts not worth printing: absent generator/prompts, 0 clips per class (real only)."""
    return value is None or value == "-" or value == 0 or (isinstance(value, float) and math.isnan(value))


def _generator_name(generator: str, random_weights: bool) -> str:
    return f"{generator}\n(RANDOM WEIGHTS)" if random_weights else str(generator)


def zero_shot_bars(table: pd.DataFrame, chance: dict[str, float], path: Path) -> Path:
    """Zero-shot accuracy by generator (groups) x prompt strategy and clips per class (bars), per dataset."""
    datasets = sorted(table["dataset"].unique())
    figure, axes = _figure(len(datasets), width=6.5)
    for axis, dataset in zip(axes, datasets, strict=True):
        # two experiments may list the same run (e.g. one generator's label prompts in a prompt comparison): one bar
        part = table[table["dataset"] == dataset].drop_duplicates(["generator", "prompts", "clips_per_class"])
        generators = sorted(part["generator"].unique())
        series = sorted({(p, n) for p, n in zip(part["prompts"], part["clips_per_class"], strict=True)})
        width = 0.8 / max(len(series), 1)
        for index, (prompts, count) in enumerate(series):
            chosen = part[(part["prompts"] == prompts) & (part["clips_per_class"] == count)].set_index("generator")
            means = [chosen["accuracy_mean"].get(g, np.nan) for g in generators]
            bars = _interval_bars(means, [chosen["accuracy_ci_low"].get(g) for g in generators],
                                  [chosen["accuracy_ci_high"].get(g) for g in generators])
            positions = np.arange(len(generators)) + (index - (len(series) - 1) / 2) * width
            axis.bar(positions, means, width, yerr=bars, capsize=3, label=f"{prompts}, {count} clips/class")
        random = {g: bool(part[part["generator"] == g]["random_weights"].any()) for g in generators}
        axis.set_xticks(np.arange(len(generators)), [_generator_name(g, random[g]) for g in generators])
        _chance(axis, chance.get(dataset))
        axis.set_ylim(0, 1)
        axis.set_ylabel(f"accuracy on the real test split\n({ERROR_BARS})")
        axis.set_title(f"{dataset}: zero-shot (synthetic training only)")
        axis.legend(fontsize="small")
    return _save(figure, path)


def accuracy_lines(table: pd.DataFrame, x: str, series: list[str], panel: list[str], chance: dict[str, float],
                   path: Path, xlabel: str, title: str, categorical_x: list | None = None) -> Path:
    """Mean accuracy (error bars: its 95% interval) against `x`, one line per `series` group, one panel per
    `panel` group."""
    panels = sorted({tuple(row) for row in table[panel].itertuples(index=False)})
    figure, axes = _figure(len(panels))
    for axis, keys in zip(axes, panels, strict=True):
        part = table[(table[panel] == pd.Series(keys, index=panel)).all(axis=1)]
        groups = list(part.groupby(series, sort=True, dropna=False))
        positions = sorted(set(part[x])) if not categorical_x else list(range(len(categorical_x)))
        spread = (max(positions) - min(positions)) if len(positions) > 1 and not categorical_x else 1.0
        for index, (name, group) in enumerate(groups):
            name = name if isinstance(name, tuple) else (name,)
            # categorical positions follow categorical_x ("5 dB" before "10 dB"), not the strings' sort order
            group = group.sort_values(x, key=(lambda v: v.map(categorical_x.index)) if categorical_x else None)
            label = " ".join(str(n) for n in name if not _blank(n))
            if group["random_weights"].any():
                label += " (RANDOM WEIGHTS)"
            xs = np.array([categorical_x.index(v) for v in group[x]] if categorical_x else group[x], dtype=float)
            dodge = (index - (len(groups) - 1) / 2) * 0.012 * spread  # overlapping lines stay visible
            bars = _interval_bars(group["accuracy_mean"], group["accuracy_ci_low"], group["accuracy_ci_high"])
            axis.errorbar(xs + dodge, group["accuracy_mean"], yerr=bars, marker="o", capsize=3, label=label)
        if categorical_x:
            axis.set_xticks(range(len(categorical_x)), [str(v) for v in categorical_x])
        dataset = keys[panel.index("dataset")] if "dataset" in panel else None
        _chance(axis, chance.get(dataset))
        axis.set_ylim(0, 1)
        axis.set_xlabel(xlabel)
        axis.set_ylabel(f"accuracy on the real test split\n({ERROR_BARS})")
        axis.set_title(f"{title}: {' '.join(str(k) for k in keys)}")
        axis.legend(fontsize="small")
    return _save(figure, path)


def precision_heatmap(table: pd.DataFrame, path: Path) -> Path:
    """Zero-shot per-class precision: classes (rows) x generator/prompts/clips per class (columns), per dataset."""
    datasets = sorted(table["dataset"].unique())
    figure, axes = _figure(len(datasets), width=7.0, height=max(3.0, 0.25 * table["label"].nunique() + 2))
    for axis, dataset in zip(axes, datasets, strict=True):
        part = table[table["dataset"] == dataset].copy()
        part["condition"] = [f"{e}: {g}/{p}/{n}" + (" (RANDOM)" if r else "") for e, g, p, n, r in
                             zip(part["experiment"], part["generator"], part["prompts"], part["clips_per_class"],
                                 part["random_weights"], strict=True)]
        grid = part.pivot_table(index="label", columns="condition", values="precision", aggfunc="mean")
        image = axis.imshow(grid.to_numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        axis.set_xticks(range(grid.shape[1]), grid.columns, rotation=30, ha="right", fontsize="small")
        axis.set_yticks(range(grid.shape[0]), grid.index, fontsize="small")
        if grid.size <= 200:
            for (row, column), value in np.ndenumerate(grid.to_numpy()):
                if not np.isnan(value):
                    axis.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize="x-small",
                              color="white" if value < 0.5 else "black")
        axis.set_title(f"{dataset}: zero-shot precision per class (real test split)")
        figure.colorbar(image, ax=axis, shrink=0.8)
    return _save(figure, path)


def confusion_matrix(matrix: list[list[int]], labels: list[str], title: str, path: Path) -> Path:
    """Counts summed over seeds; rows: true label, columns: predicted label."""
    values = np.array(matrix, dtype=float)
    size = max(4.0, 0.35 * len(labels) + 2)
    figure, (axis,) = _figure(1, width=size + 1, height=size)
    image = axis.imshow(values, cmap="Blues")
    axis.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize="small")
    axis.set_yticks(range(len(labels)), labels, fontsize="small")
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    if len(labels) <= 20:
        peak = values.max() if values.size else 0
        for (row, column), value in np.ndenumerate(values):
            axis.text(column, row, f"{int(value)}", ha="center", va="center", fontsize="x-small",
                      color="white" if value > peak / 2 else "black")
    axis.set_title(title, fontsize="small")
    figure.colorbar(image, ax=axis, shrink=0.8)
    return _save(figure, path)
