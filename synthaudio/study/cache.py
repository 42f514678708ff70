"""The stage cache: a stage's folder is named by the hash of everything that decides its output.

OUT/stages/<kind>/<key[:16]>/
  inputs.json   the canonical inputs the key hashes (written when the stage starts; readable provenance)
  done.json     written atomically and LAST: its presence means the stage's outputs are complete
  ...           the stage's own outputs

Keys chain: a stage's inputs name its upstream stages by their keys (and user files by their content hashes),
so changing one setting changes exactly the keys that depend on it. A "growing" stage (a generation pool) is
done for a size (clips per class): asking for more reruns it, and it resumes from what it has.
"""

import hashlib
import json
import math
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
    """Finished, and (for a growing stage) for at least `size`."""
    done = read_done(folder)
    if done is None:
        return False
    return size is None or int(done.get("size") or 0) >= size


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
    text = json.dumps(redact_config(_plain(record)), indent=2, ensure_ascii=False)
    write_text_atomic(Path(folder) / DONE, text + "\n")


def clear_done(folder: Path | str) -> None:
    (Path(folder) / DONE).unlink(missing_ok=True)
