"""`synthaudio report OUT_DIR`: write a finished study's report again (report.md, index.html, tables, plots) from
its OUT_DIR/report/results.json, e.g. after updating synthaudio; nothing is trained or generated."""

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    out_dir: Path = typer.Argument(..., help="A study's output folder (the one holding report/results.json)."),
) -> None:
    """Rebuild a study's report (report.md and the HTML page with its audio gallery) from its results."""
    from synthaudio.errors import ConfigError
    from synthaudio.report import rebuild_report

    results = out_dir / "report" / "results.json"
    if not results.is_file():
        raise ConfigError(f"{results}: not found; OUT_DIR must be a study output folder whose study has finished "
                          f"(run `synthaudio study STUDY.yaml --out {out_dir}` first)")
    markdown, _ = rebuild_report(results)
    typer.echo(f"report: {markdown}")
    typer.echo(f"page:   {markdown.with_name('index.html')}")
