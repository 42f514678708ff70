"""Turn labels and ids into file names that can never leave their output folder."""

import hashlib
import re
import unicodedata
from pathlib import Path

from synthaudio.errors import SynthaudioError

MAX_NAME_LENGTH = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str, max_length: int = MAX_NAME_LENGTH) -> str:
    """A file-name component for `text`: ASCII letters, digits, '.', '_' and '-' only, never '.' or '..'.

    Names that had to change get a short hash of the original, so that distinct labels ("a/b", "a_b", "a?b")
    never share a file name.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _UNSAFE.sub("_", ascii_text).strip("._-")
    if slug == text and 0 < len(slug) <= max_length:
        return slug
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
    slug = slug[: max_length - len(digest) - 1].rstrip("._-")
    return f"{slug}-{digest}" if slug else f"x-{digest}"


def child_path(root: Path | str, *parts: str, suffix: str = "") -> Path:
    """root/safe(part1)/safe(part2)...suffix, checked to lie inside root."""
    root = Path(root)
    names = [safe_name(part) for part in parts]
    if names and suffix:
        names[-1] += suffix
    path = root.joinpath(*names)
    resolved_root = root.resolve()
    if not path.resolve().is_relative_to(resolved_root):  # defence in depth: safe_name already forbids it
        raise SynthaudioError(f"refusing to write outside {root}: {path}")
    return path
