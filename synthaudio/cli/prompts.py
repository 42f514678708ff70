"""CLI for the prompts stage (being written)."""

import typer


def register(app: typer.Typer) -> None:
    pass
