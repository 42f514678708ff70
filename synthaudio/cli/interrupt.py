"""Ctrl-C in a long command: one line saying what was kept and how to go on, exit status 130, no traceback."""

import contextlib
from collections.abc import Callable, Iterator

import typer


@contextlib.contextmanager
def explained_interrupt(kept: str | Callable[[], str]) -> Iterator[None]:
    """Turn KeyboardInterrupt into `interrupted: <kept>` on stderr and exit status 130 (128 + SIGINT).

    Args:
        kept: what the interrupted command kept and how to resume; a callable is asked only when it happens.
    """
    try:
        yield
    except KeyboardInterrupt:
        text = kept() if callable(kept) else kept
        typer.secho(f"interrupted: {text}", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(130) from None
