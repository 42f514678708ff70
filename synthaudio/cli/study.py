"""CLI for the study stage (being written)."""

import typer


def register(app: typer.Typer) -> None:
    pass
