"""The study's use of the prompts stage (synthaudio.prompts.build): the LLM work a pool's prompts come from, and
the prompts file of a pool for N clips per label.

The prompts of N clips are the first N prompts of any larger set: clip i's descriptors are drawn by the generator
of (seed, label, i), and caption i cycles through a fixed number of captions per label. So one prompts stage (the
LLM's descriptor lists or captions, made once, with `clips_per_class` 1) serves a pool of any size.
The relevance screen of LLM descriptors takes the entry's options relevance, relevance_threshold and
embedding_model (the CLI's --no-relevance, --relevance-threshold, --embedding-model); they are part of the
entry, so of the prompts stage's identity: a changed threshold asks the LLM again.
"""

from pathlib import Path
from typing import Any

from synthaudio.llm import LLMOptions
from synthaudio.prompts.build import PromptRequest, build_prompt_set, make_prompt_set
from synthaudio.prompts.promptfile import PromptSet, read_prompts, write_prompts
from synthaudio.prompts.relevance import DEFAULT_MODEL, DEFAULT_THRESHOLD, RelevanceSettings
from synthaudio.study.schema import RELEVANCE_OPTIONS, PromptsEntry

MATERIAL = "material.json"  # the prompts stage's PromptSet: its provenance holds the descriptors or captions
_BUILT_FROM = ("strategy", "template", "descriptors", "captions", "descriptors_per_prompt")


def needs_llm_stage(entry: PromptsEntry) -> bool:
    """Whether the strategy asks an LLM (descriptors without a file, or captions): that is a stage of its own."""
    return entry.strategy == "caption" or (entry.strategy == "llm" and entry.descriptors is None)


def relevance_settings(entry: PromptsEntry) -> RelevanceSettings:
    """The relevance screen of the entry's LLM descriptors: its options relevance, relevance_threshold and
    embedding_model, each defaulting as `synthaudio prompts` does."""
    options = entry.options
    return RelevanceSettings(enabled=options.get("relevance", True),
                             threshold=options.get("relevance_threshold", DEFAULT_THRESHOLD),
                             model=entry.embedding_model() or DEFAULT_MODEL)


def _request(labels: list[str], domain: str, entry: PromptsEntry, seed: int, clips_per_class: int,
             descriptors_cache: Path | None = None) -> PromptRequest:
    llm = dict(entry.llm or {})
    backend = llm.pop("backend", None)
    options = {key: value for key, value in entry.options.items() if key not in RELEVANCE_OPTIONS}
    return PromptRequest(labels=list(labels), domain=domain, strategy=entry.strategy, clips_per_class=clips_per_class,
                         seed=seed, descriptors_file=Path(entry.descriptors) if entry.descriptors else None,
                         descriptors_cache=descriptors_cache, llm_backend=backend if needs_llm_stage(entry) else None,
                         llm_options=LLMOptions(**llm), relevance=relevance_settings(entry), **options)


def write_prompt_material(labels: list[str], domain: str, entry: PromptsEntry, seed: int, folder: Path) -> dict:
    """Ask the LLM for every label's descriptors (cached per label as they pass validation) or captions."""
    cache = folder / "descriptor_cache.json" if entry.strategy == "llm" else None
    material = make_prompt_set(_request(labels, domain, entry, seed, 1, cache))
    write_prompts(folder / MATERIAL, material)
    return {"labels": len(material.prompts), "llm": material.provenance.get("llm")}


def build_pool_prompts(labels: list[str], domain: str, entry: PromptsEntry, seed: int, prompt_folder: Path | None,
                       clips_per_class: int) -> PromptSet:
    """The prompts of the first `clips_per_class` clips of every label of a pool."""
    if prompt_folder is None:  # label prompts, or descriptors from a file: nothing expensive to reuse
        return make_prompt_set(_request(labels, domain, entry, seed, clips_per_class))
    return _from_material(labels, Path(prompt_folder), clips_per_class, None)


def _from_material(labels: list[str], prompt_folder: Path, clips_per_class: int, seed: int | None) -> PromptSet:
    """Prompts built from a prompts stage's descriptors or captions, drawn with `seed` (None: the stage's own)."""
    material = read_prompts(prompt_folder / MATERIAL)
    made: dict[str, Any] = material.provenance
    extra = {key: value for key, value in made.items() if key not in _BUILT_FROM}
    return build_prompt_set(list(labels), material.domain, material.strategy, clips_per_class,
                            material.seed if seed is None else seed, descriptors=made.get("descriptors"),
                            captions=made.get("captions"), descriptors_per_prompt=made.get("descriptors_per_prompt", 3),
                            negative_prompt=material.negative_prompt, provenance=extra)


def build_round_prompts(labels: list[str], domain: str, entry: PromptsEntry, seed: int, prompt_folder: Path | None,
                        clips_per_class: int, rewritten: dict[str, list[str]]) -> PromptSet:
    """The prompts of `clips_per_class` clips per label for one round of an adaptive experiment: the entry's
    strategy with the round's `seed` (so a round draws other descriptor combinations than the last), except the
    labels in `rewritten`, whose prompts are built from their rewritten descriptors. The provenance lists them."""
    base = make_prompt_set(_request(labels, domain, entry, seed, clips_per_class)) if prompt_folder is None \
        else _from_material(labels, Path(prompt_folder), clips_per_class, seed)
    chosen = {label: items for label, items in rewritten.items() if label in labels}
    if not chosen:
        return base
    per_prompt = min(3, *(len(items) for items in chosen.values()))
    new = build_prompt_set(sorted(chosen), domain, "llm", clips_per_class, seed, descriptors=chosen,
                           descriptors_per_prompt=per_prompt)
    prompts = {label: new.prompts.get(label, base.prompts[label]) for label in base.prompts}
    provenance = {**base.provenance, "rewritten": {label: chosen[label] for label in sorted(chosen)},
                  "rewritten_descriptors_per_prompt": per_prompt}
    return base.model_copy(update={"prompts": prompts, "provenance": provenance})
