"""metadata.csv for a Hugging Face `audiofolder`: the generated folder loads with `load_dataset("audiofolder",
data_dir=DIR)` where torchcodec is installed.

Here torchcodec has no wheel for CPU torch and datasets 5.x refuses audiofolder without it; the same file reads with
the CSV loader plus `Audio(decode=False)`:
    ds = load_dataset("csv", data_files=f"{DIR}/metadata.csv")["train"]
    ds = ds.map(lambda row: {"audio": f"{DIR}/{row['file_name']}"}).cast_column("audio", Audio(decode=False))
"""

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path

from synthaudio.fsutil import write_text_atomic
from synthaudio.manifest import Clip

METADATA = "metadata.csv"
COLUMNS = ("file_name", "label", "id", "generator", "checkpoint", "prompt", "strategy", "seed", "duration",
           "sample_rate", "random_weights", "settings", "meta")


def metadata_row(clip: Clip, root: Path) -> dict[str, object]:
    return {"file_name": Path(clip.path).resolve().relative_to(root).as_posix(), "label": clip.label, "id": clip.id,
            "generator": clip.generator, "checkpoint": clip.checkpoint, "prompt": clip.prompt,
            "strategy": clip.strategy, "seed": clip.seed, "duration": clip.duration, "sample_rate": clip.sample_rate,
            "random_weights": clip.random_weights,
            "settings": json.dumps(clip.meta.get("settings", {}), sort_keys=True, ensure_ascii=False),
            "meta": json.dumps(clip.meta, sort_keys=True, ensure_ascii=False)}


def write_metadata_csv(root: Path | str, clips: Iterable[Clip]) -> Path:
    """Rewrite root/metadata.csv atomically from `clips` (files under root), sorted by file name."""
    root = Path(root).resolve()
    rows = sorted((metadata_row(clip, root) for clip in clips), key=lambda row: str(row["file_name"]))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = root / METADATA
    write_text_atomic(path, buffer.getvalue())
    return path
