"""Helpers of the fault suite: a file size limit (as `ulimit -f` sets it), the CLI as a user runs it in-process,
and snapshots of a folder tree to prove nothing was written where it should not be."""

import contextlib
import hashlib
import io
import os
import resource
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def can_limit_file_size() -> str | None:
    """None when RLIMIT_FSIZE can be lowered and raised again here, else why not (the reason a test is skipped)."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    except (ValueError, OSError) as error:
        return f"cannot set RLIMIT_FSIZE here ({error})"
    if not hasattr(signal, "SIGXFSZ"):
        return "no SIGXFSZ on this platform"
    return None


requires_file_size_limit = pytest.mark.skipif(can_limit_file_size() is not None,
                                              reason=f"disk-full tests need `ulimit -f`: {can_limit_file_size()}")


@contextlib.contextmanager
def file_size_limit(max_bytes: int) -> Iterator[None]:
    """Every file this process writes stops at `max_bytes`: a write past it fails with EFBIG, as on a full disk
    a write fails with ENOSPC (SIGXFSZ is ignored so the write returns the error instead of killing us)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def limited_child(max_bytes: int):
    """preexec_fn for subprocess: the child runs under `ulimit -f` (an ignored SIGXFSZ survives exec)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    return apply


def tree(folder: Path, skip: Path | None = None) -> dict[str, str]:
    """Relative path -> sha256 of every file below `folder` (bytes paths, so any file name), except under `skip`."""
    found = {}
    skip_bytes = os.fsencode(str(skip)) if skip is not None else None
    for directory, subdirectories, files in os.walk(os.fsencode(str(folder))):
        if skip_bytes is not None and (directory == skip_bytes or directory.startswith(skip_bytes + b"/")):
            subdirectories[:] = []
            continue
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                found[os.fsdecode(os.path.relpath(path, os.fsencode(str(folder))))] = \
                    hashlib.sha256(handle.read()).hexdigest()
    return found


def run_main(*args: str) -> tuple[int, str, str]:
    """`synthaudio ARGS` in this process, as the entry point runs it: (exit status, stdout, stderr).

    An exception other than SystemExit (a traceback for the user) propagates and fails the test.
    """
    from synthaudio.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["synthaudio", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted on `folder` (e.g. "size=48k" for a small disk, "ro" for a read-only one); the test is
    skipped, with the reason, where this process may not mount."""
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def remount(folder: Path, options: str) -> None:
    import subprocess

    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True, capture_output=True)
