"""report.md and the files beside it, from a StudyResults table."""

import math
import os
import shutil
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from synthaudio.fsutil import atomic_write, write_text_atomic
from synthaudio.naming import safe_name
from synthaudio.report import domain_gap, evidence, html, plots, prompt_examples, tables
from synthaudio.report.results import StudyResults, setting_key

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
                image: str | None = None, terminal: bool = True, notes: Sequence[str] = ()) -> None:
        _write_csv(table.drop(columns=[tables.KEY], errors="ignore"), self.folder / csv)
        intro_with_notes = " ".join(part for part in (intro, *notes) if part)
        self.sections.append(html.HtmlSection(title, intro_with_notes, shown, csv, image))
        marker = " (OPTIMISTIC: paper protocol)" if self.results.optimistic else ""
        self.markdown += [f"## {title}{marker}", ""]
        if intro:
            self.markdown += [intro, ""]
        if notes:
            self.markdown += [" ".join(notes), ""]
        self.markdown += [tables.markdown(shown), f"Table: [{csv}]({csv})", ""]
        if image:
            self.markdown += [f"![{title}]({image})", ""]
        if terminal:
            self.terminal += ["", f"{title}{marker}", tables.text_table(shown)]
            self.terminal += [f"  {note}" for note in notes if note.startswith("No interval")]


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
    _write_csv(tables.intervals_table(results), folder / "intervals.csv")
    _header(report)
    _zero_shot(report)
    _quantity(report)
    _real_fraction(report)
    _filters(report)
    _speech(report)
    _adaptive(report)
    _comparisons(report)
    _prompt_examples(report)
    _confusions(report)
    report.markdown += ["## Files", "",
                        "- every evaluation, per seed: [results.csv](results.csv) (per-class metrics and confusion "
                        "matrices: results.json)",
                        "- every condition (all seeds of one setting on one test set) with its 95% intervals: "
                        "[intervals.csv](intervals.csv); every paired comparison: [comparisons.csv](comparisons.csv); "
                        "each test set's power: [test_sets.csv](test_sets.csv)",
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
    report.markdown += [f"Seeds: {seeds}. " + _numbers_text(results) + " Metrics: accuracy, UAR (macro recall), "
                        "macro-F1. Executor: " + results.executor + ".", ""]
    for note in results.notes:
        report.markdown += [f"Note: {note}", ""]
    tested = _tested(results)
    datasets = tables.datasets_table(results)
    datasets = datasets[datasets["dataset"].isin(tested)].reset_index(drop=True)
    datasets["95% interval half-width (worst case)"] = [
        1.96 * math.sqrt(0.25 / n) if n else None for n in datasets["real test clips"]]
    datasets["test groups"] = [_test_groups(results, name) for name in datasets["dataset"]]
    intro = ("Chance is 1/classes; majority-class accuracy is what always answering the most frequent test class "
             "scores. With few real test clips, differences smaller than the interval half-width are noise. Test "
             "groups: the speakers, source recordings or videos the test clips come from, which the intervals "
             "resample whole (clips of one group are not independent).")
    noise_only = [f"{d['dataset']} ({d['train_clips'] + d['val_clips'] + d['test_clips']} clips)"
                  for d in results.datasets if d["dataset"] not in tested]
    if noise_only:
        intro += f" Prepared as noise only, never tested on: {', '.join(noise_only)}."
    report.section("Datasets", datasets, datasets, "datasets.csv", intro)
    for row in results.datasets:
        if row["dataset"] in tested and row["test_clips"] and row["test_clips"] < 100:
            report.terminal.append(f"note: {row['dataset']} has only {row['test_clips']} real test clips (chance "
                                   f"{row['chance']:.3f})")


def _numbers_text(results: StudyResults) -> str:
    if results.statistics is None:
        return ("Each number is the mean over seeds on the real TEST split unless said otherwise; this results.json "
                "was made before intervals were computed (run the study again for them).")
    settings = results.statistics
    return (f"Each number is the mean over seeds with its {settings['level']:.0%} interval, e.g. `0.633 [0.41, 0.82]`, "
            "on the real TEST split unless said otherwise. The interval is a two-level bootstrap: the test set's "
            "groups (speakers, source recordings, videos) are resampled whole, and the training randomness of the "
            f"seed mean is added from the seeds' spread ({settings['resamples']:,} resamples, seeded: the same "
            "study gives the same intervals). The CSV tables also hold the bounds (`*_ci_low`, `*_ci_high`) and "
            "the sample standard deviation over seeds (`*_std`). What each experiment compares, with paired "
            "intervals and tests: the section Paired comparisons and comparisons.csv.")


def _test_groups(results: StudyResults, dataset: str):
    """The number of groups of a dataset's real test split, as the intervals found it (None: not known)."""
    for record in results.intervals:
        if record["setting"]["dataset"] == dataset and record["setting"]["snr_db"] is None \
                and record["n_groups"] is not None:
            groups = record["n_groups"]
            return str(groups) if record["grouped"] else f"{groups} (no groups in the data: one per clip)"
    return None


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
                   "held-out synthetic clips (pure zero-shot).", "zero_shot_accuracy.png",
                   notes=tables.interval_notes(table))
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
                   "Nested subsets: the larger amounts contain the smaller ones.", "quantity.png",
                   notes=tables.interval_notes(table))
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
                   "(mixed), also after filtering the synthetic clips.", "real_fraction.png",
                   notes=tables.interval_notes(table))


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


