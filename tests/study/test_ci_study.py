"""The CI study (studies/ci.yaml) end to end: every report file; a rerun does nothing; a larger clips_per_class
generates only the new clips and trains only the new runs; an interrupted study resumes; the paper protocol is
flagged. The study runs once per module; the tests that change it come last and work on its output folder."""

import json
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from synthaudio.cli import app
from synthaudio.fsutil import file_sha256
from synthaudio.report import StudyResults, tables, write_report
from synthaudio.report.results import setting_key, setting_of
from synthaudio.report.statistics import holm
from synthaudio.study.runner import run_study
from synthaudio.study.schema import load_study
from tests.report.browser import check_page_offline
from tests.study.ci_setup import build_ci_study

pytestmark = pytest.mark.slow

REPORT_FILES = ("report.md", "results.csv", "results.json", "datasets.csv", "zero_shot.csv", "quantity.csv",
                "real_fraction.csv", "per_class_precision.csv", "class_filter.csv", "clip_filter.csv",
                "speech_augment.csv", "intervals.csv", "comparisons.csv", "test_sets.csv", "prompt_examples.csv",
                "zero_shot_accuracy.png",
                "quantity.png", "real_fraction.png", "per_class_precision.png", "snr.png")
# the aggregated tables, one per experiment kind, and what the experiments compare
RESULT_TABLES = {"zero_shot.csv": {"zero_shot"}, "quantity.csv": {"quantity"},
                 "real_fraction.csv": {"mixed", "filtered"}, "speech_augment.csv": {"noise"}}
COMPARED = {("zero_shot", "LLM-assisted vs label prompts"): 3, ("quantity", "more clips per class vs the fewest"): 1,
            ("mixed", "mixed vs real only"): 2, ("filtered", "class-filtered vs unfiltered mixed"): 1,
            ("filtered", "clip-filtered vs unfiltered mixed"): 1, ("noise", "noise augmentation vs none"): 6}


class Recorder:
    """The study's event hook: which stages started, by kind."""

    def __init__(self):
        self.started: list = []
        self.cached: list = []

    def __call__(self, event, stage, record):
        if event == "start":
            self.started.append(stage)
        elif event == "cached":
            self.cached.append(stage)

    def kinds(self) -> Counter:
        return Counter(stage.kind for stage in self.started)


