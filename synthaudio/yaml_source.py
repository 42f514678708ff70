"""YAML configuration files read with their line numbers, so that every error can say 'file:line: field: problem'.

`read_yaml` refuses a key given twice in one mapping (YAML would silently keep the last one) and turns syntax
errors into one line. `YamlDocument.validation_problems` turns each error of a pydantic validation into a line
naming the field as the user wrote it (pydantic's own location names union members and tags too), its line, and
for an unknown key the keys allowed there.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Discriminator, Tag, ValidationError

from synthaudio.errors import ConfigError

DISCRIMINATOR = "kind"  # the field that picks the model of a tagged union
_MISSING = object()


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(f"{loader.name}:{key_node.start_mark.line + 1}: key '{key}' appears twice in this "
                              f"mapping (first on line {seen[key]}); keep one")
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass
class YamlDocument:
    data: Any
    nodes: Any  # the composed YAML node tree (line numbers), None for an empty document
    source: Path | None

    @property
    def place(self) -> str:
        return str(self.source) if self.source is not None else "study"

    def where(self, loc: tuple) -> str:
        return where(self.source, self.nodes, loc)

    def validation_problems(self, error: ValidationError, model: type[BaseModel],
                            skip: Callable[[tuple], bool] = lambda loc: False) -> list[str]:
        """Every problem of `error` (raised validating this document as `model`), one located line each, but those
        whose location `skip` rejects."""
        lines = []
        for found in error.errors():
            loc = user_loc(tuple(found["loc"]), self.data)
            if skip(loc):
                continue
            problem = describe(found)
            if found["type"] == "extra_forbidden":
                problem += allowed_keys(model, self.data, loc)
            lines.append(f"{self.where(loc)}: {problem}")
        return list(dict.fromkeys(lines))  # union members can report one place twice

    def validation_error(self, error: ValidationError, model: type[BaseModel]) -> ConfigError:
        """Every problem of `error` as one ConfigError, one located line per problem."""
        return ConfigError("\n".join(self.validation_problems(error, model)))


def read_yaml(text: str, source: Path | str | None = None) -> YamlDocument:
    """Parse YAML text keeping its node tree; ConfigError ('file:line: not valid YAML ...') on syntax errors."""
    place = str(source) if source is not None else "study"
    loader = _UniqueKeyLoader(text)
    loader.name = place
    try:
        nodes = loader.get_single_node()
        data = loader.construct_document(nodes) if nodes is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{place}{line}: not valid YAML ({getattr(error, 'problem', None) or error})") from None
    finally:
        loader.dispose()
    return YamlDocument(data, nodes, Path(source) if source is not None else None)


def _node_at(nodes, loc: tuple):
    """The YAML node of the deepest part of `loc` that exists."""
    node = nodes
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    node = value_node
                    break
            else:
                continue  # a key the file does not have (a missing field): point at its parent
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return node


def where(source: Path | None, nodes, loc: tuple) -> str:
    """'file:line: a.b[2].c' for a field (the line of its value, or of its nearest written parent)."""
    field = dotted(loc)
    place = str(source) if source is not None else "study"
    if nodes is not None:
        node = _node_at(nodes, loc)
        if node is not None:
            place += f":{node.start_mark.line + 1}"
    return f"{place}: {field}" if field else place


def dotted(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def user_loc(loc: tuple, data: Any) -> tuple:
    """pydantic's loc as the user wrote it: without the tag names it adds for tagged unions
    ('experiments.x.zero_shot.field', 'generators.x.single generator.field') and the member names of other unions
    ('clips_per_class.list[int]')."""
    cleaned, node = [], data
    for number, part in enumerate(loc):
        if isinstance(node, dict):
            if part in node:
                cleaned.append(part)
                node = node[part]
            elif node.get(DISCRIMINATOR) == part or number < len(loc) - 1:
                continue  # a missing key ends the loc; one that goes on names a union member or tag
            else:
                cleaned.append(part)  # a missing key: name it
                node = _MISSING
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            cleaned.append(part)
            node = node[part]
        elif node is _MISSING:
            cleaned.append(part)
        # else: a scalar value, so what follows names union members, not places in the file
    return tuple(cleaned)


def describe(error: dict, model: type[BaseModel] | None = None, hidden: tuple[str, ...] = ()) -> str:
    """One pydantic error in words; an unknown key lists `model`'s fields (but `hidden`) when given."""
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = [name for name in (model.model_fields if model is not None else ()) if name not in hidden]
        return "unknown key" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
    if kind == "missing":
        return "missing (required)"
    return error["msg"].removeprefix("Value error, ")


class _Values:
    """Marker: the values of a dict field, whose keys the user chooses (dataset names, experiment names, ...)."""

    def __init__(self, annotation):
        self.annotation = annotation


def _resolve_model(annotation: Any, node: Any) -> Any:
    """The pydantic model (or _Values marker) that validates `node` under `annotation`, if any."""
    origin = get_origin(annotation)
    if origin is dict:
        return _Values(get_args(annotation)[1])
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        picked = _tagged_member(inner, metadata, node)
        return _resolve_model(inner if picked is None else picked, node)
    candidates = get_args(annotation) if origin in (Union, UnionType) else (annotation,)
    models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
    if len(models) > 1 and isinstance(node, dict):  # a tagged union: the discriminator picks the model
        tagged = [m for m in models if DISCRIMINATOR in m.model_fields
                  and get_args(m.model_fields[DISCRIMINATOR].annotation) == (node.get(DISCRIMINATOR),)]
        models = tagged or models
    return models[0] if models else None


def _tagged_member(union: Any, metadata: list, node: Any) -> Any:
    """The member of a union with a callable Discriminator that `node` selects (by its Tag), if any."""
    pick = next((item.discriminator for item in metadata
                 if isinstance(item, Discriminator) and callable(item.discriminator)), None)
    if pick is None:
        return None
    tag = pick(node)
    for member in get_args(union):
        if get_origin(member) is Annotated and any(isinstance(item, Tag) and item.tag == tag
                                                   for item in get_args(member)[1:]):
            return get_args(member)[0]
    return None


def allowed_keys(root: type[BaseModel], data: Any, loc: tuple) -> str:
    """For an unknown key at `loc`: ' (allowed here: ...)', the keys its mapping accepts."""
    model, node = root, data
    for part in loc[:-1]:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
        if isinstance(model, _Values):
            model = _resolve_model(model.annotation, node)
        elif isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields:
            model = _resolve_model(model.model_fields[part].annotation, node)
        else:
            return ""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return f" (allowed here: {', '.join(model.model_fields)})"
    return ""
