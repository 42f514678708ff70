"""The study's use of the prompts stage (synthaudio.prompts.build): the LLM work a pool's prompts come from, and
the prompts file of a pool for N clips per label.

The prompts of N clips are the first N prompts of any larger set: clip i's descriptors are drawn by the generator
of (seed, label, i), and caption i cycles through a fixed number of captions per label. So one prompts stage (the
LLM's descriptor lists or captions, made once, with `clips_per_class` 1) serves a pool of any size.
"""

from pathlib import Path
from typing import Any

from synthaudio.prompts.promptfile import PromptSet

MATERIAL = "material.json"  # the prompts stage's PromptSet: its provenance holds the descriptors or captions
# study-file names -> PromptRequest fields; the others (labels, domain, seed, ...) are set by the study
PROMPT_OPTIONS = ("context", "descriptors_per_prompt", "num_descriptors", "num_captions", "retries",
                  "negative_prompt")
LLM_SETTINGS = ("backend", "model", "base_url", "gguf_file", "device")
_BUILT_FROM = ("strategy", "template", "descriptors", "captions", "descriptors_per_prompt")


def check_prompts_entry(entry) -> tuple[tuple, str] | None:
    """(field path below the entry, problem) for settings a study cannot use; None when all is well."""
    for key in entry.options:
        if key not in PROMPT_OPTIONS:
            return ("options", key), f"unknown prompt option (allowed: {', '.join(PROMPT_OPTIONS)})"
    for key in entry.llm or {}:
        if key == "api_key":
            return ("llm", key), "API keys never go into a study file: set OPENAI_API_KEY or GEMINI_API_KEY in " \
                                 "the environment"
        if key not in LLM_SETTINGS:
            return ("llm", key), f"unknown LLM setting (allowed: {', '.join(LLM_SETTINGS)})"
    if entry.llm is not None and entry.descriptors is not None:
        return ("descriptors",), "a descriptor file replaces the LLM: give llm or descriptors, not both"
    return None


def needs_llm_stage(entry) -> bool:
    """Whether the strategy asks an LLM (descriptors without a file, or captions): that is a stage of its own."""
    return entry.strategy == "caption" or (entry.strategy == "llm" and entry.descriptors is None)


def _request(params: dict, clips_per_class: int, descriptors_cache: Path | None = None):
    from synthaudio.llm import LLMOptions
    from synthaudio.prompts.build import PromptRequest

    entry = params["prompts"]
    llm = dict(entry.get("llm") or {})
    backend = llm.pop("backend", None)
    uses_llm = entry["strategy"] == "caption" or (entry["strategy"] == "llm" and not entry.get("descriptors"))
    return PromptRequest(labels=list(params["labels"]), domain=params["domain"], strategy=entry["strategy"],
                         clips_per_class=clips_per_class, seed=params["seed"],
                         descriptors_file=Path(entry["descriptors"]) if entry.get("descriptors") else None,
                         descriptors_cache=descriptors_cache, llm_backend=backend if uses_llm else None,
                         llm_options=LLMOptions(**llm), **entry.get("options", {}))


def write_prompt_material(params: dict, folder: Path) -> dict:
    """Ask the LLM for every label's descriptors (cached per label as they pass validation) or captions."""
    from synthaudio.prompts.build import make_prompt_set
    from synthaudio.prompts.promptfile import write_prompts

    cache = folder / "descriptor_cache.json" if params["prompts"]["strategy"] == "llm" else None
    material = make_prompt_set(_request(params, 1, cache))
    write_prompts(folder / MATERIAL, material)
    return {"labels": len(material.prompts), "llm": material.provenance.get("llm")}


def build_pool_prompts(params: dict, clips_per_class: int) -> PromptSet:
    """The prompts of the first `clips_per_class` clips of every label of a pool."""
    from synthaudio.prompts.build import build_prompt_set, make_prompt_set
    from synthaudio.prompts.promptfile import read_prompts

    if params["prompt_folder"] is None:  # label prompts, or descriptors from a file: nothing expensive to reuse
        return make_prompt_set(_request(params, clips_per_class))
    material = read_prompts(Path(params["prompt_folder"]) / MATERIAL)
    made: dict[str, Any] = material.provenance
    extra = {key: value for key, value in made.items() if key not in _BUILT_FROM}
    return build_prompt_set(list(params["labels"]), material.domain, material.strategy, clips_per_class,
                            material.seed, descriptors=made.get("descriptors"), captions=made.get("captions"),
                            descriptors_per_prompt=made.get("descriptors_per_prompt", 3),
                            negative_prompt=material.negative_prompt, provenance=extra)
