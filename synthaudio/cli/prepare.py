"""CLI for the prepare stage (being written)."""

import typer


def register(app: typer.Typer) -> None:
    pass
