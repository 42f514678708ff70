"""`gemini` backend: Google's Gemini API through the google-genai SDK (the study used Gemini-1.0-pro).

Settings, flag first, then environment:
  model     --llm-model     or SYNTHAUDIO_LLM_MODEL (default gemini-2.5-flash)
  API key   --llm-api-key   or GEMINI_API_KEY, then GOOGLE_API_KEY (required)
  base URL  --llm-base-url  (only for a proxy; default: Google's endpoint)
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
    public_url,
    transport_failure,
)

DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_ENDPOINT = "https://generativelanguage.googleapis.com"


class GeminiChat:
    backend = "gemini"

    def __init__(self, options: LLMOptions):
        self.model = options.model or os.environ.get("SYNTHAUDIO_LLM_MODEL") or DEFAULT_MODEL
        api_key = options.api_key or os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")
        if not api_key:
            raise ConfigError("the gemini LLM backend needs an API key: set GEMINI_API_KEY (or GOOGLE_API_KEY) "
                              "or pass --llm-api-key")
        genai = require("google.genai", "the gemini LLM backend", "pip install google-genai")
        self._types = require("google.genai.types", "the gemini LLM backend", "pip install google-genai")
        self._errors = require("google.genai.errors", "the gemini LLM backend", "pip install google-genai")
        self.base_url = options.base_url
        self.sampling = options.sampling or Sampling()
        self.retry = options.retry
        # attempts=1: our own loop retries, so that backoff, timeouts and the final message are one policy.
        http_options = self._types.HttpOptions(
            base_url=self.base_url, timeout=int(self.retry.timeout_s * 1000),
            retry_options=self._types.HttpRetryOptions(attempts=1))
        self._client = genai.Client(api_key=api_key, http_options=http_options)
        self.where = f"gemini backend at {public_url(self.base_url or DEFAULT_ENDPOINT)} (model {self.model})"

    def provenance(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model, "base_url": public_url(self.base_url or DEFAULT_ENDPOINT),
                "sampling": self.sampling.to_dict()}

    def complete(self, messages: list[Message], *, seed: int, max_tokens: int) -> Answer:
        types = self._types
        system = "\n".join(m["content"] for m in messages if m["role"] == "system") or None
        contents = [types.Content(role="model" if m["role"] == "assistant" else "user",
                                  parts=[types.Part(text=m["content"])])
                    for m in messages if m["role"] != "system"]
        # No max_output_tokens: Gemini 2.5 models count their thinking in it, and a cap sized for the answer
        # leaves them no room to give one (the answer is a short list anyway).
        config = types.GenerateContentConfig(system_instruction=system, temperature=self.sampling.temperature,
                                             top_p=self.sampling.top_p, seed=seed)

        def send() -> Answer:
            response = self._client.models.generate_content(model=self.model, contents=contents, config=config)
            text = response.text
            if not text:
                raise _EmptyAnswer("the answer has no text (blocked, or cut at max tokens)")
            finish = response.candidates[0].finish_reason if response.candidates else None
            return Answer(text, truncated=str(finish).endswith("MAX_TOKENS"))

        return call_with_retries(send, policy=self.retry, classify=self._classify, where=self.where,
                                 hint="check GEMINI_API_KEY, the model name and https://status.cloud.google.com")

    def _classify(self, error: BaseException) -> Transient | LLMError | None:
        if isinstance(error, self._errors.APIError):
            code = error.code or 0
            if code == 429 or code >= 500:
                return Transient(f"HTTP {code} {error.status or ''}".rstrip())
            if code in (400, 401, 403) and "key" in str(error.message or "").lower():
                return LLMError(f"{self.where}: HTTP {code}, the API key was refused; set GEMINI_API_KEY or "
                                "pass --llm-api-key")
            return LLMError(f"{self.where}: HTTP {code} ({error.message}); check --llm-model")
        if isinstance(error, json.JSONDecodeError | _EmptyAnswer):
            return Transient(f"malformed answer ({error})")
        return transport_failure(error)


class _EmptyAnswer(Exception):
    pass
