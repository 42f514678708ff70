"""Run a study: prepare the datasets, plan every experiment, run the stages that are not done (level by level,
through an executor), collect the results and write the report.

OUT/
  study.yaml        a copy of the study file as run
  plan.json         every stage: kind, key, folder, title, dependencies, status before this run
  stages/<kind>/<key16>/   the stage cache (see synthaudio.study.cache)
  cache/features/   the feature cache shared by all training runs (unless feature_cache is set)
  report/           report.md, CSV tables, PNG plots
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from synthaudio.fsutil import exclusive_run, write_text_atomic
from synthaudio.naming import safe_name
from synthaudio.report import write_report
from synthaudio.secrets import redact_study_text
from synthaudio.study.context import StudyContext
from synthaudio.study.executor import make_executor
from synthaudio.study.plan import Plan, Planner, Stage
from synthaudio.study.real import plan_preparation, prepared_info
from synthaudio.study.registries import EXPERIMENTS
from synthaudio.study.results import collect_results
from synthaudio.study.schema import StudyConfig

# on_event(event, stage, record): "cached", "start" or "done" (record: the stage's done record) per stage, and
# once "plan" (stage None; record: {"stages", "cached", "out"}) when the whole plan is known
EventHook = Callable[[str, Stage, dict | None], None]


@dataclass
class StudyOutcome:
    out: Path
    plan: Plan
    status: dict[str, str] = field(default_factory=dict)  # stage key -> cached / run / grow (before this run)
    ran: list[str] = field(default_factory=list)  # keys of the stages run now
    report: Path | None = None
    summary: str = ""


def output_folder(config: StudyConfig, out: Path | str | None) -> Path:
    """--out, else the study's `output`, else runs/<study name> in the current folder."""
    if out is not None:
        return Path(out).resolve()
    if config.output is not None:
        return config.output
    return (Path("runs") / safe_name(config.name)).resolve()


def status_of(stage: Stage) -> str:
    if stage.done():
        return "cached"
    if stage.size is not None and (stage.folder / "done.json").is_file():
        return "grow"
    return "run"


def build_plan(config: StudyConfig, out: Path) -> Plan:
    """The whole plan. Datasets not prepared yet are planned with placeholders (only a dry run sees those)."""
    planner = Planner(out)
    prepare = plan_preparation(config, planner)
    prepared = {name: prepared_info(config, name, stage) for name, stage in prepare.items()}
    planner.plan.datasets = prepared
    context = StudyContext(config, planner, prepared, feature_cache(config, out))
    for name, experiment in config.experiments.items():
        EXPERIMENTS.load(experiment.kind)(context, name, experiment)
    if not all(info.ready for info in prepared.values()):
        planner.plan.notes.append("datasets not prepared yet: the stages after preparation are shown with "
                                  "provisional keys")
    return planner.plan


def feature_cache(config: StudyConfig, out: Path) -> Path:
    return config.feature_cache or out / "cache" / "features"


def run_study(config: StudyConfig, out: Path | str | None = None, executor: str = "local", dry_run: bool = False,
              on_event: EventHook | None = None, report: bool = True,
              executor_options: dict | None = None) -> StudyOutcome:
    """Run (or, with dry_run, only plan) the study; returns the plan, what ran and where the report is.
    `executor_options` go to the executor (e.g. {"address": "auto", "workers": 8} for "ray")."""
    out = output_folder(config, out)
    if dry_run:
        plan = build_plan(config, out)
        return StudyOutcome(out, plan, {key: status_of(stage) for key, stage in plan.stages.items()})
    with exclusive_run(out, "study"):
        _keep_study_file(config, out)
        runner = make_executor(executor, **(executor_options or {}))
        try:
            preparation = Planner(out)
            plan_preparation(config, preparation)
            ran = _execute(preparation.plan, runner, on_event)
            plan = build_plan(config, out)
            status = {key: status_of(stage) for key, stage in plan.stages.items()}
            _write_plan(out, plan, status)
            if on_event:
                on_event("plan", None, {"stages": len(status), "out": str(out),
                                        "cached": sum(value == "cached" for value in status.values())})
            ran += _execute(plan, runner, on_event, already=set(ran))
        finally:
            runner.close()
        outcome = StudyOutcome(out, plan, status, ran)
        if report:
            outcome.report, outcome.summary = write_report(collect_results(config, plan, executor), out / "report")
    return outcome


def _execute(plan: Plan, runner, on_event: EventHook | None, already: set[str] = frozenset()) -> list[str]:
    """Run every stage that is not done, one dependency level at a time; returns the keys run. Stages in
    `already` were run moments ago (preparation) and are not reported again."""
    ran = []
    for level in plan.levels():
        todo = []
        for stage in level:
            if stage.done():
                if on_event and stage.key not in already:
                    on_event("cached", stage, None)
            else:
                todo.append(stage)
                if on_event:
                    on_event("start", stage, None)
        distributable = frozenset(stage.key for stage in todo if stage.distributable)
        for job, record in runner.run([stage.job() for stage in todo], distributable):
            ran.append(job.key)
            if on_event:
                on_event("done", plan.stages[job.key], record)
    return ran


def _keep_study_file(config: StudyConfig, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    source = config._source
    if source is not None and Path(source).is_file() and Path(source).resolve() != (out / "study.yaml").resolve():
        # the copy is for reading what ran; an endpoint's credentials stay in the user's own file
        text = Path(source).read_text(encoding="utf-8")
        write_text_atomic(out / "study.yaml", redact_study_text(text))


def _write_plan(out: Path, plan: Plan, status: dict[str, str]) -> None:
    stages = [{"kind": s.kind, "key": s.key, "folder": str(s.folder.relative_to(out)), "title": s.title,
               "size": s.size, "deps": list(s.deps), "status": status[s.key]} for s in plan.ordered()]
    write_text_atomic(out / "plan.json", json.dumps({"stages": stages}, indent=2, ensure_ascii=False) + "\n")


def plan_lines(outcome: StudyOutcome) -> list[str]:
    """The dry-run listing: one line per stage with its status, then totals per kind."""
    lines = []
    counts: dict[str, dict[str, int]] = {}
    for stage in outcome.plan.ordered():
        status = outcome.status[stage.key]
        size = f" [{stage.size} clips/class]" if stage.size is not None else ""
        lines.append(f"{status:<7} {stage.kind:<13} {stage.title}{size}  ({stage.folder.relative_to(outcome.out)})")
        counts.setdefault(stage.kind, {}).setdefault(status, 0)
        counts[stage.kind][status] += 1
    lines.append("")
    for kind, by_status in counts.items():
        lines.append(f"{kind}: " + ", ".join(f"{count} {status}" for status, count in sorted(by_status.items())))
    lines += [f"note: {note}" for note in outcome.plan.notes]
    return lines
