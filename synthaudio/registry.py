"""One registry mechanism for everything chosen by name: generators, LLM backends, dataset recipes, models, clip
scorers, experiment kinds and executors.

An entry is a name and a "module:attribute" target, imported only when the entry is asked for, so a missing
optional dependency only matters when that entry is used. The object it names declares its own facts (a recipe its
domain and extra manifests, a generator whether it takes negative prompts, ...): no central table of facts.
Installed packages add entries through Python entry points of the registry's group (e.g. `synthaudio.generators`
in their pyproject.toml: `[project.entry-points."synthaudio.generators"] mygen = "mylab.gen:MyGenerator"`), so a lab
can ship its own generator or recipe without editing synthaudio. A built-in name cannot be replaced by a plugin.
"""

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from synthaudio.errors import ConfigError, SynthaudioError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    name: str
    target: str  # "module:attribute"
    origin: str  # "synthaudio", or the distribution that installed it


class Registry(Generic[T]):
    """Names -> lazily imported objects, built-in entries first, then those of installed plugins.

    Args:
        noun: what an entry is, for messages ("generator", "dataset", "scorer").
        group: the entry-point group plugins register under (None: built-in entries only).
        error: the exception class for an unknown name.
    """

    def __init__(self, noun: str, group: str | None, builtin: dict[str, str],
                 error: type[SynthaudioError] = ConfigError):
        self.noun, self.group, self.error = noun, group, error
        self._entries = {name: Entry(name, target, "synthaudio") for name, target in builtin.items()}
        self._discovered = group is None
        self._loaded: dict[str, Any] = {}

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        for point in entry_points(group=self.group):
            if point.name in self._entries:
                continue  # built-ins win: a plugin cannot silently change what a study file means
            origin = point.dist.name if point.dist is not None else "a plugin"
            self._entries[point.name] = Entry(point.name, point.value, origin)

    def add(self, name: str, target: str, origin: str = "synthaudio") -> None:
        """Register `target` ("module:attribute") under `name` in this process (tests, notebooks)."""
        self._entries[name] = Entry(name, target, origin)
        self._loaded.pop(name, None)

    def remove(self, name: str) -> None:
        self._entries.pop(name, None)
        self._loaded.pop(name, None)

    def names(self) -> list[str]:
        self._discover()
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        self._discover()
        return isinstance(name, str) and name in self._entries  # a YAML list or mapping is no name

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def check(self, name: str) -> str:
        """`name` if it is registered, else the registry's error listing the known names."""
        if name not in self:
            raise self.error(f"unknown {self.noun} '{name}'; known {self.noun}s: {', '.join(self.names())}")
        return name

    def entry(self, name: str) -> Entry:
        return self._entries[self.check(name)]

    def load(self, name: str) -> T:
        """The object entry `name` names, imported now if not yet."""
        if name not in self._loaded:
            entry = self.entry(name)
            module, _, attribute = entry.target.partition(":")
            try:
                loaded = importlib.import_module(module)
                for part in attribute.split(".") if attribute else ():
                    loaded = getattr(loaded, part)
            except (ImportError, AttributeError) as error:
                if entry.origin == "synthaudio":
                    raise
                raise ConfigError(f"{self.noun} '{name}' from {entry.origin} ({entry.target}) cannot be loaded: "
                                  f"{error}; reinstall or remove that package") from None
            self._loaded[name] = loaded
        return self._loaded[name]
