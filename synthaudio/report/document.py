"""report.md and the files beside it, from a StudyResults table."""

import math
import os
import shutil
from collections import defaultdict
from pathlib import Path

import pandas as pd

from synthaudio.fsutil import atomic_write, write_text_atomic
from synthaudio.naming import safe_name
from synthaudio.report import domain_gap, html, plots, tables
from synthaudio.report.results import StudyResults

VALIDATION_TEXT = ("**Protocol: validation.** Every model is selected (best epoch, learning-rate schedule) on a "
                   "validation split, never on the test split, and the class-level filter's per-class precision is "
                   "measured on the real validation split. Test numbers are honest estimates.")
PAPER_TEXT = ("**WARNING - protocol: paper (OPTIMISTIC).** As in the study's published code, models are selected on "
              "the TEST split and the class-level filter's precision is measured on the TEST split. Every number "
              "below is biased upwards and only serves comparison with the paper.")


def _random_text(results: StudyResults) -> str:
    return (f"**WARNING - RANDOM-WEIGHT GENERATORS: {', '.join(results.random_weight_generators)}.** Their clips "
            "come from randomly initialised models (checkpoint tiny-random): they are noise. Results that use them "
            "(marked RANDOM WEIGHTS) only prove that the pipeline runs; they say nothing about synthetic audio.")


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    with atomic_write(path) as handle:
        table.to_csv(handle, index=False)


class _Report:
    def __init__(self, results: StudyResults, folder: Path):
        self.results, self.folder = results, folder
        self.markdown: list[str] = []
        self.terminal: list[str] = []
        self.chance = {d["dataset"]: d["chance"] for d in results.datasets}
        self.sections: list[html.HtmlSection] = []  # the same tables again, for index.html

    def section(self, title: str, table: pd.DataFrame, shown: pd.DataFrame, csv: str, intro: str = "",
                image: str | None = None, terminal: bool = True) -> None:
        _write_csv(table, self.folder / csv)
        self.sections.append(html.HtmlSection(title, intro, shown, csv, image))
        marker = " (OPTIMISTIC: paper protocol)" if self.results.optimistic else ""
        self.markdown += [f"## {title}{marker}", ""]
        if intro:
            self.markdown += [intro, ""]
        self.markdown += [tables.markdown(shown), f"Table: [{csv}]({csv})", ""]
        if image:
            self.markdown += [f"![{title}]({image})", ""]
        if terminal:
            self.terminal += ["", f"{title}{marker}", tables.text_table(shown)]


