"""Real-dataset recipes (lhotse style: one plain `prepare_<name>(root, ..., seed)` per dataset, no downloads).

`prepare_dataset(name, root, **options)` looks the recipe up by name (importing its module only then) and
returns a `PreparedDataset`; `write_prepared` writes its manifests. Each module's docstring says where the
official data comes from and the exact layout it expects.
"""

from pathlib import Path

from synthaudio.datasets.common import ON_ERROR_CHOICES, PreparedDataset, Problem, Recipe
from synthaudio.errors import ConfigError, DatasetError
from synthaudio.manifest import write_manifest
from synthaudio.registry import Registry

__all__ = ["RECIPES", "PreparedDataset", "Problem", "Recipe", "dataset_names", "get_recipe", "prepare_dataset",
           "extra_manifest_paths", "write_prepared", "summary_lines"]

RECIPES: Registry[Recipe] = Registry("dataset", "synthaudio.recipes", {
    "esc50": "synthaudio.datasets.esc50:RECIPE",
    "gtzan": "synthaudio.datasets.gtzan:RECIPE",
    "speechcommands": "synthaudio.datasets.speechcommands:RECIPE",
    "iemocap": "synthaudio.datasets.iemocap:RECIPE",
    "ucf101": "synthaudio.datasets.ucf101:RECIPE",
    "activitynet": "synthaudio.datasets.activitynet:RECIPE",
    "folder": "synthaudio.datasets.folder:RECIPE",
    "asterisk": "synthaudio.datasets.asterisk:RECIPE",
    "qabcs": "synthaudio.datasets.qabcs:RECIPE",
}, error=DatasetError)


def dataset_names() -> list[str]:
    return RECIPES.names()


def get_recipe(name: str) -> Recipe:
    """The recipe of dataset `name` (plugins included); DatasetError listing the known names otherwise."""
    return RECIPES.load(name)


def option_flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def prepare_dataset(name: str, root: Path | str, **options) -> PreparedDataset:
    """Run recipe `name` on `root`; options are its keyword arguments (e.g. test_fold=2, on_error="skip")."""
    recipe = get_recipe(name)
    accepted = recipe.options()
    unknown = [option for option in options if option not in accepted]
    if unknown:
        raise ConfigError(f"{', '.join(option_flag(o) for o in unknown)} does not apply to {name}; its options: "
                          f"{', '.join(option_flag(o) for o in accepted)}")
    if options.get("on_error", "stop") not in ON_ERROR_CHOICES:
        raise ConfigError(f"--on-error must be one of {', '.join(ON_ERROR_CHOICES)}, got '{options['on_error']}'")
    return recipe.prepare(root, **options)


def extra_manifest_paths(name: str, out: Path | str, overrides: dict[str, Path | str | None] | None = None
                         ) -> dict[str, Path]:
    """Where the extra manifests of dataset `name` go: `<out stem>.<extra>.jsonl` beside `out`, unless overridden.

    An override for an extra this dataset does not make (e.g. a noise manifest for ESC-50) is a ConfigError.
    """
    out = Path(out)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give the manifest file to write, e.g. {out / 'manifest.jsonl'}")
    extras = get_recipe(name).extras
    given = {extra: Path(path) for extra, path in (overrides or {}).items() if path is not None}
    for extra in given:
        if extra not in extras:
            makers = [dataset for dataset in dataset_names() if extra in get_recipe(dataset).extras]
            raise ConfigError(f"--{extra}-out applies only to {', '.join(makers) or 'no dataset'}, not to {name}")
    paths = {extra: given.get(extra, out.with_name(f"{out.stem}.{extra}.jsonl")) for extra in extras}
    for extra, path in paths.items():
        if path.resolve() == out.resolve():
            raise ConfigError(f"--{extra}-out must differ from --out ({out})")
    return paths


def write_prepared(prepared: PreparedDataset, out: Path | str, extra_paths: dict[str, Path] | None = None
                   ) -> dict[str, Path]:
    """Write the main manifest to `out` and each extra manifest (atomically); returns what was written where."""
    paths = extra_manifest_paths(prepared.name, out, extra_paths)
    written = {}
    for extra, clips in prepared.extra.items():
        write_manifest(paths[extra], clips)
        written[extra] = paths[extra]
    write_manifest(out, prepared.clips)
    return {"clips": Path(out), **written}


def summary_lines(prepared: PreparedDataset, written: dict[str, Path] | None = None) -> list[str]:
    """What a user should read after a run: counts per split, extra manifests, exclusions, every unusable file."""
    counts = ", ".join(f"{split} {count}" for split, count in prepared.split_counts().items())
    labels = len({clip.label for clip in prepared.clips})
    where = f" -> {written['clips']}" if written else ""
    lines = [f"{prepared.name}: {len(prepared.clips)} clips, {labels} labels ({counts}){where}"]
    for extra, clips in prepared.extra.items():
        target = f" -> {written[extra]}" if written and extra in written else ""
        lines.append(f"{extra} manifest: {len(clips)} clips{target}")
    for reason, count in prepared.excluded.items():
        lines.append(f"left out: {count} {reason}")
    kinds = {"bad": "skipped {n} unusable file(s)", "no_audio": "{n} video(s) without an audio track",
             "missing": "{n} listed file(s) not found"}
    for kind, template in kinds.items():
        problems = [problem for problem in prepared.problems if problem.kind == kind]
        if problems:
            lines.append(template.format(n=len(problems)) + ":")
            lines.extend(f"  {problem.path}: {problem.reason}" for problem in problems)
    return lines
