"""Find a model checkpoint: a local folder, or a Hugging Face repository id already in the local cache.

Offline (HF_HUB_OFFLINE=1, or a machine without hub access) with nothing cached, loading must fail with ONE line
that names the checkpoint and says how to provide it, not with a stack of hub errors.
"""

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from synthaudio.errors import CheckpointError

# the checkpoint name that builds a tiny randomly initialised model of the real architecture (tests, demos)
TINY_RANDOM = "tiny-random"

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


def is_tiny_random(checkpoint: str | None) -> bool:
    return checkpoint == TINY_RANDOM


def how_to_provide(checkpoint: str) -> str:
    return (f"on a machine with internet run `hf download {checkpoint}` (older huggingface_hub: `huggingface-cli "
            f"download {checkpoint}`) and copy its cache folder here (or point HF_HOME at it), or pass "
            f"--checkpoint /path/to/a/local/copy; --checkpoint {TINY_RANDOM} builds a random-weight model for tests")


def _hub_offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _hub_cache() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def resolve_checkpoint(checkpoint: str) -> str:
    """A local folder for `checkpoint`, or the repository id itself when the hub is online and will provide it.

    Raises CheckpointError for a missing local path, a malformed id, or an id neither cached nor downloadable.
    """
    path = Path(checkpoint).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if path.exists():
        raise CheckpointError(f"checkpoint {checkpoint} is a file; pass the folder that holds the model's files")
    if checkpoint.startswith((".", "/", "~")) or checkpoint.count("/") > 1:
        raise CheckpointError(f"checkpoint folder {checkpoint} does not exist; {how_to_provide(checkpoint)}")
    if not _REPO_ID.match(checkpoint):
        raise CheckpointError(f"checkpoint '{checkpoint}' is neither a folder nor a Hugging Face id like "
                              f"'owner/name'; {how_to_provide(checkpoint)}")
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(checkpoint, local_files_only=True)
    except Exception:  # LocalEntryNotFoundError, a corrupt ref, ...: the checkpoint is not usable from the cache
        if _hub_offline():
            raise CheckpointError(f"checkpoint '{checkpoint}' is not in the Hugging Face cache ({_hub_cache()}) and "
                                  f"the hub is offline (HF_HUB_OFFLINE=1); {how_to_provide(checkpoint)}") from None
    return checkpoint  # online: the loader downloads it, and `loading_errors` turns a failure into one line


@contextlib.contextmanager
def loading_errors(checkpoint: str) -> Iterator[None]:
    """Turn the OSError/ValueError a library raises for a missing or incomplete checkpoint into CheckpointError."""
    try:
        yield
    except (OSError, ValueError) as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise CheckpointError(f"checkpoint '{checkpoint}' could not be loaded ({first_line}); "
                              f"{how_to_provide(checkpoint)}") from error
