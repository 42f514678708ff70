"""`synthaudio list`: what can be chosen by name (generators, datasets, LLM backends, models, clip scorers,
allocation rules), built-in and from installed plugins."""

import typer


def register(app: typer.Typer) -> None:
    app.command("list")(list_entries)


def list_entries(
    kind: str = typer.Argument(None, help="generators, datasets, llm-backends, models, scorers or "
                                          "allocation-rules (default: all)."),
) -> None:
    """List the names each registry knows; entries from installed plugins name their package."""
    from synthaudio.datasets import RECIPES
    from synthaudio.errors import ConfigError
    from synthaudio.generators import GENERATORS
    from synthaudio.llm import BACKENDS
    from synthaudio.models import MODELS
    from synthaudio.study.registries import ALLOCATION_RULES, SCORERS

    registries = {"generators": GENERATORS, "datasets": RECIPES, "llm-backends": BACKENDS, "models": MODELS,
                  "scorers": SCORERS, "allocation-rules": ALLOCATION_RULES}
    if kind is not None and kind not in registries:
        raise ConfigError(f"unknown list '{kind}'; choose one of: {', '.join(registries)}")
    for name, registry in registries.items():
        if kind not in (None, name):
            continue
        names = []
        for entry_name in registry.names():
            origin = registry.entry(entry_name).origin
            names.append(entry_name if origin == "synthaudio" else f"{entry_name} (plugin: {origin})")
        typer.echo(f"{name}: {', '.join(names)}")
