"""`synthaudio study STUDY.yaml`: every experiment of a study, cached by content, then the report."""

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("study")(study)


def study(
    study_file: Path = typer.Argument(..., help="The study YAML (see studies/*.yaml)."),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: the study's `output`, else "
                                                        "runs/<study name>)."),
    executor: str = typer.Option("local", "--executor", help="Where independent stages run: local."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan (which stages are cached, which would "
                                                          "run) and do nothing."),
) -> None:
    """Run a study: prepare data, write prompts, generate, train, evaluate, filter; rerun to resume or to update."""
    from synthaudio.config import load_study
    from synthaudio.study.executor import check_executor
    from synthaudio.study.runner import plan_lines, run_study

    config = load_study(study_file)
    check_executor(executor)  # an unknown executor is an error before anything runs
    if dry_run:
        outcome = run_study(config, out, executor, dry_run=True)
        for line in plan_lines(outcome):
            typer.echo(line)
        return
    counter = {"done": 0}

    def on_event(event: str, stage, record) -> None:
        if event == "plan":
            typer.echo(f"plan: {record['stages']} stages, {record['cached']} already done, "
                       f"{record['stages'] - record['cached']} to run -> {record['out']}", err=True)
        elif event == "done":
            counter["done"] += 1
            size = f" [{stage.size} clips/class]" if stage.size is not None else ""
            typer.echo(f"done {stage.kind:<12} {stage.title}{size} ({record['seconds']:.1f} s)", err=True)

    outcome = run_study(config, out, executor, on_event=on_event)
    cached = sum(1 for status in outcome.status.values() if status == "cached")
    typer.echo(outcome.summary)
    typer.echo("")
    typer.echo(f"{len(outcome.ran)} stage(s) run, {cached} reused from the cache; report: {outcome.report}")