def write_report(results: StudyResults, folder: Path | str, study_root: Path | str | None = None
                 ) -> tuple[Path, str]:
    """Write every report file into `folder` (report.md and index.html), replacing what it held (no stale table
    or plot of an earlier version of the study survives); returns (report.md, the summary to print).
    `study_root`: the study folder the gallery's relative clip paths start from (default: folder's parent)."""
    folder = Path(folder).absolute()
    study_root = Path(study_root).absolute() if study_root is not None else folder.parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = folder.with_name(f".{folder.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    try:
        summary = _write_all(results, building, study_root, folder)
        if folder.exists():
            retired = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(retired, ignore_errors=True)
            folder.rename(retired)
            shutil.rmtree(retired)
        building.rename(folder)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return folder / "report.md", summary


def _write_all(results: StudyResults, folder: Path, study_root: Path, previous: Path) -> str:
    report = _Report(results, folder)
    results.save(folder / "results.json")
    _write_csv(tables.results_table(results), folder / "results.csv")
    _header(report)
    _zero_shot(report)
    _quantity(report)
    _real_fraction(report)
    _filters(report)
    _speech(report)
    _confusions(report)
    report.markdown += ["## Files", "",
                        "- every evaluation, per seed: [results.csv](results.csv) (per-class metrics and confusion "
                        "matrices: results.json)",
                        "- each row names its training run (column `run`: a complete run folder, usable on its own, "
                        "e.g. `synthaudio evaluate --run RUN --test OTHER_MANIFEST`) and its evaluation file "
                        "(column `evaluation`)", ""]
    write_text_atomic(folder / "report.md", "\n".join(report.markdown))
    first = next((i for i, line in enumerate(report.markdown) if line.startswith("## ")), len(report.markdown))
    header = [line for line in report.markdown[:first] if line and not line.startswith("# ")]
    html.write_html(results, folder, report.sections, header, study_root, reuse_media=previous)
    return "\n".join(report.terminal)


def _header(report: _Report) -> None:
    results = report.results
    seeds = ", ".join(str(s) for s in results.seeds)
    protocol = PAPER_TEXT if results.optimistic else VALIDATION_TEXT
    report.markdown += [f"# Study: {results.study}", ""]
    if results.description:
        report.markdown += [results.description.strip(), ""]
    report.markdown += [protocol, ""]
    report.terminal += [f"study {results.study}: protocol {results.protocol}"
                        + (" (OPTIMISTIC: selected on the test split)" if results.optimistic else "")]
    if results.random_weight_generators:
        report.markdown += [_random_text(results), ""]
        report.terminal += ["WARNING: clips from RANDOM-WEIGHT generators (" +
                            ", ".join(results.random_weight_generators) + ") are noise; their results only prove "
                            "the pipeline"]
    report.markdown += [f"Seeds: {seeds}. Each number is the mean ± sample standard deviation over seeds (n = number "
                        "of runs) on the real TEST split unless said otherwise. Metrics: accuracy, UAR (macro "
                        "recall), macro-F1. Executor: " + results.executor + ".", ""]
    for note in results.notes:
        report.markdown += [f"Note: {note}", ""]
    tested = _tested(results)
    datasets = tables.datasets_table(results)
    datasets = datasets[datasets["dataset"].isin(tested)].reset_index(drop=True)
    datasets["95% interval half-width (worst case)"] = [
        1.96 * math.sqrt(0.25 / n) if n else None for n in datasets["real test clips"]]
    intro = ("Chance is 1/classes; majority-class accuracy is what always answering the most frequent test class "
             "scores. With few real test clips, differences smaller than the interval half-width are noise.")
    noise_only = [f"{d['dataset']} ({d['train_clips'] + d['val_clips'] + d['test_clips']} clips)"
                  for d in results.datasets if d["dataset"] not in tested]
    if noise_only:
        intro += f" Prepared as noise only, never tested on: {', '.join(noise_only)}."
    report.section("Datasets", datasets, datasets, "datasets.csv", intro)
    for row in results.datasets:
        if row["dataset"] in tested and row["test_clips"] and row["test_clips"] < 100:
            report.terminal.append(f"note: {row['dataset']} has only {row['test_clips']} real test clips (chance "
                                   f"{row['chance']:.3f})")


def _tested(results: StudyResults) -> set[str]:
    """The datasets some evaluation tested on (all of them before any result exists)."""
    return {row["dataset"] for row in results.rows} or {d["dataset"] for d in results.datasets}


def _test_size_lines(report: _Report, table: pd.DataFrame) -> None:
    """Under a table in the terminal: how many real clips each accuracy rests on, and chance."""
    sizes = {d["dataset"]: d["test_clips"] for d in report.results.datasets}
    for dataset in sorted(set(table["dataset"])):
        clips, chance = sizes.get(dataset), report.chance.get(dataset)
        if clips and chance is not None:
            report.terminal.append(f"  {dataset}: accuracy on {clips} real test clips (one clip = {1 / clips:.3f}); "
                                   f"chance {chance:.3f}")


def _zero_shot(report: _Report) -> None:
    table = tables.zero_shot_table(report.results)
    if table.empty:
        return
    plots.zero_shot_bars(table, report.chance, report.folder / "zero_shot_accuracy.png")
    shown = tables.display(table, ["experiment", "dataset", "generator", "prompts", "clips_per_class", "validation"])
    report.section("Zero-shot: trained on synthetic clips only", table, shown, "zero_shot.csv",
                   "Model selection: `validation: real` selects on the real validation split; `synthetic_holdout` on "
                   "held-out synthetic clips (pure zero-shot).", "zero_shot_accuracy.png")
    _test_size_lines(report, table)
    _per_class(report)
    _domain_gap(report)


def _per_class(report: _Report) -> None:
    table = tables.per_class_precision_table(report.results)
    if table.empty:
        return
    plots.precision_heatmap(table, report.folder / "per_class_precision.png")
    report.section("Zero-shot precision per class", table, table, "per_class_precision.csv",
                   "Precision and recall of each class on the real test split (mean over seeds): classes whose "
                   "synthetic clips mislead the model have low precision.", "per_class_precision.png",
                   terminal=False)


def _domain_gap(report: _Report) -> None:
    table = domain_gap.gap_table(report.results.domain_gap, tables.per_class_precision_table(report.results))
    if table.empty:
        return
    correlations = domain_gap.correlation_table(table)
    domain_gap.gap_plot(table, correlations, report.folder / "domain_gap.png")
    report.section("Domain gap vs zero-shot precision", correlations, domain_gap.correlation_display(correlations),
                   "domain_gap_correlation.csv",
                   "Does the distance between a class's synthetic and real clips (all splits) explain which classes "
                   "fail? "
                   "Spearman rank correlation over classes between each gap measure and the class's zero-shot "
                   "precision, with a 95% bootstrap interval over classes: negative = far classes fail. Embeddings: "
                   "`classifier` = the penultimate layer of the zero-shot model itself (first seed; it has only "
                   "seen synthetic clips), `clap` / `whisper` = pretrained encoders where cached. A correlation over "
                   "few classes, not a cause; with random-weight generators it measures noise.", "domain_gap.png")
    shown = table[["experiment", "dataset", "generator", "prompts", "clips_per_class", "encoder", "label",
                   "real_clips", "synthetic_clips", "kad", "frechet", "detectability", "precision", "recall"]]
    report.section("Domain gap per class", shown, shown, "domain_gap.csv",
                   "KAD: unbiased squared MMD (Gaussian kernel, median bandwidth); Fréchet distance as FAD (biased "
                   "upwards for few clips); detectability: cross-validated ROC AUC of a logistic regression telling "
                   "the class's real clips from its synthetic ones (0.5 = indistinguishable).", terminal=False)


def _quantity(report: _Report) -> None:
    table = tables.quantity_table(report.results)
    if table.empty:
        return
    plots.accuracy_lines(table, "clips_per_class", ["generator", "prompts"], ["experiment", "dataset"],
                         report.chance, report.folder / "quantity.png", "synthetic clips per class",
                         "zero-shot accuracy vs clips per class")
    shown = tables.display(table, ["experiment", "dataset", "generator", "prompts", "clips_per_class"])
    report.section("Quantity: zero-shot accuracy vs clips per class", table, shown, "quantity.csv",
                   "Nested subsets: the larger amounts contain the smaller ones.", "quantity.png")
    _test_size_lines(report, table)


def _real_fraction(report: _Report) -> None:
    table = tables.real_fraction_table(report.results)
    if table.empty:
        return
    plots.accuracy_lines(table, "real_fraction", ["variant", "generator", "prompts", "clips_per_class"],
                         ["experiment", "dataset"], report.chance, report.folder / "real_fraction.png",
                         "fraction of the real training split", "accuracy vs real data")
    shown = tables.display(table, ["experiment", "dataset", "real_fraction", "variant", "generator", "prompts",
                                   "clips_per_class"])
    report.section("Real fraction: real-only, mixed and filtered training", table, shown, "real_fraction.csv",
                   "Seeded, stratified fractions of the real training split, alone and with synthetic clips "
                   "(mixed), also after filtering the synthetic clips.", "real_fraction.png")


def _filters(report: _Report) -> None:
    class_table = tables.class_filter_table(report.results)
    if not class_table.empty:
        measured = sorted(set(class_table["measured_on"]))
        warning = " (the TEST split: OPTIMISTIC)" if "test" in measured else ""
        report.section("Class-level filter", class_table, class_table, "class_filter.csv",
                       f"Zero-shot precision per class measured on the real {', '.join(measured)} split{warning}, "
                       "averaged over the seeds' zero-shot runs; `dropped` classes lose their synthetic clips.",
                       terminal=False)
        for record in report.results.filters:
            if record["filter"] == "class":
                report.terminal.append(f"class filter ({record['experiment']}, {record['generator']}/"
                                       f"{record['prompts']}): dropped {', '.join(record['dropped_classes']) or 'none'}"
                                       f" (precision on {record['measured_on']})")
    clip_table = tables.clip_filter_table(report.results)
    if not clip_table.empty:
        report.section("Clip-level filter", clip_table, clip_table, "clip_filter.csv",
                       "Synthetic clips whose own-label score is below the threshold are dropped; a filter that "
                       "keeps no clip leaves the run with its real data only.", terminal=False)


def _speech(report: _Report) -> None:
    table = tables.speech_table(report.results)
    if table.empty:
        return
    conditions = list(dict.fromkeys(table["condition"]))  # SNR ascending, then clean
    plots.accuracy_lines(table, "condition", ["variant"], ["experiment", "dataset"], report.chance,
                         report.folder / "snr.png", "test condition", "accuracy vs SNR", categorical_x=conditions)
    shown = tables.display(table, ["experiment", "dataset", "training_speech", "variant", "condition"],
                           mark="variant").rename(columns={"training_speech": "training speech"})
    report.section("Speech augmentation: accuracy vs test SNR", table, shown, "speech_augment.csv",
                   "Training speech (real, or synthetic for a zero-shot model) with background noise mixed in "
                   "(variant = noise pool; none = no augmentation), tested on the real test split clean and with "
                   "held-out noise at fixed SNRs.", "snr.png")
    _test_size_lines(report, table)


def _confusions(report: _Report) -> None:
    """One confusion matrix per condition (clean test), summed over seeds."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in report.results.rows:
        if row["snr_db"] is None and row.get("split", "test") == "test":
            key = (row["experiment"], row["dataset"], row["variant"], row["generator"], row["prompts"],
                   row["clips_per_class"], row["real_fraction"])
            groups[key].append(row)
    if not groups:
        return
    links = []
    for key, rows in sorted(groups.items(), key=lambda item: str(item[0])):
        experiment, dataset, variant, generator, prompts, count, fraction = key
        parts = [experiment, variant] + ([f"{generator}-{prompts}-{count}"] if generator else []) + \
            ([f"real{fraction:g}"] if fraction else [])
        name = safe_name("_".join(str(part) for part in parts).replace(" ", "-"), max_length=120)
        matrix = [[sum(r["confusion_matrix"][i][j] for r in rows) for j in range(len(rows[0]["labels"]))]
                  for i in range(len(rows[0]["labels"]))]
        title = f"{dataset}: {' / '.join(str(p) for p in parts)} ({len(rows)} seed(s), real test split)"
        plots.confusion_matrix(matrix, rows[0]["labels"], title, report.folder / "confusion" / f"{name}.png")
        links.append(f"- [{title}](confusion/{name}.png)")
    report.markdown += ["## Confusion matrices", "", "Rows: true label; columns: predicted; counts summed over seeds.",
                        "", *links, ""]
