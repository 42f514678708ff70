"""Read a finished plan's stage outputs into the report's results table, with its evidence: each condition's
intervals, the comparisons the experiments declared, and each test set's power (synthaudio.report.evidence)."""

import json
from dataclasses import asdict
from pathlib import Path

from synthaudio.manifest import read_manifest
from synthaudio.report.evidence import study_evidence
from synthaudio.report.results import ResultRow, StatisticsSettings, StudyResults, setting_key, setting_of
from synthaudio.study.adaptive import read_allocation
from synthaudio.study.cache import read_done
from synthaudio.study.domain_gap import read_domain_gaps
from synthaudio.study.gallery import collect_gallery
from synthaudio.study.plan import Plan
from synthaudio.study.prompt_examples import collect_prompt_examples
from synthaudio.study.recognition import EVALUATION, RUN_FOLDER
from synthaudio.study.schema import StudyConfig


def collect_results(config: StudyConfig, plan: Plan, executor: str = "local",
                    statistics: StatisticsSettings | None = None) -> StudyResults:
    results = StudyResults(study=config.name, protocol=config.protocol, seeds=list(config.seeds),
                           description=config.description, executor=executor, notes=list(plan.notes))
    test_rows = {}
    for name, info in plan.datasets.items():
        counts = info.test_label_counts
        total = sum(counts.values())
        test_rows[name] = [row for row in read_manifest(info.manifest) if row.split == "test"] \
            if info.ready and info.manifest.is_file() else []
        results.datasets.append({
            "dataset": name, "classes": len(info.labels), "test_clips": total, "train_clips": info.splits.get("train",
                                                                                                            0),
            "val_clips": info.splits.get("val", 0), "chance": 1 / len(info.labels) if info.labels else None,
            "majority": max(counts.values()) / total if total else None, "test_label_counts": counts,
            "test_groups": sorted({row.group for row in test_rows[name] if row.group})})
    random_generators: set[str] = set()
    conditions: dict[str, tuple[dict, list[dict]]] = {}  # setting key -> (setting, each seed's evaluation)
    for spec in plan.results:
        evaluation_stage = plan.stages[spec.evaluation]
        evaluation = json.loads((evaluation_stage.folder / EVALUATION).read_text(encoding="utf-8"))
        conditions.setdefault(setting_key(spec.condition), (setting_of(spec.condition), []))[1].append(
            _for_statistics(evaluation, evaluation_stage.folder.relative_to(evaluation_stage.out) / EVALUATION))
        training = read_done(plan.stages[spec.training].folder) or {}
        random_weights = False
        for pool_key in spec.pools:
            pool = read_done(plan.stages[pool_key].folder) or {}
            if pool.get("random_weights"):
                random_weights = True
                random_generators.add(f"{pool.get('generator')} ({pool.get('checkpoint')})")
        metrics = evaluation["metrics"]
        sources = training.get("train_sources", {})
        row = ResultRow(
            **asdict(spec.condition), accuracy=metrics["accuracy"], uar=metrics["uar"], macro_f1=metrics["macro_f1"],
            top5_accuracy=metrics.get("top5_accuracy"), test_clips=metrics["num_clips"],
            train_clips=training.get("num_clips", {}).get("train"), synthetic_clips=sources.get("synthetic", 0),
            random_weights=random_weights, protocol=evaluation["protocol"], best_epoch=training.get("best_epoch"),
            run=str(plan.stages[spec.training].folder / RUN_FOLDER),
            evaluation=str(evaluation_stage.folder / EVALUATION), split=evaluation["split"],
            labels=evaluation["labels"], per_class=metrics["per_class"],
            confusion_matrix=metrics["confusion_matrix"])
        results.rows.append(asdict(row))
    results.random_weight_generators = sorted(random_generators)
    tested = [rows for name, rows in test_rows.items() if name in {spec.condition.dataset for spec in plan.results}]
    if len(tested) > 1:  # a clip tested in two datasets (e.g. one voice alone and among others) counts once
        clips = {(row.path, row.offset) for rows in tested for row in rows}
        speakers = {row.group for rows in tested for row in rows if row.group}
        results.notes.append(f"real test data of all tested datasets together: {len(clips)} distinct clips from "
                             f"{len(speakers)} speakers (manifest groups)")
    evidence = study_evidence(list(conditions.values()), plan.comparisons, statistics)
    results.statistics, results.intervals = evidence.statistics, evidence.intervals
    results.comparisons, results.power = evidence.comparisons, evidence.power
    for key, columns in plan.filters:
        record = read_done(plan.stages[key].folder) or {}
        results.filters.append({**columns, **{k: v for k, v in record.items()
                                              if k not in ("kind", "key", "title", "size", "seconds")}})
    results.allocations = allocation_rows(plan)
    results.domain_gap, gap_notes = read_domain_gaps(plan.stages.values())
    results.notes += [note for note in gap_notes if note not in results.notes]
    if plan.stages:
        results.gallery = collect_gallery(plan, next(iter(plan.stages.values())).out)
    results.prompt_examples = collect_prompt_examples(plan)
    return results


def _for_statistics(evaluation: dict, file: Path) -> dict:
    """What the statistics read of an evaluation result (its per-clip predictions without the probabilities), and
    its file relative to the output folder, for messages."""
    kept = {key: value for key, value in evaluation.items() if key != "predictions"}
    if evaluation.get("predictions"):
        kept["predictions"] = [{key: row.get(key) for key in ("id", "group", "label", "predicted")}
                               for row in evaluation["predictions"]]
    return {**kept, "file": file.as_posix()}


def allocation_rows(plan: Plan) -> list[dict]:
    """Per adaptive run, round and class: what the allocation stage decided, and on what evidence."""
    rows = []
    for key, columns in plan.allocations:
        record = read_allocation(plan.stages[key])
        rewrites = {rewrite["label"]: rewrite for rewrite in record["rewrites"]}
        for label, added in record["added"].items():
            rewrite = rewrites.get(label) or {}
            rows.append({**columns, "round": record["round"] + 1, "round_rule": record["rule"], "label": label,
                         "added": added, "clips": record["clips"][label],
                         "f1_before": None if record["f1"] is None else record["f1"][label],
                         "measured_on": record["measured_on"], "rewritten": bool(rewrite) and not rewrite["failed"],
                         "confused_with": ", ".join(rewrite.get("confused_with", [])),
                         "descriptors": ", ".join(rewrite.get("descriptors", [])),
                         "rewrite_failed": rewrite.get("failed")})
    return rows
