"""Per-class domain gap between synthetic and real clips in an embedding space, and whether it explains which
classes fail zero-shot.

For one class: the Fréchet distance between Gaussians fitted to the two sets of embeddings (as FAD), the
kernel distance (KAD: the unbiased estimate of the squared MMD with a Gaussian kernel whose bandwidth is the
median pairwise distance; unbiased, so it suits the few clips a class has, where the Fréchet distance is biased
upwards by the sample size), and detectability: the cross-validated ROC AUC of a logistic regression telling
the class's real clips from its synthetic ones (0.5: indistinguishable, 1: always told apart).

Across classes: the Spearman rank correlation between a class's gap and its zero-shot precision, with a
percentile bootstrap interval over classes. A strongly negative correlation says the classes whose synthetic
clips lie far from the real ones are the ones that fail; a correlation near zero says the gap, as this
embedding sees it, does not explain the failures. It is a correlation over few classes, not a cause.
"""

import math

import numpy as np
import pandas as pd

from synthaudio.seeding import rng

GAP_MEASURES = (("kad", "KAD"), ("frechet", "Fréchet distance"), ("detectability", "detectability (AUC)"))
BOOTSTRAP_RESAMPLES = 2000


def frechet_distance(real: np.ndarray, synthetic: np.ndarray) -> float:
    """||mu_r - mu_s||^2 + tr(S_r + S_s - 2 (S_r S_s)^(1/2)), the square root's trace through the singular
    values of the centred cross product (exact, and cheap when there are fewer clips than dimensions)."""
    real, synthetic = np.asarray(real, dtype=np.float64), np.asarray(synthetic, dtype=np.float64)
    if len(real) < 1 or len(synthetic) < 2:
        return math.nan
    # one real clip (a class of a tiny test set): its covariance is zero, the distance is still defined
    centred_real, centred_synthetic = real - real.mean(0), synthetic - synthetic.mean(0)
    scale_real, scale_synthetic = max(len(real) - 1, 1), len(synthetic) - 1
    trace_real = float((centred_real ** 2).sum()) / scale_real
    trace_synthetic = float((centred_synthetic ** 2).sum()) / scale_synthetic
    cross = np.linalg.svd(centred_real @ centred_synthetic.T, compute_uv=False).sum() / math.sqrt(
        scale_real * scale_synthetic)
    mean_term = float(((real.mean(0) - synthetic.mean(0)) ** 2).sum())
    return max(0.0, mean_term + trace_real + trace_synthetic - 2 * float(cross))


def kernel_distance(real: np.ndarray, synthetic: np.ndarray) -> float:
    """Unbiased squared MMD with a Gaussian kernel, bandwidth the median pairwise distance of both sets."""
    real, synthetic = np.asarray(real, dtype=np.float64), np.asarray(synthetic, dtype=np.float64)
    if len(real) < 2 or len(synthetic) < 2:
        return math.nan
    both = np.concatenate([real, synthetic])
    squared = np.maximum(((both[:, None, :] - both[None, :, :]) ** 2).sum(-1), 0.0)
    upper = squared[np.triu_indices(len(both), 1)]
    bandwidth = float(np.median(upper)) or 1.0
    kernel = np.exp(-squared / bandwidth)
    n, m = len(real), len(synthetic)
    within_real = (kernel[:n, :n].sum() - np.trace(kernel[:n, :n])) / (n * (n - 1))
    within_synthetic = (kernel[n:, n:].sum() - np.trace(kernel[n:, n:])) / (m * (m - 1))
    return float(within_real + within_synthetic - 2 * kernel[:n, n:].mean())


def detectability(real: np.ndarray, synthetic: np.ndarray, seed: int) -> float:
    """Cross-validated ROC AUC of a standardised logistic regression telling real from synthetic (NaN when a
    side has fewer than 2 clips)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folds = min(5, len(real), len(synthetic))
    if folds < 2:
        return math.nan
    inputs = np.concatenate([real, synthetic]).astype(np.float64)
    targets = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    scores = cross_val_predict(model, inputs, targets, cv=split, method="decision_function")
    return float(roc_auc_score(targets, scores))


def class_gaps(real: np.ndarray, real_labels: list[str], synthetic: np.ndarray, synthetic_labels: list[str],
               seed: int) -> list[dict]:
    """One row per class present on both sides: real_clips, synthetic_clips, frechet, kad, detectability."""
    rows = []
    real_labels, synthetic_labels = np.asarray(real_labels), np.asarray(synthetic_labels)
    for label in sorted(set(real_labels) & set(synthetic_labels)):
        real_part, synthetic_part = real[real_labels == label], synthetic[synthetic_labels == label]
        rows.append({"label": str(label), "real_clips": len(real_part), "synthetic_clips": len(synthetic_part),
                     "frechet": frechet_distance(real_part, synthetic_part),
                     "kad": kernel_distance(real_part, synthetic_part),
                     "detectability": detectability(real_part, synthetic_part, seed)})
    return rows


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    from scipy.stats import rankdata

    rank_x, rank_y = rankdata(x), rankdata(y)
    if rank_x.std() == 0 or rank_y.std() == 0:
        return math.nan
    return float(np.corrcoef(rank_x, rank_y)[0, 1])


def spearman_interval(x, y, seed: int, resamples: int = BOOTSTRAP_RESAMPLES, level: float = 0.95
                      ) -> tuple[float, float, float]:
    """(rho, low, high): Spearman's rho and its percentile bootstrap interval over classes (NaN when fewer
    than 4 classes or no spread)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    rho = spearman(x, y) if len(x) >= 3 else math.nan
    if len(x) < 4 or math.isnan(rho):
        return rho, math.nan, math.nan
    generator = rng("domain-gap-spearman", seed)
    draws = generator.integers(0, len(x), size=(resamples, len(x)))
    values = np.array([spearman(x[d], y[d]) for d in draws])
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return rho, math.nan, math.nan
    tail = (1 - level) / 2 * 100
    return rho, float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


