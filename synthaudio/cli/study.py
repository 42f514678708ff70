"""`synthaudio study STUDY.yaml`: every experiment of a study, cached by content, then the report."""

from pathlib import Path

import typer

from synthaudio.cli.interrupt import explained_interrupt


def register(app: typer.Typer) -> None:
    app.command("study")(study)


def study(
    study_file: Path = typer.Argument(..., help="The study YAML (see studies/*.yaml)."),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: the study's `output`, else "
                                                        "runs/<study name>)."),
    executor: str = typer.Option("local", "--executor", help="Where independent stages run: local, or ray "
                                                              "(generation pools, training and evaluation runs on Ray "
                                                              "workers)."),
    address: str = typer.Option(None, "--address", help="--executor ray: auto (the `ray start` cluster here) or "
                                                        "HOST:PORT; default: RAY_ADDRESS, else a local Ray."),
    workers: int = typer.Option(None, "--workers", help="--executor ray: worker actors, i.e. stages at a time "
                                                        "(default: one per GPU, or per CPU without GPUs)."),
    gpus_per_worker: float = typer.Option(None, "--gpus-per-worker", help="--executor ray: GPUs per worker "
                                                                          "(default 1 where there are GPUs, else 0)."),
    cpus_per_worker: int = typer.Option(None, "--cpus-per-worker", help="--executor ray: CPUs (torch threads) per "
                                                                        "worker (default 1)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan (which stages are cached, which would "
                                                          "run) and do nothing."),
) -> None:
    """Run a study: prepare data, write prompts, generate, train, evaluate, filter; rerun to resume or to update."""
    from synthaudio.study.executor import check_executor
    from synthaudio.study.runner import plan_lines, run_study
    from synthaudio.study.schema import load_study

    config = load_study(study_file)
    check_executor(executor)  # an unknown executor is an error before anything runs
    given = {"address": address, "workers": workers, "gpus_per_worker": gpus_per_worker,
             "cpus_per_worker": cpus_per_worker}
    options = {name: value for name, value in given.items() if value is not None}
    if options and executor != "ray":
        from synthaudio.errors import ConfigError

        flags = ", ".join(f"--{name.replace('_', '-')}" for name in options)
        raise ConfigError(f"{flags}: options of --executor ray; add --executor ray or leave them out")
    if dry_run:
        outcome = run_study(config, out, executor, dry_run=True)
        for line in plan_lines(outcome):
            typer.echo(line)
        return
    counter = {"done": 0, "out": out or "the study's output folder"}

    def on_event(event: str, stage, record) -> None:
        if event == "plan":
            counter["out"] = record["out"]
            typer.echo(f"plan: {record['stages']} stages, {record['cached']} already done, "
                       f"{record['stages'] - record['cached']} to run -> {record['out']}", err=True)
        elif event == "done":
            counter["done"] += 1
            size = f" [{stage.size} clips/class]" if stage.size is not None else ""
            typer.echo(f"done {stage.kind:<13} {stage.title}{size} ({record['seconds']:.1f} s)", err=True)

    with explained_interrupt(lambda: f"{counter['done']} stage(s) finished in this run are kept in "
                                     f"{counter['out']}/stages; run the same command again to resume"):
        outcome = run_study(config, out, executor, on_event=on_event, executor_options=options)
    cached = sum(1 for status in outcome.status.values() if status == "cached")
    typer.echo(outcome.summary)
    typer.echo("")
    typer.echo(f"{len(outcome.ran)} stage(s) run, {cached} reused from the cache; report: {outcome.report}")
