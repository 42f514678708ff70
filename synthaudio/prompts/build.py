"""Build a PromptSet (prompts.json): per label, one prompt per clip, plus provenance.

`build_prompt_set` is pure and fast (labels, strategy, seed and already obtained descriptors/captions in, prompts
out); `make_prompt_set` gets those descriptors or captions first, from a descriptor file or an LLM.
Same inputs and seed -> same PromptSet -> same file bytes.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthaudio.errors import ConfigError
from synthaudio.fsutil import file_sha256
from synthaudio.llm import DEFAULT_BACKEND, LLMOptions, make_llm
from synthaudio.prompts.captions import CaptionRequest, collect_captions, default_negative_prompt
from synthaudio.prompts.descriptor_file import descriptors_for_labels
from synthaudio.prompts.descriptors import DEFAULT_COUNTS, DescriptorRequest, collect_descriptors
from synthaudio.prompts.label import TEMPLATES, check_domain, label_prompt
from synthaudio.prompts.promptfile import PromptSet
from synthaudio.prompts.relevance import RelevanceSettings
from synthaudio.seeding import rng

STRATEGIES = ("label", "llm", "caption")


def check_labels(labels: list[str]) -> list[str]:
    """The labels, refused when empty, blank or repeated."""
    if not labels:
        raise ConfigError("no labels: pass --labels \"a,b,c\" or --labels-from MANIFEST")
    seen: set[str] = set()
    for label in labels:
        if not label.strip():
            raise ConfigError(f"empty label in {labels!r}; remove the blank entry")
        if label in seen:
            raise ConfigError(f"label '{label}' is given twice")
        seen.add(label)
    return labels


def _check(strategy: str, clips_per_class: int) -> None:
    if strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy '{strategy}'; choose one of: {', '.join(STRATEGIES)}")
    if isinstance(clips_per_class, bool) or not isinstance(clips_per_class, int) or clips_per_class <= 0:
        raise ConfigError(f"--clips-per-class must be a positive whole number, got {clips_per_class!r}")


def descriptor_prompt(base: str, descriptors: list[str], draws: int, seed: int, label: str, clip: int) -> str:
    """'{base}, d1, d2, d3': `draws` distinct descriptors drawn by the RNG of (seed, label, clip index)."""
    chosen = rng(seed, "descriptors", label, clip).choice(len(descriptors), size=draws, replace=False)
    return ", ".join([base, *(descriptors[int(i)] for i in chosen)])


def caption_prompt(captions: list[str], seed: int, label: str, clip: int) -> str:
    """Clip i's caption: every caption once per round of len(captions) clips, in an order seeded per round."""
    rounds, position = divmod(clip, len(captions))
    return captions[int(rng(seed, "captions", label, rounds).permutation(len(captions))[position])]


def build_prompt_set(labels: list[str], domain: str, strategy: str, clips_per_class: int, seed: int, *,
                     descriptors: dict[str, list[str]] | None = None, captions: dict[str, list[str]] | None = None,
                     descriptors_per_prompt: int = 3, negative_prompt: str | None = None,
                     provenance: dict[str, Any] | None = None) -> PromptSet:
    """The PromptSet of `labels` (see the module docstring); `descriptors` for strategy llm, `captions` for
    caption."""
    check_domain(domain)
    _check(strategy, clips_per_class)
    check_labels(labels)
    prompts: dict[str, list[str]] = {}
    for label in labels:
        base = label_prompt(label, domain)
        if strategy == "label":
            prompts[label] = [base] * clips_per_class
        elif strategy == "llm":
            items = (descriptors or {}).get(label)
            if not items:
                raise ConfigError(f"label '{label}' has no descriptors")
            if descriptors_per_prompt < 1:
                raise ConfigError(f"--descriptors-per-prompt must be at least 1, got {descriptors_per_prompt}")
            if descriptors_per_prompt > len(items):
                raise ConfigError(f"--descriptors-per-prompt {descriptors_per_prompt} is not possible for label "
                                  f"'{label}', which has {len(items)} descriptors")
            prompts[label] = [descriptor_prompt(base, items, descriptors_per_prompt, seed, label, clip)
                              for clip in range(clips_per_class)]
        else:
            items = (captions or {}).get(label)
            if not items:
                raise ConfigError(f"label '{label}' has no captions")
            prompts[label] = [caption_prompt(items, seed, label, clip) for clip in range(clips_per_class)]
    record: dict[str, Any] = {"strategy": strategy}
    if strategy != "caption":
        record["template"] = TEMPLATES[domain]
    record.update(provenance or {})
    if strategy == "llm":
        record.update(descriptors_per_prompt=descriptors_per_prompt,
                      descriptors={label: descriptors[label] for label in labels})
    if strategy == "caption":
        record["captions"] = {label: captions[label] for label in labels}
    return PromptSet(domain=domain, strategy=strategy, seed=seed, clips_per_class=clips_per_class,
                     negative_prompt=negative_prompt, provenance=record, prompts=prompts)


