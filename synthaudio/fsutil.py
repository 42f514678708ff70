"""Atomic file output, run locks and file hashing: a crash never leaves a half-written file behind."""

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from synthaudio.errors import SynthaudioError

_HASH_MEMO: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path | str) -> str:
    """sha256 of the file's bytes, remembered per (path, size, mtime) for the life of the process."""
    path = Path(path).resolve()
    stat = path.stat()
    memo_key = (str(path), stat.st_size, stat.st_mtime_ns)
    digest = _HASH_MEMO.get(memo_key)
    if digest is None:
        hasher = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(block)
        digest = _HASH_MEMO[memo_key] = hasher.hexdigest()
    return digest


@contextlib.contextmanager
def atomic_write(path: Path | str, mode: str = "w", encoding: str | None = "utf-8", fsync: bool = True) -> Iterator[IO]:
    """Write to a temporary file beside `path`, then rename it over `path` once complete.

    On any exception the temporary file is removed and `path` is left as it was. `fsync=False` skips flushing to
    disk before the rename (a few ms per file): for caches whose readers treat an unreadable entry as a miss.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    binary = "b" in mode
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as handle:
            yield handle
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def write_text_atomic(path: Path | str, text: str) -> None:
    with atomic_write(path) as handle:
        handle.write(text)


def remove_stale_temporaries(folder: Path | str) -> int:
    """Delete temporary files left by atomic_write in a process that was killed; returns how many."""
    removed = 0
    for tmp in Path(folder).rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


@contextlib.contextmanager
def exclusive_run(folder: Path | str, what: str = "run") -> Iterator[None]:
    """Hold an exclusive lock on `folder` for the duration; a second concurrent run is refused.

    The lock is an flock on folder/.lock, so the kernel releases it when the holder dies (even by SIGKILL),
    and a later run can resume.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / ".lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SynthaudioError(
            f"{folder}: another {what} is writing to this folder; wait for it to finish or choose another --out"
        ) from None
    try:
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
