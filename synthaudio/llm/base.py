"""What every LLM backend shares: the chat interface, sampling settings, and retries on transient failures."""

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, TypedDict
from urllib.parse import urlsplit, urlunsplit

from synthaudio.errors import ConfigError, SynthaudioError
from synthaudio.secrets import redact_text

log = logging.getLogger("synthaudio.llm")


class LLMError(SynthaudioError):
    """An LLM backend that could not answer, or whose answers could not be used: names the backend and the fix."""

    def __init__(self, message: str, *args):
        # servers may echo the request (its Authorization header, a key in the URL) in their error text
        super().__init__(redact_text(str(message)), *args)


class Answer(str):
    """An LLM's text, marked `truncated` when it stopped at the token limit rather than where it meant to end."""

    truncated: bool = False

    def __new__(cls, text: str, truncated: bool = False) -> "Answer":
        answer = super().__new__(cls, text)
        answer.truncated = truncated
        return answer


class Message(TypedDict):
    role: str  # "system", "user" or "assistant"
    content: str


@dataclass(frozen=True)
class Sampling:
    """How answers are sampled; recorded in provenance."""

    temperature: float = 0.7
    top_p: float = 0.95
    greedy: bool = False  # local backends only: argmax decoding, the seed then changes nothing
    repetition_penalty: float | None = None  # local backends only

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RetryPolicy:
    """Timeouts and retries of remote calls (HTTP 429, 5xx, timeouts, dropped connections).

    Args:
        attempts: calls in all, the first included.
        initial_backoff_s: wait before the second call; doubles after each failure up to max_backoff_s.
        max_backoff_s: longest wait, also the cap on a server's Retry-After.
        timeout_s: limit on one call.
    """

    attempts: int = 4
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    timeout_s: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigError(f"LLM retry attempts must be at least 1, got {self.attempts}")
        if self.timeout_s <= 0 or self.initial_backoff_s < 0 or self.max_backoff_s < 0:
            raise ConfigError(f"--llm-timeout must be positive (got {self.timeout_s:g}) and backoff times must not "
                              "be negative")

    def wait_before(self, retry: int, retry_after_s: float | None) -> float:
        """Seconds to wait before retry number `retry` (1 = the second call)."""
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.max_backoff_s)
        return min(self.initial_backoff_s * 2 ** (retry - 1), self.max_backoff_s)


@dataclass(frozen=True)
class Transient:
    """A failure worth retrying, as a backend classified it."""

    reason: str
    retry_after_s: float | None = None
    timed_out: bool = False  # only then does a longer --llm-timeout help


class ChatModel(Protocol):
    """A chat LLM: messages in, text out. Implementations never keep an API key anywhere they report."""

    backend: str

    def complete(self, messages: list[Message], *, seed: int, max_tokens: int) -> Answer:
        """The assistant's answer to `messages`; raises LLMError when the backend cannot answer."""
        ...

    def provenance(self) -> dict[str, Any]:
        """Backend, model, endpoint without credentials and sampling settings: safe to write to any file."""
        ...


def public_url(url: str | None) -> str | None:
    """`url` without user:password and query string, where keys hide (e.g. Gemini's `?key=`)."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def call_with_retries(send: Callable[[], Answer], *, policy: RetryPolicy, classify: Callable[[BaseException], Any],
                      where: str, hint: str) -> Answer:
    """Call `send` until it answers; transient failures (as `classify` says) are retried with backoff.

    `classify(error)` returns a Transient to retry, an LLMError to raise at once, or None for a bug (re-raised).
    After the last attempt one LLMError names `where` (backend and endpoint), the last reason and `hint`.
    """
    last_reason = ""
    timed_out = False
    for attempt in range(1, policy.attempts + 1):
        try:
            return send()
        except LLMError:
            raise
        except Exception as error:  # sorted by classify; bugs are re-raised below
            verdict = classify(error)
            if isinstance(verdict, LLMError):
                raise verdict from None
            if not isinstance(verdict, Transient):
                raise
            last_reason, timed_out = verdict.reason, verdict.timed_out
            if attempt == policy.attempts:
                break
            wait_s = policy.wait_before(attempt, verdict.retry_after_s)
            log.warning("%s: %s; retry %d of %d in %.1f s", where, redact_text(verdict.reason), attempt,
                        policy.attempts - 1, wait_s)
            time.sleep(wait_s)
    if timed_out:  # a rate limit, a server error or a malformed answer does not go away with more time
        hint = f"{hint}, or raise --llm-timeout"
    raise LLMError(f"{where}: {last_reason} (gave up after {policy.attempts} attempts); {hint}")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (HTTP dates are rare from LLM APIs: ignored)."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class LLMOptions:
    """Everything a backend may be built from; each backend reads what it needs (see its module)."""

    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never printed, logged or written
    gguf_file: str | None = None
    device: str = "cpu"
    sampling: Sampling | None = None  # None: the backend's own default
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def transport_failure(error: BaseException) -> Transient | None:
    """A timeout or dropped connection from the HTTP layer under an SDK (httpx, httpx2, requests), or None."""
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & {"TimeoutException", "Timeout", "TimeoutError", "ReadTimeout", "ConnectTimeout"}:
        return Transient("no answer in time", timed_out=True)
    if names & {"TransportError", "ConnectionError", "ConnectError", "RemoteProtocolError"}:
        return Transient(f"connection failed ({type(error).__name__})")
    return None
