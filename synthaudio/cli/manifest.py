"""`synthaudio manifest ...`: inspect clip manifests."""

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Inspect clip manifests.", no_args_is_help=True)
    group.command("stats")(stats)
    group.command("merge")(merge)
    app.add_typer(group, name="manifest")


def stats(manifest: Path = typer.Argument(..., help="A clip manifest (.jsonl).")) -> None:
    """Clips per label, split and source; total hours."""
    from rich.console import Console
    from rich.table import Table

    from synthaudio.manifest import manifest_stats, read_manifest

    summary = manifest_stats(read_manifest(manifest))
    console = Console()
    table = summary["table"]
    if summary["clips"]:
        view = Table(title=str(manifest))
        view.add_column("label")
        for source, split in table.columns:
            view.add_column(f"{source}/{split}", justify="right")
        for label, row in table.iterrows():
            view.add_row(str(label), *[str(int(v)) for v in row])
        view.add_row("[bold]total[/bold]", *[f"[bold]{int(v)}[/bold]" for v in table.sum(axis=0)])
        console.print(view)
    console.print(f"{summary['clips']} clips, {summary['labels']} labels, {summary['hours']:.3f} hours")


def merge(out: Path = typer.Option(..., "--out", help="The merged manifest to write."),
          manifests: list[Path] = typer.Argument(..., help="Manifests to merge, e.g. the shards of one job.")) -> None:
    """One manifest from several (e.g. shards generated into separate folders); ids must be unique across them."""
    from synthaudio.manifest import merge_manifests

    count = merge_manifests(manifests, out)
    typer.echo(f"{out}: {count} clips from {len(manifests)} manifests")
