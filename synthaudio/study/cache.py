"""The stage cache: a stage's folder is named by the hash of everything that decides its output.

OUT/stages/<kind>/<key[:16]>/
  inputs.json   the canonical inputs the key hashes (written when the stage starts; readable provenance)
  done.json     written atomically and LAST: its presence means the stage's outputs are complete; it lists every
                output file with its size and sha256, so a file damaged later (truncated, bit-flipped, deleted)
                is reported once and the stage recomputed rather than its output used
  ...           the stage's own outputs

Keys chain: a stage's inputs name its upstream stages by their keys (and user files by their content hashes),
so changing one setting changes exactly the keys that depend on it. A "growing" stage (a generation pool) is
done for a size (clips per class): asking for more reruns it, and it resumes from what it has.
"""

import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

from synthaudio.errors import SynthaudioError
from synthaudio.fsutil import write_text_atomic
from synthaudio.secrets import redact_config

STAGE_FORMAT = 1  # bump when the layout of stage folders changes: every key changes with it
DONE = "done.json"
INPUTS = "inputs.json"


def _plain(value: Any) -> Any:
    """JSON-ready value: paths as strings, pydantic models dumped, tuples as lists; NaN/inf refused."""
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump(mode="json"))
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"stage inputs must be finite numbers, got {value}")
    return value


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8; 1 and 1.0 differ (they can decide different things)."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def stage_key(kind: str, inputs: dict[str, Any]) -> str:
    """sha256 (hex) of the stage kind, the cache format and the canonical inputs."""
    text = canonical_json({"format": STAGE_FORMAT, "kind": kind, "inputs": inputs})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stage_folder(root: Path | str, kind: str, key: str) -> Path:
    return Path(root) / "stages" / kind / key[:16]


def read_done(folder: Path | str) -> dict | None:
    """The done record of a stage folder, or None when the stage has not finished."""
    path = Path(folder) / DONE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None  # cannot happen with atomic writes; treat a damaged marker as not done


def is_done(folder: Path | str, size: int | None = None) -> bool:
    """Finished, with its outputs as they were written, and (for a growing stage) for at least `size`."""
    done = read_done(folder)
    if done is None or damaged_outputs(folder, done):
        return False
    return size is None or int(done.get("size") or 0) >= size


def _output_files(folder: Path) -> dict[str, Path]:
    """The stage's own output files by relative path: not its records, lock or temporaries."""
    files = {}
    for path in sorted(folder.rglob("*")):
        name = path.name
        if path.is_file() and not path.is_symlink() and name not in (DONE, INPUTS) and not name.startswith("."):
            files[path.relative_to(folder).as_posix()] = path
    return files


def _file_record(path: Path) -> dict[str, Any]:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return {"size": path.stat().st_size, "sha256": hasher.hexdigest()}


# (done.json, its mtime, size and mtime of each output) -> damaged files: each state is hashed once per process
_VERIFIED: dict[tuple, list[str]] = {}


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_size, info.st_mtime_ns


def damaged_outputs(folder: Path | str, done: dict | None = None) -> list[str]:
    """Output files of a finished stage that are missing or differ (size, then sha256) from its done record;
    reported once per process on stderr."""
    folder = Path(folder)
    done = read_done(folder) if done is None else done
    outputs = (done or {}).get("outputs")
    if not outputs:
        return []  # a stage finished before outputs were recorded: nothing to check against
    marker = folder / DONE
    memo = (str(marker), marker.stat().st_mtime_ns, tuple(_stat(folder / relative) for relative in outputs))
    if memo in _VERIFIED:
        return _VERIFIED[memo]
    damaged = []
    for relative, expected in outputs.items():
        path = folder / relative
        if not path.is_file() or path.stat().st_size != expected["size"] or \
                _file_record(path)["sha256"] != expected["sha256"]:
            damaged.append(relative)
    _VERIFIED[memo] = damaged
    if damaged:
        shown = ", ".join(damaged[:3]) + (f" and {len(damaged) - 3} more" if len(damaged) > 3 else "")
        print(f"warning: {folder}: {shown} changed after the stage finished (truncated, corrupted or deleted); "
              f"the stage is recomputed", file=sys.stderr)
    return damaged


def discard_damaged(folder: Path | str) -> None:
    """Before a stage reruns: remove outputs that no longer match its done record, so they are made again
    (a generation pool then redoes exactly those clips) instead of being resumed from."""
    folder = Path(folder)
    done = read_done(folder)
    damaged = damaged_outputs(folder, done) if done else []
    for relative in damaged:
        (folder / relative).unlink(missing_ok=True)
    if damaged:
        clear_done(folder)


def begin_stage(folder: Path | str, kind: str, key: str, inputs: dict[str, Any]) -> Path:
    """Create the folder and record its inputs; refuse a folder that holds another key (a prefix collision)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / INPUTS
    if record.is_file():
        try:
            existing = json.loads(record.read_text(encoding="utf-8")).get("key")
        except json.JSONDecodeError:
            existing = None
        if existing not in (None, key):
            raise SynthaudioError(f"{folder}: holds stage {existing}, not {key}; remove the folder")
    write_text_atomic(record, json.dumps({"kind": kind, "key": key, "inputs": redact_config(_plain(inputs))}, indent=2,
                                         ensure_ascii=False) + "\n")
    return folder


def mark_done(folder: Path | str, record: dict[str, Any]) -> None:
    """Write done.json atomically: from now on the stage counts as finished."""
    outputs = {relative: _file_record(path) for relative, path in _output_files(Path(folder)).items()}
    text = json.dumps({**redact_config(_plain(record)), "outputs": outputs}, indent=2, ensure_ascii=False)
    write_text_atomic(Path(folder) / DONE, text + "\n")


def clear_done(folder: Path | str) -> None:
    (Path(folder) / DONE).unlink(missing_ok=True)
