"""Classification metrics (scikit-learn) and their printed tables (rich).

Macro averages (UAR = macro recall, macro-F1) run over the classes present in the evaluated clips, so a test
set without some class is not penalised for it; per-class rows cover every class the model knows.
"""

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    recall_score,
    top_k_accuracy_score,
)

TOP_K = 5


def classification_metrics(targets: Sequence[int], probabilities: np.ndarray, labels: Sequence[str],
                           loss: float | None = None) -> dict:
    """accuracy, uar, macro_f1, top5_accuracy (None when the model has <= 5 classes: it would be 1.0 by
    construction), loss (mean cross-entropy, unweighted), per_class precision/recall/f1/support, confusion matrix
    (rows: true label, columns: predicted label, in `labels` order)."""
    targets = np.asarray(targets, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    predictions = probabilities.argmax(axis=1)
    all_classes = list(range(len(labels)))
    present = sorted(set(targets.tolist()))
    precision, recall, f1, support = precision_recall_fscore_support(
        targets, predictions, labels=all_classes, zero_division=0)
    top_k = None
    if len(labels) > TOP_K:
        top_k = float(top_k_accuracy_score(targets, probabilities, k=TOP_K, labels=all_classes))
    return {
        "num_clips": int(len(targets)),
        "accuracy": float(accuracy_score(targets, predictions)),
        "uar": float(recall_score(targets, predictions, labels=present, average="macro", zero_division=0)),
        "macro_f1": float(f1_score(targets, predictions, labels=present, average="macro", zero_division=0)),
        "top5_accuracy": top_k,
        "loss": loss,
        "per_class": {label: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                              "support": int(support[i])} for i, label in enumerate(labels)},
        "confusion_matrix": confusion_matrix(targets, predictions, labels=all_classes).tolist(),
    }


def summary_table(metrics_by_name: dict[str, dict], title: str):
    """rich Table: one column per evaluated set, rows accuracy / UAR / macro-F1 / top-5 / clips."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    for name in metrics_by_name:
        table.add_column(name, justify="right")
    rows = [("accuracy", "accuracy"), ("UAR (macro recall)", "uar"), ("macro-F1", "macro_f1"),
            ("top-5 accuracy", "top5_accuracy"), ("loss", "loss"), ("clips", "num_clips")]
    for caption, key in rows:
        table.add_row(caption, *[_format(m.get(key)) for m in metrics_by_name.values()])
    return table


def per_class_table(metrics: dict, title: str):
    from rich.table import Table

    table = Table(title=title)
    for column in ("label", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, row in metrics["per_class"].items():
        table.add_row(label, _format(row["precision"]), _format(row["recall"]), _format(row["f1"]),
                      str(row["support"]))
    return table


def confusion_table(metrics: dict, title: str, max_classes: int = 20):
    """The confusion matrix as a table (None when there are too many classes to read it on a terminal)."""
    from rich.table import Table

    labels = list(metrics["per_class"])
    if len(labels) > max_classes:
        return None
    table = Table(title=title + " (rows: true, columns: predicted)")
    table.add_column("")
    for index in range(len(labels)):
        table.add_column(str(index), justify="right")
    for index, (label, row) in enumerate(zip(labels, metrics["confusion_matrix"], strict=True)):
        table.add_row(f"{index} {label}", *[str(v) for v in row])
    return table


def _format(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)
