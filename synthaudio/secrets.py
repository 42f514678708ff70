"""Keeping credentials out of everything synthaudio writes or prints.

A key reaches synthaudio by environment, option, config field or inside an endpoint URL (`http://user:KEY@host`,
`...?key=KEY`). Configs are stored (stage inputs, the copied study file, provenance) with URLs stripped of
user-info and secret-looking query parameters, so cache keys do not depend on credentials either; messages are
scrubbed of bearer tokens and keys before a user sees them (some endpoints echo the Authorization header).
"""

import os
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "***"
# query parameters that carry credentials (Gemini's ?key=, signed URLs, tokens)
SECRET_PARAMETERS = re.compile(r"(?i)^(key|api[-_]?key|apikey|token|access[-_]?token|auth|authorization|secret|"
                               r"client[-_]?secret|password|passwd|pwd|sig|signature|x-goog-api-key)$")
# environment variables whose values are keys: their literal values are scrubbed from every message
SECRET_ENVIRONMENT = ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")
_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@\"'<>]+@")
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}")
# a value after a key-like name, when it looks like a token (long, with a digit), not prose ("api_key: API keys")
_HEADER = re.compile(r"(?i)\b((?:x-goog-api-key|x-api-key|api[-_]?key|authorization|password|secret)"
                     r"[\"']?\s*[:=]\s*[\"']?)(?!bearer\b|basic\b)(?=[^\s\"',;&}]*\d)[^\s\"',;&}]{8,}")
_QUERY = re.compile(r"(?i)([?&](?:key|api[-_]?key|apikey|token|access[-_]?token|secret|client[-_]?secret|password|"
                    r"sig|signature)=)[^&\s\"'#]+")
_KEY_SHAPES = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}|\bAIza[0-9A-Za-z_-]{20,}|\bhf_[A-Za-z0-9]{16,}")


def public_url(url: str) -> str:
    """`url` without user:password and without query parameters that look like credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return redact_text(url)
    if not parts.scheme or not parts.netloc:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if port:
        host = f"{host}:{port}"
    query = urlencode([(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True)
                       if not SECRET_PARAMETERS.match(name)])
    return urlunsplit((parts.scheme, host, parts.path, query, parts.fragment))


def has_credentials(url: str) -> bool:
    return public_url(url) != url


def redact_config(value: Any) -> Any:
    """A copy of a JSON-like config with every URL string made public and fields named like keys dropped."""
    if isinstance(value, dict):
        return {key: redact_config(item) for key, item in value.items()
                if not (isinstance(key, str) and _is_secret_field(key) and item)}
    if isinstance(value, list | tuple):
        return type(value)(redact_config(item) for item in value)
    if isinstance(value, str) and "://" in value:
        return _URL.sub(lambda match: public_url(match.group(0)), value)
    return value


def redact_study_text(text: str) -> str:
    """A study file's text with every URL made public and any key-shaped value scrubbed, layout kept."""
    return redact_text(_URL.sub(lambda match: public_url(match.group(0)), text))


def _is_secret_field(name: str) -> bool:
    return bool(re.fullmatch(r"(?i)(api[-_]?key|apikey|token|access[-_]?token|secret|client[-_]?secret|password)",
                             name))


_GIVEN: set[str] = set()  # keys given by option in this process: scrubbed literally, whatever their shape


def remember_secret(secret: str | None) -> None:
    """Scrub `secret` (a key given by option or config) from every later message of this process."""
    if secret and len(secret) >= 4:
        _GIVEN.add(secret)


def redact_text(text: str) -> str:
    """`text` with bearer tokens, API keys, URL credentials and known key values replaced by ***."""
    known = set(_GIVEN)
    known.update(os.environ.get(name, "") for name in SECRET_ENVIRONMENT)
    for secret in sorted((s for s in known if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _USERINFO.sub(r"\1", text)
    text = _BEARER.sub(lambda match: f"{match.group(1)}{match.group(2)}{REDACTED}", text)
    text = _HEADER.sub(lambda match: f"{match.group(1)}{REDACTED}", text)
    text = _QUERY.sub(lambda match: f"{match.group(1)}{REDACTED}", text)
    return _KEY_SHAPES.sub(REDACTED, text)
