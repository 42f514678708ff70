"""Atomic file output, run locks and file hashing: a crash never leaves a half-written file behind."""

import contextlib
import errno
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from synthaudio.errors import SynthaudioError, shown_path

# Every temporary file synthaudio writes starts with this, so a clean-up after a crash removes only its own
# files, never a user's `.draft.tmp` in a folder passed as --out.
TEMP_PREFIX = ".synthaudio-"
TEMP_SUFFIX = ".tmp"

# failures of the storage, not of synthaudio: disk full, a file size limit (ulimit -f), a quota, a read-only place
STORAGE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


class StorageError(SynthaudioError):
    """An output that could not be written because of where it goes: names the file and what to do."""


def storage_error(path: Path | str, error: OSError) -> StorageError:
    why = error.strerror or str(error)
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "choose a writable --out (or fix the folder's permissions)"
    else:
        fix = "free some space (or raise the limit) and run the same command again: finished work is kept"
    return StorageError(f"{shown_path(path)}: cannot write ({why}); {fix}")


def current_umask() -> int:
    """The process umask: from /proc on Linux (setting and restoring it would briefly change it for other threads
    creating files), else by setting it and restoring it at once."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask

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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{path.name}.", suffix=TEMP_SUFFIX)
    except OSError as error:
        if error.errno in STORAGE_ERRNOS:
            raise storage_error(path, error) from None
        raise
    binary = "b" in mode
    try:
        # mkstemp creates 0600; outputs are shared data, so give them the mode open() would (0666 less the umask)
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as handle:
            yield handle
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(error, OSError) and error.errno in STORAGE_ERRNOS:
            raise storage_error(path, error) from None
        raise


def write_text_atomic(path: Path | str, text: str) -> None:
    with atomic_write(path) as handle:
        handle.write(text)


def remove_stale_temporaries(folder: Path | str, depth: int = 1) -> int:
    """Delete temporary files that synthaudio's atomic writes left in `folder` and its sub-folders down to `depth`
    levels (where synthaudio writes) when a process was killed; returns how many.

    Only names with synthaudio's own prefix are touched: anything else in the folder belongs to the user.
    """
    removed = 0
    folder = Path(folder)
    levels = [folder]
    for _ in range(depth + 1):
        below = []
        for directory in levels:
            try:
                entries = list(os.scandir(directory))
            except (FileNotFoundError, NotADirectoryError, PermissionError):
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    below.append(Path(entry.path))
                elif entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX):
                    Path(entry.path).unlink(missing_ok=True)
                    removed += 1
        levels = below
    return removed


@contextlib.contextmanager
def exclusive_run(folder: Path | str, what: str = "run") -> Iterator[None]:
    """Hold an exclusive lock on `folder` for the duration; a second concurrent run is refused.

    The lock is an flock on folder/.lock, so the kernel releases it when the holder dies (even by SIGKILL),
    and a later run can resume.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        if error.errno in STORAGE_ERRNOS:
            raise storage_error(folder, error) from None
        raise
    lock = folder / ".lock"
    while True:
        try:
            handle = open(lock, "a")
        except OSError as error:
            if error.errno in STORAGE_ERRNOS:
                raise storage_error(lock, error) from None
            raise
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise SynthaudioError(
                f"{folder}: another {what} is writing to this folder; wait for it to finish or choose another --out"
            ) from None
        # the holder before us removes the file as it finishes: a lock on that unlinked file guards nothing
        try:
            if os.stat(lock).st_ino == os.fstat(handle.fileno()).st_ino:
                break
        except FileNotFoundError:
            pass
        handle.close()
    try:
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        # no lock file is left behind (a folder that looks in use, or a user's dataset folder with a stray file)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