def _adaptive(report: _Report) -> None:
    table = tables.adaptive_table(report.results)
    if table.empty:
        return
    shown = tables.display(table, ["experiment", "dataset", "generator", "prompts", "clips_per_class",
                                   "real_fraction", "variant"])
    report.section("Adaptive vs uniform allocation", table, shown, "adaptive.csv",
                   "The same budget of synthetic clips (`clips_per_class` on average), generator, prompts, seeds and "
                   "round seeds, spent uniformly or in rounds where a model trained on the clips so far does worst "
                   "per class on the real validation split; the paired differences are under Comparisons.",
                   notes=tables.interval_notes(table))
    allocation = tables.allocation_table(report.results)
    measured = sorted({value for value in allocation["measured_on"] if value != "-"})
    warning = " (the TEST split: OPTIMISTIC)" if "test" in measured else ""
    report.section("Adaptive allocation per round", allocation, allocation, "allocation.csv",
                   f"Clips added to each class in each round (mean over seeds); rounds after the first are shared "
                   f"by the rule from per-class F1 measured on the real {', '.join(measured) or 'validation'} "
                   f"split{warning}. `rewritten`: classes whose prompts the LLM rewrote for that round (xN: in N "
                   "seeds).", terminal=False)
    rewrites = tables.rewrites_table(report.results)
    if not rewrites.empty:
        report.section("Prompt rewrites", rewrites, rewrites, "rewrites.csv",
                       "The weakest classes' new descriptors, asked for with what the class was mistaken for; a "
                       "failed rewrite keeps the class's previous prompts.", terminal=False)


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
                   "held-out noise at fixed SNRs.", "snr.png", notes=tables.interval_notes(table))
    _test_size_lines(report, table)


ALPHA = 0.05


def _comparisons(report: _Report) -> None:
    """The paired comparisons the experiments declared: each test set's power, the table, and in words which
    differences the data support at the 5% level (Holm) and which are within noise."""
    results = report.results
    title = "Paired comparisons"
    if results.statistics is None:
        text = ("This results.json was made before intervals and paired comparisons were computed: run the study "
                "again for them.")
        report.markdown += [f"## {title}", "", text, ""]
        report.terminal += ["", title, text]
        return
    table = tables.comparisons_table(results, ALPHA)
    power = tables.power_table(results)
    _write_csv(power, report.folder / "test_sets.csv")
    if table.empty:
        text = "The study's experiments declare no comparison (e.g. one setting per experiment)."
        report.markdown += [f"## {title}", "", text, ""]
        return
    settings = results.statistics
    family = int(table["p_value"].notna().sum())
    intro = (f"What each experiment compares, condition A against condition B (A - B), every metric: the "
             f"difference of the seed means, its paired {settings['level']:.0%} interval (both conditions' seeds "
             "paired by seed value, the same test groups resampled together) and its two-sided bootstrap p-value, "
             + (f"Holm-adjusted over all {family} comparisons of this report" if family else
                "Holm-adjusted over every comparison of the report (here none could be computed: see Not compared)")
             + f". `supported`: Holm-adjusted p < "
             f"{ALPHA:g}; `within noise`: not. `detectable`: the smallest difference this pair's test set detects "
             f"with {settings['power']:.0%} power at the {ALPHA:.0%} level; a smaller observed difference is "
             "flagged `this test set cannot tell`." + _few_seeds_text(len(results.seeds)))
    random = _random_conditions(results)
    shown = pd.DataFrame({
        "experiment": table["experiment"],
        "A": [_marked(name, random, _short(name, experiment)) for name, experiment in
              zip(table["a"], table["experiment"], strict=True)],
        "B": [_marked(name, random, _short(name, experiment)) for name, experiment in
              zip(table["b"], table["experiment"], strict=True)],
        "metric": [evidence.METRIC_TITLES.get(metric, metric) for metric in table["metric"]],
        "A mean": table["estimate_a"], "B mean": table["estimate_b"],
        "A - B [95% interval]": [tables.signed_interval_text(d, low, high) for d, low, high in
                                 zip(table["difference"], table["ci_low"], table["ci_high"], strict=True)],
        "p": [_p_text(p) for p in table["p_value"]], "p (Holm)": [_p_text(p) for p in table["p_holm"]],
        "detectable": table["detectable"],
        "verdict": [_verdict(row, short=True) for _, row in table.iterrows()]})
    marker = " (OPTIMISTIC: paper protocol)" if results.optimistic else ""
    _write_csv(table, report.folder / "comparisons.csv")
    report.markdown += [f"## {title}{marker}", "", intro, "", "Power of each test set (smallest accuracy difference "
                        f"detectable with {settings['power']:.0%} power at the {ALPHA:.0%} level, two-sided, at its "
                        "number of groups):", "", *(f"- {line}" for line in _power_lines(power)), "",
                        *_verdict_sentences(table, random), "", tables.markdown(shown),
                        "Tables: [comparisons.csv](comparisons.csv), [test_sets.csv](test_sets.csv)", ""]
    report.terminal += ["", f"{title}{marker}", *(f"power: {line}" for line in _power_lines(power)),
                        *(line.replace("**", "") for line in _verdict_sentences(table, random) if line)]


