"""CLI for the generate stage (being written)."""

import typer


def register(app: typer.Typer) -> None:
    pass