# ---------------------------------------------------------------- report

def gap_table(rows: list[dict], precision: pd.DataFrame) -> pd.DataFrame:
    """The per-class gap rows joined with the zero-shot precision and recall of the same condition."""
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    if precision.empty:
        frame["precision"], frame["recall"] = math.nan, math.nan
        return frame
    keys = ["experiment", "dataset", "generator", "prompts", "clips_per_class", "label"]
    joined = frame.merge(precision[keys + ["precision", "recall"]], on=keys, how="left")
    return joined


CONDITION = ["experiment", "dataset", "generator", "prompts", "clips_per_class", "encoder"]


def correlation_table(table: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per condition and encoder: Spearman's rho (with its bootstrap interval) between each gap measure and
    zero-shot precision over classes."""
    if table.empty:
        return pd.DataFrame()
    records = []
    for keys, group in table.groupby(CONDITION, sort=True):
        record = dict(zip(CONDITION, keys, strict=True))
        record["classes"] = len(group)
        for measure, _ in GAP_MEASURES:
            rho, low, high = spearman_interval(group[measure], group["precision"], seed)
            record[f"rho_{measure}"], record[f"rho_{measure}_low"], record[f"rho_{measure}_high"] = rho, low, high
        records.append(record)
    return pd.DataFrame(records)


def correlation_display(table: pd.DataFrame) -> pd.DataFrame:
    shown = table[CONDITION + ["classes"]].copy()
    for measure, title in GAP_MEASURES:
        shown[f"rho({title}, precision) [95% CI]"] = [
            "-" if math.isnan(rho) else (f"{rho:+.2f}" + ("" if math.isnan(low) else f" [{low:+.2f}, {high:+.2f}]"))
            for rho, low, high in zip(table[f"rho_{measure}"], table[f"rho_{measure}_low"],
                                      table[f"rho_{measure}_high"], strict=True)]
    return shown


def gap_plot(table: pd.DataFrame, correlations: pd.DataFrame, path) -> None:
    """One panel per condition and encoder: each class's KAD (x; the Fréchet distance where no class has the two
    real clips KAD needs) against its zero-shot precision (y)."""
    from synthaudio.report.plots import _figure, _save

    groups = list(table.groupby(CONDITION, sort=True))
    figure, axes = _figure(len(groups), width=5.0, height=4.0)
    for axis, (keys, group) in zip(axes, groups, strict=True):
        measure = "kad" if group["kad"].notna().any() else "frechet"
        axis.scatter(group[measure], group["precision"], s=18)
        if len(group) <= 30:
            for _, row in group.iterrows():
                axis.annotate(str(row["label"]), (row[measure], row["precision"]), fontsize="x-small",
                              xytext=(2, 2), textcoords="offset points")
        match = correlations
        for column, value in zip(CONDITION, keys, strict=True):
            match = match[match[column] == value]
        rho = match[f"rho_{measure}"].iloc[0] if len(match) else math.nan
        low, high = (match[f"rho_{measure}_low"].iloc[0], match[f"rho_{measure}_high"].iloc[0]) if len(match) \
            else (math.nan, math.nan)
        interval = "" if math.isnan(low) else f" [{low:+.2f}, {high:+.2f}]"
        experiment, dataset, generator, prompts, count, encoder = keys
        axis.set_title(f"{dataset} {generator}/{prompts}/{count} ({encoder})\nSpearman rho {rho:+.2f}{interval}",
                       fontsize="small")
        axis.set_xlabel(f"{dict(GAP_MEASURES)[measure]} synthetic vs real ({encoder} embeddings)")
        axis.set_ylabel("zero-shot precision (real test)")
        axis.set_ylim(-0.05, 1.05)
    _save(figure, path)
