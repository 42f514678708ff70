"""Errors a user can act on.

Every error raised for bad input derives from `SynthaudioError`: its message is one line naming the file, field
or model and what to do. The CLI prints that line and exits with status 2; anything else is a bug and keeps its
traceback.
"""

import os
from dataclasses import dataclass


class SynthaudioError(Exception):
    """Bad input or environment, with a one-line message that says what to do."""

    def __reduce__(self):
        # Subclasses take other constructor arguments than their message; rebuild without calling __init__ so the
        # error crosses a process boundary (a Ray worker, multiprocessing) with its class, message and fields.
        return _rebuild_error, (type(self), self.args, self.__dict__)


def _rebuild_error(cls: type, args: tuple, fields: dict) -> SynthaudioError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(fields)
    return error


def shown_path(path) -> str:
    """`path` as text that can always be printed or written: bytes that are not UTF-8 (Linux allows any in a file
    name) appear as \\xNN escapes instead of breaking the terminal or a UTF-8 file."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def is_utf8_path(path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class AudioError(SynthaudioError):
    """An audio file that cannot be used: names the file and the problem."""

    def __init__(self, path, problem: str):
        path = shown_path(path)
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class NoAudioTrackError(AudioError):
    """A video (or other container) that holds no audio track: expected for many real videos (UCF101)."""

    def __init__(self, path):
        super().__init__(path, "has no audio track")


class ManifestError(SynthaudioError):
    """A manifest row that is not valid: names the manifest and the line."""


class ConfigError(SynthaudioError):
    """A configuration value that is not valid: names the file and the field."""


class DatasetError(SynthaudioError):
    """A dataset root that does not have the expected layout."""


class CheckpointError(SynthaudioError):
    """A model checkpoint that cannot be found or loaded: names it and how to provide it."""


class MissingDependencyError(SynthaudioError):
    """An optional dependency that is not installed: names it and the install command."""

    def __init__(self, package: str, purpose: str, install: str):
        super().__init__(f"{purpose} needs {package}, which is not installed: {install}")


def require(module: str, purpose: str, install: str):
    """Import an optional module or raise MissingDependencyError with the install command."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingDependencyError(module, purpose, install) from error


@dataclass(frozen=True)
class FieldProblem:
    """The first problem of a pydantic ValidationError, ready to be put into a one-line message."""

    field: str  # dotted path of the field ("" for the whole value)
    kind: str  # "unknown" (a key the model does not take), "missing" or "invalid"
    message: str  # pydantic's explanation, without its "Value error, " prefix


def field_problem(error) -> FieldProblem:
    """The first error of a pydantic ValidationError as a FieldProblem (each caller words its own line)."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    kind = {"extra_forbidden": "unknown", "missing": "missing"}.get(first["type"], "invalid")
    return FieldProblem(field, kind, first["msg"].removeprefix("Value error, "))