@pytest.fixture(scope="module")
def ci(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ci")
    study = build_ci_study(folder)
    recorder = Recorder()
    outcome = run_study(load_study(study), folder / "out", on_event=recorder)
    return {"study": study, "out": folder / "out", "outcome": outcome, "first": recorder}


def stage_files(out: Path) -> dict[str, int]:
    """Every file under the stage folders with its modification time (ns)."""
    return {str(path): path.stat().st_mtime_ns for path in (out / "stages").rglob("*") if path.is_file()}


def test_every_report_file_is_written(ci):
    report = ci["out"] / "report"
    for name in REPORT_FILES:
        path = report / name
        assert path.is_file() and path.stat().st_size > 0, name
        if name.endswith(".png"):
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert list((report / "confusion").glob("*.png"))
    assert ci["outcome"].report == report / "report.md"


def test_html_report_lets_you_listen_to_real_and_synthetic_clips_of_every_class(ci):
    report = ci["out"] / "report"
    page = (report / "index.html").read_text()
    gallery = json.loads((report / "results.json").read_text())["gallery"]["datasets"]
    tones = next(dataset for dataset in gallery if dataset["dataset"] == "tones")
    labels = {"dog", "rooster", "car_horn"}
    assert {clip["label"] for clip in tones["real"]} == labels
    assert {clip["label"] for clip in tones["synthetic"]} == labels
    assert {(clip["generator"], clip["prompts"]) for clip in tones["synthetic"]} == \
        {(g, p) for g in ("audioldm2", "audioldm2-band", "musicgen") for p in ("label", "llm")}
    filtered = [clip for clip in tones["synthetic"] if (clip["generator"], clip["prompts"]) == ("audioldm2", "label")]
    # the filtered experiment's class filter and clip filters (one per seed) judged these clips, with scores
    for clip in filtered:
        assert sorted(item["filter"].split()[0] + " " + item["filter"].split()[1] for item in clip["filters"]) == \
            ["class filter:", "clip filter", "clip filter"]
        assert clip["decision"] == ("kept" if all(item["kept"] for item in clip["filters"]) else "dropped")
    assert all(clip["prompt"] and clip["seed"] is not None for clip in tones["synthetic"])
    clips = sum(len(dataset["real"]) + len(dataset["synthetic"]) for dataset in gallery)
    assert page.count('<audio controls preload="none"') == clips
    # one Opus file per distinct audio (a tiny random generator may make the same clip from two prompts)
    contents = {file_sha256(Path(clip["path"]) if Path(clip["path"]).is_absolute() else ci["out"] / clip["path"])
                for dataset in gallery for clip in dataset["real"] + dataset["synthetic"]}
    assert len(list((report / "media").glob("*.opus"))) == len(contents)
    (report / "index.html").unlink()
    result = CliRunner().invoke(app, ["report", str(ci["out"])])
    assert result.exit_code == 0, result.output
    assert (report / "index.html").read_text() == page


def test_html_report_of_the_study_works_in_a_browser(ci):
    gallery = json.loads((ci["out"] / "report" / "results.json").read_text())["gallery"]["datasets"]
    check_page_offline(ci["out"] / "report" / "index.html",
                       clips=sum(len(dataset["real"]) + len(dataset["synthetic"]) for dataset in gallery))


def test_report_gives_the_domain_gap_of_every_zero_shot_condition_against_its_precision(ci):
    report = ci["out"] / "report"
    rows = json.loads((report / "results.json").read_text())["domain_gap"]
    conditions = {(row["generator"], row["prompts"]) for row in rows if row["encoder"] == "classifier"}
    assert conditions == {(g, p) for g in ("audioldm2", "audioldm2-band", "musicgen") for p in ("label", "llm")}
    assert {row["label"] for row in rows} == {"dog", "rooster", "car_horn"}
    # every real clip of a class (20 over the five ESC-50 folds), not only its few test clips
    assert all(row["kad"] is not None and row["real_clips"] == 20 for row in rows)
    text = (report / "report.md").read_text()
    assert "## Domain gap vs zero-shot precision" in text and (report / "domain_gap.png").is_file()
    # offline, the pretrained encoders are not cached: the report says so instead of failing
    assert "clap embeddings (laion/clap-htsat-unfused): not in the Hugging Face cache" in text


def test_the_first_run_did_every_kind_of_stage(ci):
    kinds = ci["first"].kinds()
    # (the prompts stage runs where an LLM is asked: see test_holdout_and_postprocess; here descriptors come from
    # a file, which the pool reads directly)
    for kind in ("prepare", "pool", "derived_pool", "subset", "real_subset", "train", "evaluate", "class_filter",
                 "clip_filter", "domain_gap"):
        assert kinds[kind] >= 1, kind
    assert not ci["first"].cached


def test_results_cover_every_experiment_and_seed(ci):
    rows = json.loads((ci["out"] / "report" / "results.json").read_text())["rows"]
    experiments = {row["experiment"] for row in rows}
    assert experiments == {"zero_shot", "quantity", "mixed", "filtered", "noise"}
    assert {row["seed"] for row in rows} == {0, 1}
    variants = {(row["experiment"], row["variant"]) for row in rows}
    assert {("filtered", "class-filtered"), ("filtered", "clip-filtered"), ("filtered", "real only"),
            ("mixed", "mixed"), ("noise", "none"), ("noise", "synthetic"), ("noise", "real")} <= variants
    zero_shot = [row for row in rows if row["experiment"] == "zero_shot"]
    assert {(row["generator"], row["prompts"]) for row in zero_shot} == {
        (g, p) for g in ("audioldm2", "audioldm2-band", "musicgen") for p in ("label", "llm")}
    assert all(row["random_weights"] for row in zero_shot)  # tiny-random generators
    assert all(row["test_clips"] == 12 for row in zero_shot)
    snrs = {row["snr_db"] for row in rows if row["experiment"] == "noise"}
    assert snrs == {None, 0.0, 10.0}


def test_report_states_protocol_test_clips_chance_and_random_weights(ci):
    text = (ci["out"] / "report" / "report.md").read_text()
    assert "**Protocol: validation.**" in text
    assert "RANDOM-WEIGHT GENERATORS: audioldm2 (tiny-random), musicgen (tiny-random)" in text
    assert "| tones | 3 | 42 | 6 | 12 | 0.333 | 0.333 |" in text  # real test clips and chance per dataset
    assert "Cells: mean over 2 training seeds [95% interval" in text
    assert "tones: 12 test clips in 6 groups" in text and "speech: 12 test clips in 2 groups" in text
    # columns: experiment, dataset, training speech, variant (noise pool), condition; the noise pool is random-weight
    assert "| noise | speech | real | synthetic (RANDOM WEIGHTS) | 0 dB |" in text
    assert "| noise | speech | real | real | 0 dB |" in text
    assert "OPTIMISTIC" not in text
    assert "RANDOM WEIGHTS" in ci["outcome"].summary and "tones has only 12 real test clips" in ci["outcome"].summary


def test_every_experiment_has_intervals_in_its_table_csv_and_report(ci):
    report = ci["out"] / "report"
    text = (report / "report.md").read_text()
    for name, experiments in RESULT_TABLES.items():
        table = pd.read_csv(report / name)
        assert set(table["experiment"]) == experiments, name
        for metric in ("accuracy", "uar", "macro_f1"):
            for column in (f"{metric}_mean", f"{metric}_std", f"{metric}_ci_low", f"{metric}_ci_high"):
                assert table[column].notna().all(), (name, column)
            assert (table[f"{metric}_ci_low"] <= table[f"{metric}_mean"] + 1e-9).all()
            assert (table[f"{metric}_mean"] <= table[f"{metric}_ci_high"] + 1e-9).all()
        assert table["ci_reason"].isna().all(), name
        for _, row in table.iterrows():  # the same interval in report.md's table
            assert f"| {row['accuracy_mean']:.3f} [{row['accuracy_ci_low']:.2f}, {row['accuracy_ci_high']:.2f}] |" \
                in text, (name, dict(row))
    intervals = pd.read_csv(report / "intervals.csv")  # one row per condition: all seeds of one setting
    rows = json.loads((report / "results.json").read_text())["rows"]
    assert len(intervals) == len({setting_key(row) for row in rows})
    assert (intervals["n_seeds"] == 2).all() and intervals["accuracy_ci_low"].notna().all()
    # rebuilt from results.json alone (no study), the tables come out the same
    loaded = StudyResults.load(report / "results.json")
    for name, build in (("zero_shot.csv", tables.zero_shot_table), ("quantity.csv", tables.quantity_table),
                        ("real_fraction.csv", tables.real_fraction_table), ("speech_augment.csv", tables.speech_table),
                        ("intervals.csv", tables.intervals_table), ("comparisons.csv", tables.comparisons_table),
                        ("test_sets.csv", tables.power_table)):
        rebuilt = build(loaded).drop(columns=[tables.KEY], errors="ignore").to_csv(index=False)
        assert rebuilt == (report / name).read_text(), name


def test_every_experiment_declares_its_paired_comparisons_and_the_report_tests_them(ci):
    declared = Counter((pair.a["experiment"], pair.question) for pair in ci["outcome"].plan.comparisons)
    assert declared == COMPARED
    for pair in ci["outcome"].plan.comparisons:  # same dataset, test condition and seeds on both sides
        assert (pair.a["dataset"], pair.a["snr_db"]) == (pair.b["dataset"], pair.b["snr_db"])
    report = ci["out"] / "report"
    compared = pd.read_csv(report / "comparisons.csv")
    assert len(compared) == 3 * sum(COMPARED.values())
    assert set(compared["experiment"]) == {"zero_shot", "quantity", "mixed", "filtered", "noise"}
    assert compared["p_value"].notna().all() and compared["reason"].isna().all()
    assert list(compared["p_holm"]) == pytest.approx(holm(list(compared["p_value"])))  # over the whole report
    assert (compared["ci_low"] <= compared["difference"] + 1e-9).all()
    assert (compared["difference"] <= compared["ci_high"] + 1e-9).all()
    text = (report / "report.md").read_text()
    assert f"Holm-adjusted over all {len(compared)} comparisons of this report" in text
    assert "**Within noise**" in text or "**Supported at the 5% level**" in text
    assert "- tones test split, 12 test clips in 6 groups: " in text  # the power line of each test set
    assert "speech test split + noise at 0 dB SNR, 12 test clips in 2 groups" in text
    assert "| mixed | 0.5 real + audioldm2/label 4/class (RANDOM WEIGHTS) | 0.5 real only | accuracy |" in text
    assert "Paired comparisons" in ci["outcome"].summary


def test_a_planned_pair_on_another_test_set_or_other_seeds_is_refused_naming_both(ci, tmp_path):
    """Comparisons an experiment declares wrongly: the report says why, in the one line check_paired writes."""
    from synthaudio.report.results import Pair
    from synthaudio.study.results import collect_results
    from synthaudio.study.runner import build_plan

    config = load_study(ci["study"])
    plan = build_plan(config, ci["out"])
    noise = [spec.condition for spec in plan.results if spec.condition.experiment == "noise"
             and spec.condition.variant == "none"]
    clean = next(c for c in noise if c.snr_db is None)
    noisy = next(c for c in noise if c.snr_db == 0.0)
    real = next(spec.condition for spec in plan.results if spec.condition.experiment == "mixed"
                and spec.condition.variant == "real only" and spec.condition.real_fraction == 1.0)
    mixed = next(spec.condition for spec in plan.results if spec.condition.experiment == "mixed"
                 and spec.condition.variant == "mixed" and spec.condition.real_fraction == 1.0)
    # one seed of the mixed run is missing (e.g. a result dropped from the plan)
    plan.results = [spec for spec in plan.results if not (spec.condition == replace(mixed, seed=1))]
    plan.comparisons = [Pair("clean vs noisy", setting_of(clean), setting_of(noisy)),
                        Pair("mixed vs real only", setting_of(mixed), setting_of(real))]
    results = collect_results(config, plan)
    reasons = [record["reason"] for record in results.comparisons]
    assert reasons[0] == reasons[1] == reasons[2] and reasons[3] == reasons[4] == reasons[5]
    assert reasons[0].startswith("cannot compare 'noise: no noise augmentation, tested clean' (test set ")
    assert "with 'noise: no noise augmentation, tested at 0 dB SNR' (test set " in reasons[0]
    assert reasons[0].endswith("a paired comparison needs both evaluated on the same test set")
    assert reasons[3] == ("cannot compare 'mixed: 1 real + audioldm2/label 4/class' (seeds 0) with 'mixed: 1 real "
                          "only' (seeds 0, 1): a paired comparison needs the same training seeds")
    results.rows = [row for row in results.rows if row["experiment"] in ("mixed", "noise")]  # fewer plots to draw
    results.gallery = {}  # its clips lie in the study folder, not beside this report
    path, summary = write_report(results, tmp_path / "report")
    assert f"- refused: {reasons[0]}" in path.read_text() and f"- refused: {reasons[3]}" in summary



def test_class_filter_measured_precision_on_validation(ci):
    filters = json.loads((ci["out"] / "report" / "results.json").read_text())["filters"]
    class_filter = [f for f in filters if f["filter"] == "class"]
    assert len(class_filter) == 1
    assert class_filter[0]["measured_on"] == "val" and not class_filter[0]["optimistic"]
    assert len(class_filter[0]["dropped_classes"]) == 1  # 34% of 3 classes
    assert class_filter[0]["runs"] == 2  # precision averaged over both seeds' zero-shot runs


def test_rerun_does_no_generation_or_training(ci, monkeypatch):
    before = stage_files(ci["out"])
    tables = {name: (ci["out"] / "report" / name).read_text() for name in ("report.md", "results.json",
                                                                          *(n for n in REPORT_FILES if ".csv" in n))}

    def forbidden(*args, **kwargs):
        raise AssertionError("a finished study must not generate or train again")

    monkeypatch.setattr("synthaudio.study.synthetic.run_generation", forbidden)
    monkeypatch.setattr("synthaudio.study.recognition.train_run", forbidden)
    monkeypatch.setattr("synthaudio.study.recognition.evaluate_run", forbidden)
    recorder = Recorder()
    outcome = run_study(load_study(ci["study"]), ci["out"], on_event=recorder)
    assert recorder.started == [] and outcome.ran == []
    assert set(outcome.status.values()) == {"cached"}
    assert stage_files(ci["out"]) == before  # not one stage file rewritten
    # the same study gives the same report: intervals and comparisons are seeded
    for name, text in tables.items():
        assert (ci["out"] / "report" / name).read_text() == text, name


def test_a_moved_output_folder_still_reports_and_resumes(ci, tmp_path):
    out = ci["out"]
    before = json.loads((out / "report" / "results.json").read_text())["rows"]
    moved = tmp_path / "elsewhere" / "study-out"
    moved.parent.mkdir()
    shutil.move(out, moved)
    try:
        # a training run whose data was prepared, generated and subset before the move runs again after it
        trainings = sorted((moved / "stages" / "train").glob("*/done.json"))
        redo = next(done for done in trainings if json.loads(done.read_text())["title"].startswith("zero_shot:"))
        record = json.loads(redo.read_text())
        redo.unlink()
        outcome = run_study(load_study(ci["study"]), moved)
        assert [outcome.plan.stages[key].folder for key in outcome.ran] == [redo.parent]
        again = json.loads(redo.read_text())
        assert (again["best_epoch"], again["num_clips"]) == (record["best_epoch"], record["num_clips"])
        rows = json.loads((moved / "report" / "results.json").read_text())["rows"]
        assert [{k: v for k, v in row.items() if k not in ("run", "evaluation")} for row in rows] == \
            [{k: v for k, v in row.items() if k not in ("run", "evaluation")} for row in before]
        for row in rows:
            assert row["run"].startswith(str(moved)) and Path(row["run"]).is_dir()
        for name in ("report.md", "results.csv", "results.json"):
            assert str(out) not in (moved / "report" / name).read_text()
        assert str(out) not in (moved / "plan.json").read_text()
    finally:
        shutil.move(moved, out)


def test_dry_run_lists_every_stage_as_cached(ci):
    result = CliRunner().invoke(app, ["study", str(ci["study"]), "--out", str(ci["out"]), "--dry-run"])
    assert result.exit_code == 0, result.output
    stage_lines = [line for line in result.output.splitlines() if line.startswith(("cached", "run", "grow"))]
    assert stage_lines and all(line.startswith("cached") for line in stage_lines)


def test_cli_rerun_prints_the_summary_and_the_report_path(ci):
    result = CliRunner().invoke(app, ["study", str(ci["study"]), "--out", str(ci["out"])])
    assert result.exit_code == 0, result.output
    assert "Zero-shot: trained on synthetic clips only" in result.output
    assert "0 stage(s) run" in result.output and f"report: {ci['out'] / 'report' / 'report.md'}" in result.output


def _pool_wavs(out: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in (out / "stages" / "pool").rglob("*.wav")}


def test_more_clips_per_class_generates_only_the_new_clips_and_resumes(ci, monkeypatch):
    out = ci["out"]
    config = yaml.safe_load(ci["study"].read_text())
    config["experiments"]["quantity"]["clips_per_class"] = [2, 4, 6]
    changed = ci["study"].with_name("ci-more.yaml")
    changed.write_text(yaml.safe_dump(config, sort_keys=False))
    wavs = _pool_wavs(out)

    dry = CliRunner().invoke(app, ["study", str(changed), "--out", str(out), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert [line.split()[1] for line in dry.output.splitlines() if line.startswith("grow")] == ["pool"]

    # the first attempt dies in its first training run: the grown pool is kept, nothing else is lost
    import synthaudio.study.recognition

    real_train_run = synthaudio.study.recognition.train_run

    def dies(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(synthaudio.study.recognition, "train_run", dies)
    interrupted = Recorder()
    with pytest.raises(KeyboardInterrupt):
        run_study(load_study(changed), out, on_event=interrupted)
    # only the stages that depend on the new amount were scheduled: the pool (to grow), one subset, two runs
    assert interrupted.kinds() == Counter({"pool": 1, "subset": 1, "train": 2})
    monkeypatch.setattr(synthaudio.study.recognition, "train_run", real_train_run)

    recorder = Recorder()
    outcome = run_study(load_study(changed), out, on_event=recorder)
    # resumed: the pool was completed by the interrupted attempt; now only the new subset's runs remain (and the
    # domain gap of its clips)
    assert recorder.kinds() == Counter({"train": 2, "evaluate": 2, "domain_gap": 1})
    grown = _pool_wavs(out)
    assert {path: grown[path] for path in wavs} == wavs  # the existing clips were not touched
    assert len(grown) - len(wavs) == 2 * 3  # 2 more clips for each of the 3 labels, in one pool
    rows = json.loads((out / "report" / "results.json").read_text())["rows"]
    assert {row["clips_per_class"] for row in rows if row["experiment"] == "quantity"} == {2, 4, 6}
    assert len(outcome.ran) == 5


def test_paper_protocol_is_flagged_and_filters_on_test(ci):
    config = yaml.safe_load(ci["study"].read_text())
    config["protocol"] = "paper"
    config["seeds"] = [0]
    config["experiments"] = {"filtered": config["experiments"]["filtered"]}
    paper = ci["study"].with_name("ci-paper.yaml")
    paper.write_text(yaml.safe_dump(config, sort_keys=False))
    recorder = Recorder()
    outcome = run_study(load_study(paper), ci["out"], on_event=recorder)
    assert recorder.kinds()["pool"] == 0  # generation does not depend on the protocol
    results = json.loads((ci["out"] / "report" / "results.json").read_text())
    class_filter = [f for f in results["filters"] if f["filter"] == "class"][0]
    assert class_filter["measured_on"] == "test" and class_filter["optimistic"]
    assert all("optimistic" in row["protocol"] for row in results["rows"])
    text = outcome.report.read_text()
    assert "protocol: paper (OPTIMISTIC)" in text and "(OPTIMISTIC: paper protocol)" in text
    assert "(the TEST split: OPTIMISTIC)" in text
    assert not (ci["out"] / "report" / "zero_shot.csv").exists()  # nothing stale from the earlier study


def test_every_evaluation_keeps_its_per_clip_predictions_and_groups(ci):
    from synthaudio.report.statistics import evaluation_from_records, interval

    evaluations = sorted((ci["out"] / "stages" / "evaluate").glob("*/eval.json"))
    assert evaluations
    for path in evaluations:
        record = json.loads(path.read_text())
        predictions = record["predictions"]
        assert len(predictions) == record["metrics"]["num_clips"]
        assert {"id", "group", "label", "predicted", "probabilities"} <= set(predictions[0])
        evaluation = evaluation_from_records([record], str(path))
        assert interval(evaluation, resamples=200).estimate == pytest.approx(record["metrics"]["accuracy"])
