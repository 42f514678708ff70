"""`openai` backend: any OpenAI-compatible chat-completions endpoint, through the official `openai` SDK.

Works with OpenAI itself, vLLM (`vllm serve MODEL` -> http://HOST:8000/v1), Ollama (http://HOST:11434/v1),
llama.cpp's `llama-server` (http://HOST:8080/v1) and Gemini's compatible endpoint
(https://generativelanguage.googleapis.com/v1beta/openai/). Settings, flag first, then environment:
  base URL  --llm-base-url  or OPENAI_BASE_URL   (default: the SDK's, https://api.openai.com/v1)
  model     --llm-model     or SYNTHAUDIO_LLM_MODEL (required)
  API key   --llm-api-key   or OPENAI_API_KEY    (local servers need none)
"""

import json
import os
from typing import Any

from synthaudio.errors import ConfigError, require
from synthaudio.llm.base import (
    Answer,
    LLMError,
    LLMOptions,
    Message,
    Sampling,
    Transient,
    call_with_retries,
    parse_retry_after,
    public_url,
    transport_failure,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Reasoning models (Gemini 2.5, o-series, DeepSeek-R1 on vLLM) spend output tokens thinking before they answer:
# a cap sized for the answer alone would cut them off before it starts.
MIN_OUTPUT_TOKENS = 1024
# Local servers ignore the key, but the SDK refuses to start without one.
NO_KEY = "no-key"


class OpenAICompatibleChat:
    backend = "openai"

    def __init__(self, options: LLMOptions):
        self.model = options.model or os.environ.get("SYNTHAUDIO_LLM_MODEL")
        if not self.model:
            raise ConfigError("the openai LLM backend needs a model: pass --llm-model NAME or set "
                              "SYNTHAUDIO_LLM_MODEL (e.g. the name your vLLM/Ollama server serves)")
        self.base_url = options.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.sampling = options.sampling or Sampling()
        self.retry = options.retry
        openai = require("openai", "the openai LLM backend", "pip install openai")
        api_key = options.api_key or os.environ.get("OPENAI_API_KEY") or NO_KEY
        # max_retries=0: our own loop retries, so that backoff, timeouts and the final message are one policy.
        self._client = openai.OpenAI(base_url=self.base_url, api_key=api_key, timeout=self.retry.timeout_s,
                                     max_retries=0)
        self._openai = openai
        self.where = f"openai backend at {public_url(self.base_url)} (model {self.model})"

    def provenance(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model, "base_url": public_url(self.base_url),
                "sampling": self.sampling.to_dict()}

    def complete(self, messages: list[Message], *, seed: int, max_tokens: int) -> Answer:
        def send() -> Answer:
            response = self._client.chat.completions.create(
                model=self.model, messages=messages, temperature=self.sampling.temperature,
                top_p=self.sampling.top_p, max_tokens=max(max_tokens, MIN_OUTPUT_TOKENS), seed=seed)
            choices = getattr(response, "choices", None)
            if not choices or choices[0].message is None or choices[0].message.content is None:
                raise _MalformedAnswer("the answer has no choices[0].message.content")
            return Answer(choices[0].message.content, truncated=choices[0].finish_reason == "length")

        return call_with_retries(send, policy=self.retry, classify=self._classify, where=self.where,
                                 hint="check that the server is up and serves this model")

    def _classify(self, error: BaseException) -> Transient | LLMError | None:
        openai = self._openai
        if isinstance(error, openai.APITimeoutError):
            return Transient(f"no answer within {self.retry.timeout_s:g} s", timed_out=True)
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            if status == 429 or status >= 500:
                retry_after = parse_retry_after(error.response.headers.get("retry-after"))
                return Transient(f"HTTP {status} ({_short(error)})", retry_after)
            if status in (401, 403):
                return LLMError(f"{self.where}: HTTP {status}, the API key was refused; set OPENAI_API_KEY "
                                "or pass --llm-api-key")
            if status == 404:
                return LLMError(f"{self.where}: HTTP 404; check --llm-base-url (it usually ends in /v1) and "
                                "that the server serves this --llm-model")
            return LLMError(f"{self.where}: HTTP {status} ({_short(error)}); check --llm-model and the "
                            "server's log")
        if isinstance(error, openai.APIConnectionError):
            return Transient(f"cannot connect ({_short(error)})")
        if isinstance(error, json.JSONDecodeError | _MalformedAnswer | openai.APIResponseValidationError):
            return Transient(f"malformed answer ({_short(error)})")
        return transport_failure(error)


class _MalformedAnswer(Exception):
    pass


def _short(error: BaseException, limit: int = 200) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