@dataclass
class PromptRequest:
    """Everything `synthaudio prompts` takes, as one value a study can build and pass on."""

    labels: list[str]
    domain: str
    strategy: str = "label"
    clips_per_class: int = 30
    seed: int = 0
    context: str | None = None
    descriptors_file: Path | None = None  # strategy llm: reuse this file, no LLM
    descriptors_cache: Path | None = None  # strategy llm: read and extend this cache
    descriptors_per_prompt: int = 3
    num_descriptors: int | None = None  # None: 10, or 20 for music
    num_captions: int = 10
    retries: int = 5
    negative_prompt: str | None = None  # "auto": the domain's default
    llm_backend: str | None = None  # None: smollm2 where an LLM is needed
    llm_options: LLMOptions = field(default_factory=LLMOptions)
    relevance: RelevanceSettings = field(default_factory=RelevanceSettings)  # screen of LLM descriptors


def _check_request(request: PromptRequest) -> None:
    check_domain(request.domain)
    _check(request.strategy, request.clips_per_class)
    check_labels(request.labels)
    uses_llm = request.strategy == "caption" or (request.strategy == "llm" and request.descriptors_file is None)
    if request.strategy != "llm" and (request.descriptors_file or request.descriptors_cache):
        raise ConfigError("--descriptors and --descriptors-out only apply to --strategy llm")
    if request.descriptors_file and request.llm_backend:
        raise ConfigError("--descriptors reuses a descriptor file without an LLM: drop --llm, or drop --descriptors "
                          "to ask the LLM")
    if request.descriptors_file and request.descriptors_cache:
        raise ConfigError("--descriptors-out caches LLM answers; with --descriptors no LLM is asked: drop one")
    if not uses_llm and request.llm_backend:
        raise ConfigError(f"--llm has no effect with --strategy {request.strategy}"
                          + (" and --descriptors" if request.strategy == "llm" else ""))


def make_prompt_set(request: PromptRequest, on_label=None) -> PromptSet:
    """Descriptors (file or LLM) or captions (LLM) as the strategy needs, then build_prompt_set.

    `on_label(label, status)` is told about each label an LLM is asked for (or found in the cache).
    """
    _check_request(request)
    negative = default_negative_prompt(request.domain) if request.negative_prompt == "auto" else \
        (request.negative_prompt or None)
    common = dict(labels=request.labels, domain=request.domain, strategy=request.strategy,
                  clips_per_class=request.clips_per_class, seed=request.seed, negative_prompt=negative)
    if request.strategy == "label":
        return build_prompt_set(**common)
    backend = request.llm_backend or DEFAULT_BACKEND
    if request.strategy == "caption":
        caption_request = CaptionRequest(request.domain, count=request.num_captions, context=request.context,
                                         retries=request.retries, seed=request.seed, on_label=on_label)
        captions, provenance = collect_captions(make_llm(backend, request.llm_options), request.labels,
                                                caption_request)
        return build_prompt_set(**common, captions=captions, provenance=provenance)
    if request.descriptors_file is not None:
        descriptors = descriptors_for_labels(request.descriptors_file, request.labels)
        provenance: dict[str, Any] = {"descriptor_file": str(Path(request.descriptors_file).resolve()),
                                      "descriptor_file_sha256": file_sha256(request.descriptors_file)}
    else:
        descriptor_request = DescriptorRequest(
            request.domain, count=request.num_descriptors or DEFAULT_COUNTS[request.domain], context=request.context,
            retries=request.retries, seed=request.seed, on_label=on_label,
            min_count=request.descriptors_per_prompt, relevance=request.relevance)
        descriptors, provenance = collect_descriptors(make_llm(backend, request.llm_options), request.labels,
                                                      descriptor_request, request.descriptors_cache)
        if request.descriptors_cache is not None:
            provenance.update(descriptor_file=str(Path(request.descriptors_cache).resolve()),
                              descriptor_file_sha256=file_sha256(request.descriptors_cache))
    return build_prompt_set(**common, descriptors=descriptors, descriptors_per_prompt=request.descriptors_per_prompt,
                            provenance=provenance)
