"""`transformers` backend: any local causal LM, from a folder or the Hugging Face cache, GGUF files included.

  model      --llm-model      a folder, or a hub id already in the HF cache (nothing is downloaded when
                              HF_HUB_OFFLINE=1)
  GGUF file  --llm-gguf-file  a .gguf file inside that folder/repo (needs the `gguf` package)
Sampling is seeded per call without touching the global torch RNG; `greedy` decodes argmax.
"""

import functools
import threading
from pathlib import Path
from typing import Any

from synthaudio.errors import CheckpointError, ConfigError, require
from synthaudio.llm.base import Answer, LLMError, LLMOptions, Message, Sampling

_LOAD_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def load_causal_lm(model: str, gguf_file: str | None, device: str) -> tuple[Any, Any]:
    """(tokenizer, model) loaded once per process: a GGUF load de-quantizes every tensor (~20 s for 135M)."""
    transformers = require("transformers", "the transformers LLM backend", "pip install transformers")
    if gguf_file:
        require("gguf", f"loading {gguf_file}", "pip install gguf")
    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(model, **kwargs)
        lm = transformers.AutoModelForCausalLM.from_pretrained(model, **kwargs)
    except (OSError, ValueError) as error:
        where = f"{model} ({gguf_file})" if gguf_file else model
        raise CheckpointError(
            f"cannot load the causal LM {where}: {_first_line(error)}; pass --llm-model a local folder with "
            "config.json + weights (or with --llm-gguf-file FILE.gguf), or download it into the Hugging Face "
            "cache first (`hf download ID` where the hub can be reached)") from None
    return tokenizer, lm.to(device).eval()


class LocalTransformersChat:
    backend = "transformers"

    def __init__(self, options: LLMOptions):
        if not options.model:
            raise ConfigError("the transformers LLM backend needs --llm-model: a local folder or a Hugging Face "
                              "id in the local cache")
        if options.base_url or options.api_key:
            raise ConfigError("the transformers LLM backend runs locally: drop --llm-base-url/--llm-api-key")
        self.model = options.model
        self.gguf_file = options.gguf_file
        self.device = options.device
        self.sampling = options.sampling or Sampling()
        self.name = self.backend

    def provenance(self) -> dict[str, Any]:
        model = self.model
        if Path(model).exists():
            model = str(Path(model).resolve())
        return {"backend": self.name, "model": model, "gguf_file": self.gguf_file, "base_url": None,
                "sampling": self.sampling.to_dict()}

    def complete(self, messages: list[Message], *, seed: int, max_tokens: int) -> Answer:
        import torch

        with _LOAD_LOCK:
            tokenizer, lm = load_causal_lm(self.model, self.gguf_file, self.device)
        inputs = tokenizer(render_chat(tokenizer, messages), return_tensors="pt", add_special_tokens=False)
        inputs = {key: value.to(self.device) for key, value in inputs.items()}
        settings: dict[str, Any] = {"max_new_tokens": max_tokens, "do_sample": not self.sampling.greedy}
        if not self.sampling.greedy:
            settings.update(temperature=self.sampling.temperature, top_p=self.sampling.top_p, top_k=0)
        if self.sampling.repetition_penalty:
            settings["repetition_penalty"] = self.sampling.repetition_penalty
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        # fork_rng: the seed governs this call only and the caller's torch RNG state is left as it was.
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(seed)
            try:
                output = lm.generate(**inputs, pad_token_id=pad_id, **settings)
            except RuntimeError as error:
                raise LLMError(f"transformers backend ({self.model}): generation failed: {_first_line(error)}; "
                               "check --llm-device and free memory") from None
        new_tokens = output[0, inputs["input_ids"].shape[1]:]
        stop_ids = _stop_ids(lm, tokenizer)
        truncated = len(new_tokens) >= max_tokens and int(new_tokens[-1]) not in stop_ids
        return Answer(tokenizer.decode(new_tokens, skip_special_tokens=True), truncated=truncated)


def _stop_ids(lm: Any, tokenizer: Any) -> set[int]:
    """Token ids that end an answer (the generation config may list several, e.g. <|im_end|> and <|endoftext|>)."""
    configured = lm.generation_config.eos_token_id
    ids = set(configured if isinstance(configured, list) else [configured]) | {tokenizer.eos_token_id}
    return {int(i) for i in ids if i is not None}


def render_chat(tokenizer: Any, messages: list[Message]) -> str:
    """The prompt text: the tokenizer's chat template where it has one, else a plain role-prefixed transcript."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    bos = tokenizer.bos_token or ""
    return bos + "\n".join(lines) + "\nAssistant:"


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
