"""Descriptor files: JSON, class label -> list of descriptors.

Two shapes are read:
  - the study's published lists (and any hand-written file): {"Car horn": ["blaring", ...], ...}
  - synthaudio's cache: {"format": "synthaudio.descriptors/1", "descriptors": {label: [...]},
                         "provenance": {label: {backend, model, domain, context, count, instruction, ...}}}
Keys match labels whatever their case, spacing and punctuation ("Car horn" = "car_horn" = "CarHorn"), because
files spell classes as the LLM was asked, not as the dataset does.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthaudio.errors import ConfigError
from synthaudio.fsutil import write_text_atomic
from synthaudio.prompts.safety import is_offensive

FORMAT = "synthaudio.descriptors/1"


def match_key(text: str) -> str:
    """The form in which a file key and a label are compared: letters and digits only, case-folded."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@dataclass
class DescriptorEntry:
    descriptors: list[str]
    provenance: dict[str, Any] = field(default_factory=dict)

    def made_for(self, settings: dict[str, Any]) -> bool:
        """Whether this list answers the same request (domain, context, count)."""
        return all(self.provenance.get(key) == value for key, value in settings.items())


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(f"{path}: descriptor file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: not valid JSON ({error.msg}, line {error.lineno}); expected an object "
                          "mapping each label to a list of descriptors") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; expected a JSON descriptor file") from None


def _check_lists(path: Path, mapping: Any, where: str, screen: bool = False) -> dict[str, list[str]]:
    """The lists of `mapping`, refused with the label and position of the first bad entry (empty, not a string,
    or, with `screen`, flagged by the safety filter)."""
    if not isinstance(mapping, dict) or not mapping:
        raise ConfigError(f"{path}: {where} must be a non-empty JSON object mapping each label to a list of "
                          "descriptors")
    seen: dict[str, str] = {}
    for key, value in mapping.items():
        if not isinstance(value, list) or not value:
            raise ConfigError(f"{path}: '{key}' must map to a non-empty list of descriptor strings")
        for position, item in enumerate(value, start=1):
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(f"{path}: '{key}' entry {position} of {len(value)} is empty or not a string; "
                                  "remove it or write a descriptor")
            if screen and is_offensive(item):
                raise ConfigError(f"{path}: '{key}' entry {position} of {len(value)} is flagged as offensive by "
                                  "the safety filter; replace it")
        other = seen.setdefault(match_key(key), key)
        if other != key:
            raise ConfigError(f"{path}: keys '{other}' and '{key}' name the same label; keep one of them")
    return {key: _distinct(value) for key, value in mapping.items()}


def _distinct(items: list[str]) -> list[str]:
    """Stripped, first occurrence only: the study's own lists repeat words ("croaking" twice for Frog), and a
    prompt "frog sound, croaking, croaking, ..." would waste a draw."""
    seen: set[str] = set()
    kept = []
    for item in (item.strip() for item in items):
        if item.casefold() not in seen:
            seen.add(item.casefold())
            kept.append(item)
    return kept


def read_descriptor_entries(path: Path | str, screen: bool = False) -> dict[str, DescriptorEntry]:
    """Every list in a descriptor file (either shape), with its provenance where the file has one; with `screen`,
    a list holding a word the safety filter flags is refused (naming its label and position)."""
    path = Path(path)
    data = _load_json(path)
    if isinstance(data, dict) and "format" in data:
        if data["format"] != FORMAT:
            raise ConfigError(f"{path}: field 'format' is '{data['format']}', expected '{FORMAT}'")
        lists = _check_lists(path, data.get("descriptors"), "field 'descriptors'", screen)
        provenance = data.get("provenance", {})
        if not isinstance(provenance, dict):
            raise ConfigError(f"{path}: field 'provenance' must be an object: label -> provenance")
        return {key: DescriptorEntry(value, dict(provenance.get(key) or {})) for key, value in lists.items()}
    return {key: DescriptorEntry(value) for key, value in _check_lists(path, data, "the file", screen).items()}


def descriptors_for_labels(path: Path | str, labels: list[str]) -> dict[str, list[str]]:
    """label -> its list from the file at `path`; every label missing from the file is named in one error."""
    entries = read_descriptor_entries(path, screen=True)
    by_key = {match_key(key): entry.descriptors for key, entry in entries.items()}
    missing = [label for label in labels if match_key(label) not in by_key]
    if missing:
        names = ", ".join(f"'{label}'" for label in missing)
        raise ConfigError(f"{path}: no descriptors for {len(missing)} of {len(labels)} labels: {names} (keys match "
                          "whatever their case, spaces and underscores); add them to the file or build them with "
                          "--llm")
    return {label: by_key[match_key(label)] for label in labels}


def read_descriptor_cache(path: Path | str) -> dict[str, DescriptorEntry]:
    """The entries of a cache file; {} where it does not exist yet. A file of another shape is refused rather
    than overwritten."""
    path = Path(path)
    if not path.exists():
        return {}
    data = _load_json(path)
    if not (isinstance(data, dict) and data.get("format") == FORMAT):
        raise ConfigError(f"{path}: not a synthaudio descriptor cache (no \"format\": \"{FORMAT}\"), and it will "
                          "not be overwritten; to reuse its lists pass it with --descriptors, or choose another "
                          "--descriptors-out")
    return read_descriptor_entries(path)


def write_descriptor_cache(path: Path | str, entries: dict[str, DescriptorEntry]) -> None:
    """Write all entries at once (atomically: a crash leaves the previous file as it was)."""
    ordered = sorted(entries)
    document = {"format": FORMAT,
                "descriptors": {label: entries[label].descriptors for label in ordered},
                "provenance": {label: entries[label].provenance for label in ordered}}
    write_text_atomic(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