def _few_seeds_text(seeds: int) -> str:
    if seeds > 5:
        return ""
    return (f" With {seeds} seed{'s' if seeds != 1 else ''} the training randomness is poorly known: "
            + ("the comparisons cover the test set only (one seed cannot show it)." if seeds == 1 else
               "the intervals are wide (the seed level is a t variate with 1 degree of freedom), and the paired test "
               "is liberal when the seeds' models differ much." if seeds == 2 else
               "the paired test is somewhat liberal when the seeds' models differ much (in simulations of 3 seeds, a "
               "true null is rejected 7.6% of the time at a seed standard deviation of 0.03 and 10.7% at 0.06, "
               "instead of 5%; 7.2% with 5 seeds).")
            + " Use more seeds where models differ much from seed to seed.")


def _random_conditions(results: StudyResults) -> set[str]:
    """The names of the conditions whose synthetic data came from random-weight generators."""
    random_keys = {setting_key(row) for row in results.rows if row.get("random_weights")}
    return {record["name"] for record in results.intervals if setting_key(record["setting"]) in random_keys}


def _marked(name: str, random: set[str], shown: str | None = None) -> str:
    """The name (or how it is `shown`), marked RANDOM WEIGHTS where the condition's synthetic data is noise."""
    shown = name if shown is None else shown
    return f"{shown} (RANDOM WEIGHTS)" if name in random else shown


def _short(name: str, experiment: str) -> str:
    """A condition's name without its experiment (the table's first column says it)."""
    return name.removeprefix(f"{experiment}: ")


def _p_text(p) -> str | None:
    """A p-value in as few significant digits as keep its side of the 5% level (0.049995, never a rounded 0.05 beside
    "supported")."""
    if p is None or pd.isna(p):
        return None
    for digits in range(2, 8):
        text = f"{p:.{digits}g}"
        if (float(text) < ALPHA) == (p < ALPHA):
            return text
    return repr(float(p))


def _not_compared(missing: pd.DataFrame, random: set[str]) -> list[str]:
    """Refused pairs, each with the line naming both; pairs without numbers, grouped by why (A and B standing for
    each pair's conditions)."""
    refused: list[str] = []
    unavailable: dict[str, list[str]] = {}
    for _, row in missing.iterrows():
        verdict = _verdict(row)
        if verdict.startswith("refused: "):
            refused.append(verdict)
        else:
            generic = verdict
            for name, letter in sorted(((row["a"], "A"), (row["b"], "B")), key=lambda item: -len(item[0])):
                generic = generic.replace(f"'{name}'", letter).replace(name, letter)  # the longer name first
            unavailable.setdefault(generic, []).append(_pair_names(row, random))
    items = list(dict.fromkeys(refused))
    for generic, pairs in unavailable.items():
        pairs = list(dict.fromkeys(pairs))
        items.append(f"{generic.rstrip('.')}; A vs B: {'; '.join(pairs)}")
    return ["**Not compared:**", "", *(f"- {item}" for item in items), ""] if items else []


