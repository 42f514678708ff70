"""The `synthaudio` command: thin typer commands over plain functions.

Each sub-module registers its commands with `register(app)`; heavy imports (torch, diffusers, ...) happen
inside the commands, so `synthaudio --help` stays fast.
"""

import importlib
import sys

import typer

from synthaudio import __version__
from synthaudio.errors import SynthaudioError
from synthaudio.secrets import redact_text

app = typer.Typer(
    name="synthaudio",
    help="Does synthetic audio from generative foundation models help your recognition model, and how much?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = ("prepare", "manifest", "prompts", "generate", "train", "study", "report", "plugins")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"synthaudio {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Prompts -> synthetic audio -> classifiers trained on synthetic, real and mixed data -> reports."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"synthaudio.cli.{_name}").register(app)


def main() -> None:
    """Entry point: a SynthaudioError becomes one `error:` line per problem on stderr and exit status 2."""
    try:
        app()
    except SynthaudioError as error:
        for line in redact_text(str(error)).splitlines() or [""]:
            typer.secho(f"error: {line}", fg=typer.colors.RED, err=True)
        sys.exit(2)
