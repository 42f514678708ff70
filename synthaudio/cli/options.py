"""Parsing shared by the commands' repeated KEY=VALUE options (--setting, --model-option)."""

import json

from synthaudio.errors import ConfigError


def parse_key_values(items: list[str], option: str, example: str, taken: dict | None = None) -> dict:
    """{key: value} from KEY=VALUE items, values read as JSON where they parse (numbers, true/false, lists), else
    kept as text. `taken` holds values already set by named options: a key given twice, or both ways, is refused
    rather than one silently winning."""
    taken = taken or {}
    values = dict(taken)
    for item in items:
        key, separator, text = item.partition("=")
        key = key.strip()
        if not separator or not key:
            raise ConfigError(f"{option} {item!r}: expected KEY=VALUE, e.g. {option} {example}")
        if key in taken:
            raise ConfigError(f"{option} {key} is also given as --{key.replace('_', '-')}; give it once")
        if key in values:
            raise ConfigError(f"{option} {key} is given twice; give it once")
        try:
            values[key] = json.loads(text)
        except json.JSONDecodeError:
            values[key] = text
    return values