def _flag(value) -> bool:
    """A true value of a column of booleans and missing values."""
    return value is not None and not pd.isna(value) and bool(value)


def _verdict(row, short: bool = False) -> str:
    """supported / within noise (this test set cannot tell) / why there are no numbers (`short`: where to read it)."""
    if row["p_holm"] is None or pd.isna(row["p_holm"]):
        reason = row["reason"] if isinstance(row["reason"], str) else "not computed"
        refused = reason.startswith("cannot compare")
        if short:
            return ("refused" if refused else "not compared") + " (see Not compared)"
        return ("refused: " if refused else "") + reason
    if row["p_holm"] < ALPHA:
        return "supported" + (" (smaller than this test set reliably detects)" if _flag(row["cannot_tell"]) else "")
    return "within noise" + (": this test set cannot tell" if _flag(row["cannot_tell"]) else "")


def _power_lines(power: pd.DataFrame) -> list[str]:
    lines = []
    for _, row in power.iterrows():
        size = (f"{row['test_clips']} test clips in {tables.plural(int(row['test_groups']), 'group')}"
                if _flag(row["grouped"]) else
                f"{row['test_clips']} test clips (the data names no groups: each clip counts as its own group)")
        if row["detectable"] is None or pd.isna(row["detectable"]):
            lines.append(f"{row['test_set']}, {size}: no power estimate ({row['reason']})")
            continue
        spread = "" if row["conditions"] < 2 else f" (median over the {row['conditions']} conditions tested on it)"
        lines.append(f"{row['test_set']}, {size}: {row['detectable']:.3f}{spread}")
    return lines


def _pair_names(row, random: set[str]) -> str:
    return f"{_marked(row['a'], random)} vs {_marked(row['b'], random)}"


def _verdict_sentences(table: pd.DataFrame, random: set[str]) -> list[str]:
    """In words: which differences are supported at the 5% level after Holm's correction, which are within noise
    (and of those, which their test set cannot tell), and which pairs could not be compared."""
    computed = table[table["p_holm"].notna()]
    family = len(computed)
    supported: dict[str, list[str]] = {}
    within: dict[str, tuple[list[str], list[str]]] = {}
    for _, row in computed.iterrows():
        pair = _pair_names(row, random)
        metric = evidence.METRIC_TITLES.get(row["metric"], row["metric"])
        if row["p_holm"] < ALPHA:
            supported.setdefault(pair, []).append(
                f"{metric} {tables.signed_interval_text(row['difference'], row['ci_low'], row['ci_high'])} "
                f"(Holm p = {_p_text(row['p_holm'])})")
        else:
            metrics, untold = within.setdefault(pair, ([], []))
            metrics.append(metric)
            if _flag(row["cannot_tell"]):
                untold.append(metric)
    lines: list[str] = []
    if supported:
        lines += [f"**Supported at the {ALPHA:.0%} level** after Holm's correction over all {family} comparisons: "
                  f"{len(supported)} of the {len(set(supported) | set(within))} pairs differ.", ""]
        lines += [f"- {pair}: {', '.join(found)}" for pair, found in supported.items()] + [""]
    elif family:
        lines += [f"**No difference is supported at the {ALPHA:.0%} level** after Holm's correction: all {family} "
                  "comparisons are within noise.", ""]
    if within:
        lines += ["**Within noise** (not supported at the 5% level; `this test set cannot tell`: the observed "
                  "difference is smaller than the test set detects with 80% power):", ""]
        for pair, (metrics, untold) in within.items():
            told = ("" if not untold else "; this test set cannot tell" if untold == metrics
                    else f"; this test set cannot tell for {', '.join(untold)}")
            lines.append(f"- {pair} ({', '.join(metrics)}{told})")
        lines.append("")
    lines += _not_compared(table[table["p_holm"].isna()], random)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _prompt_examples(report: _Report) -> None:
    """A few prompts per class of every prompt strategy the study's pools used (prompt_examples.csv), so a reader
    sees what "label vs LLM prompts" compared. No paper-protocol marker: prompts are not selected on any split."""
    table = prompt_examples.examples_table(report.results)
    if table.empty:
        return
    title, csv = "Example prompts per class", "prompt_examples.csv"
    _write_csv(table, report.folder / csv)
    shown = prompt_examples.shown_table(table)
    intro = prompt_examples.intro(report.results)
    report.sections.append(html.HtmlSection(title, intro, shown, csv))
    report.markdown += [f"## {title}", "", intro, "", tables.markdown(shown), f"Table: [{csv}]({csv})", ""]


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
