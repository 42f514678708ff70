"""Connecting the Ray executors (generation and study) to a cluster, and describing why a Ray worker died.

Ray is an optional extra: it is imported only when an executor asks for it, with the install command if missing.
"""

import logging
import os
import re
import socket

from synthaudio.errors import ConfigError, require

RAY_INSTALL = 'pip install "synthaudio[ray]"'


def import_ray(purpose: str = "--executor ray"):
    return require("ray", purpose, RAY_INSTALL)


class RaySession:
    """A connection to Ray for one run; `close` undoes only what `open` did.

    Address None: join the driver's Ray if it already has one (a notebook, a test), else the cluster named by
    RAY_ADDRESS (as `ray job submit` sets it), else start a private local instance with this machine's CPUs and
    GPUs. "auto": the cluster started by `ray start` on this machine. "HOST:PORT" or "ray://HOST:PORT": that one.
    """

    def __init__(self, address: str | None = None, purpose: str = "--executor ray"):
        self.ray = import_ray(purpose)
        self.address = address
        self.owned = False
        self.local = False  # a private instance started here: its resources are all there will ever be

    def open(self) -> "RaySession":
        ray = self.ray
        if ray.is_initialized():
            return self
        address = self.address or os.environ.get("RAY_ADDRESS") or "local"
        _check_reachable(address)
        try:
            ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
        except ConnectionError as error:
            raise ConfigError(f"--address {address}: no Ray cluster answers there ({first_line(error)}); start "
                              f"one with `ray start --head`, or leave --address out to start a local one") from None
        self.owned = True
        self.local = address == "local"
        return self

    def resources(self) -> dict[str, float]:
        return dict(self.ray.cluster_resources())

    def close(self) -> None:
        if self.owned and self.ray.is_initialized():
            self.ray.shutdown()
        self.owned = False


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Refuse a HOST:PORT that takes no connection: `ray.init` would retry it for about 13 minutes."""
    match = re.fullmatch(r"(?:ray://)?\[?([^\[\]/]+?)\]?:(\d+)", address.strip())
    if match is None:  # "local", "auto" (Ray looks these up on this machine and fails fast)
        return
    try:
        socket.create_connection((match.group(1), int(match.group(2))), timeout=timeout_s).close()
    except OSError as error:
        raise ConfigError(f"--address {address}: nothing answers there ({error}); is `ray start --head` running on "
                          f"that machine, with that port open to this one?") from None


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def death_reason(error: BaseException) -> str:
    """A short reason from Ray's multi-line report of a dead worker (exit type and detail, or its first line)."""
    text = " ".join(str(error).split())
    if "running low on memory" in text:  # Ray's memory monitor killed it
        return "killed by Ray's memory monitor: the node ran low on memory"
    detail = re.search(r"Worker exit detail: (.*?\.)(?: |$)", text)
    kind = re.search(r"Worker exit type: (\w+)", text)
    if detail:
        return f"{kind.group(1) + ': ' if kind else ''}{detail.group(1)}"
    return first_line(error)
