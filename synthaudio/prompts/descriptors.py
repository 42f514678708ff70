"""LLM-assisted descriptors, as in the study: per class, K single-word or short-phrase characteristics.

An answer is cleaned up (preambles, numbering, bullets, quotes, trailing periods), then validated: exactly K
items, each at most 3 words, no duplicates, no echo of the label, no leftover markup, not copied from the worked
example. After a rejected answer the question is asked again, with what was wrong, up to `retries` times (with
a new seed each time); then one LLMError. A valid answer then passes the screen (screening.py): offensive words,
generic praise and words unrelated to the class (or, for speech, that the voice cannot realise) are dropped, counted
in the provenance, and re-asked; kept words add up across answers.
Lists are cached in a descriptor file (see descriptor_file.py), one label at a time, so a failed run keeps the
lists it already had.
"""

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthaudio.errors import ConfigError
from synthaudio.llm import ChatModel, LLMError
from synthaudio.prompts.descriptor_file import (
    DescriptorEntry,
    match_key,
    read_descriptor_cache,
    write_descriptor_cache,
)
from synthaudio.prompts.instructions import (
    DEFAULT_CONTEXT,
    descriptor_messages,
    example_descriptors,
    instruction_record,
)
from synthaudio.prompts.label import check_domain, label_words
from synthaudio.prompts.relevance import RelevanceSettings
from synthaudio.prompts.safety import offensive_items
from synthaudio.prompts.screening import DescriptorScreen
from synthaudio.seeding import derive_seed

log = logging.getLogger("synthaudio.prompts")

DEFAULT_COUNTS = {"sound": 10, "action": 10, "speech": 10, "music": 20}
MAX_WORDS = 3

_MARKER = re.compile(r"^\s*(?:\(?\d{1,3}\s*[.):\]]|[-*•·+–—]|[a-zA-Z][.)](?=\s))\s*")
_EMPHASIS = re.compile(r"\*\*|__|`+|~~")
_EXPLANATION = re.compile(r"\s*(?::|\s[-–—]\s|\()")
_QUOTES = "\"'“”‘’«»`"
_LEFTOVER_MARKUP = re.compile(r"[*#\[\]{}<>|=_\\/@:;]|^\d+[.)]")


def _tidy(item: str) -> str:
    """One item without quotes, trailing punctuation, a leading 'and', or shouted case."""
    item = " ".join(item.split()).strip(_QUOTES + " ").rstrip(".,;:!?").strip(_QUOTES + " ")
    item = re.sub(r"^(?:and|or)\s+", "", item, flags=re.IGNORECASE)
    if any(ch.islower() for ch in item):
        # Lower-case, but keep acronyms such as "TR-808 drums" or "DJ scratching".
        return " ".join(word if len(word) > 1 and word.isupper() else word.lower() for word in item.split())
    return item.lower()


def parse_list(text: str) -> list[str]:
    """The items of an LLM's list answer: comma- or line-separated, numbered or bulleted, with or without an
    introduction ("Here are 10 ...:") or a closing sentence."""
    text = re.sub(r"```[a-z]*", "\n", text)
    items: list[str] = []
    for raw_line in text.splitlines():
        line = _EMPHASIS.sub("", raw_line).strip()
        if not line:
            continue
        marked = _MARKER.match(line)
        if marked:
            # "3. Loud: the siren is loud, piercing" -> "Loud"; "3. loud, shrill" -> both
            line = _EXPLANATION.split(line[marked.end():], maxsplit=1)[0]
        elif line.endswith(":"):
            continue  # "Here are 10 characteristics of the siren sound:"
        elif ":" in line:
            line = line.rsplit(":", 1)[1]  # "Sure! Here they are: a, b, c"
        parts = re.split(r"[,;]", line)
        if len(parts) == 1 and len(line.split()) > MAX_WORDS + 2 and not marked:
            continue  # a sentence around the list, not an item
        items.extend(parts)
    return [tidy for tidy in (_tidy(item) for item in items) if tidy]


def _words_of(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def echoes_label(item: str, label: str) -> bool:
    """True when `item` contains every word of the label (a plural 's' counts as the same word)."""
    item_words = {word.removesuffix("s") for word in _words_of(item)}
    words = [word.removesuffix("s") for word in _words_of(" ".join(label_words(label)))]
    return bool(words) and all(word in item_words for word in words)


def _quoted(items: list[str], limit: int = 3) -> str:
    """A few items for a message, each cut to 40 characters (a rambling answer can be one huge item)."""
    return ", ".join(f"'{item[:37]}...'" if len(item) > 40 else f"'{item}'" for item in items[:limit])


def descriptor_problems(items: list[str], label: str, count: int, copied_from: set[str] | None = None) -> list[str]:
    """What is wrong with `items` as the descriptors of `label` (empty when they can be used)."""
    problems = []
    if len(items) != count:
        problems.append(f"it has {len(items)} items, expected exactly {count}")
    long_items = [item for item in items if len(item.split()) > MAX_WORDS]
    if long_items:
        problems.append("too long (more than 3 words): " + _quoted(long_items))
    seen: set[str] = set()
    repeated = []
    for item in items:
        key = item.lower()
        if key in seen and key not in repeated:
            repeated.append(key)
        seen.add(key)
    if repeated:
        problems.append("repeated: " + _quoted(repeated, 5))
    echoes = [item for item in items if echoes_label(item, label)]
    if echoes:
        problems.append("repeats the name itself: " + _quoted(echoes))
    markup = [item for item in items if _LEFTOVER_MARKUP.search(item) or not any(ch.isalpha() for ch in item)]
    if markup:
        problems.append("not plain words: " + _quoted(markup))
    if copied_from and items and sum(item.lower() in copied_from for item in items) * 2 >= len(items):
        problems.append("copied from the example instead of describing the class")
    return problems


def usable_items(items: list[str], label: str, copied_from: set[str] | None = None, truncated: bool = False
                 ) -> list[str]:
    """The items of an answer that are fine one by one: short, plain words, not the name itself, not repeated; none
    from an answer copied from the example, and not the last item of an answer cut off mid-list."""
    if copied_from and items and sum(item.lower() in copied_from for item in items) * 2 >= len(items):
        return []
    usable: list[str] = []
    for item in items[:-1] if truncated else items:
        if (len(item.split()) <= MAX_WORDS and not echoes_label(item, label) and not _LEFTOVER_MARKUP.search(item)
                and any(ch.isalpha() for ch in item) and item.lower() not in {u.lower() for u in usable}):
            usable.append(item)
    return usable


@dataclass
class DescriptorRequest:
    """What to ask for, per label."""

    domain: str
    count: int | None = None  # None: DEFAULT_COUNTS[domain]
    context: str | None = None  # None: DEFAULT_CONTEXT[domain]
    retries: int = 5
    seed: int = 0
    examples: bool = True
    max_tokens: int | None = None  # None: enough for `count` short items
    on_label: Callable[[str, str], None] | None = field(default=None, repr=False)  # (label, "cached"|"asked")
    min_count: int | None = None  # fewest screened descriptors accepted when the attempts run out; None: count
    relevance: RelevanceSettings = field(default_factory=RelevanceSettings)

    def __post_init__(self) -> None:
        check_domain(self.domain)
        self.count = self.count if self.count is not None else DEFAULT_COUNTS[self.domain]
        self.min_count = self.count if self.min_count is None else min(self.min_count, self.count)
        self.context = self.context or DEFAULT_CONTEXT[self.domain]
        if self.count < 1:
            raise ConfigError(f"--num-descriptors must be at least 1, got {self.count}")
        if self.retries < 0:
            raise ConfigError(f"--retries must be 0 or more, got {self.retries}")


def ask_descriptors(llm: ChatModel, label: str, request: DescriptorRequest,
                    screen: DescriptorScreen | None = None, confused_with: Sequence[str] = ()
                    ) -> tuple[list[str], int]:
    """(descriptors, attempts used) for `label`; LLMError after 1 + retries answers without enough usable items.
    With `confused_with`, the question says what the class is mistaken for (see instructions.descriptor_question).

    An answer must pass `descriptor_problems` as a whole; then `screen` (see screening.py) drops offensive,
    generic, unrelated or (speech) unrealisable items, counting them in `screen.tally[label]`, and the kept items
    add up across answers until `request.count` are found. When the attempts run out with at least
    `request.min_count` kept, those are returned.
    """
    count = request.count
    copied_from = example_descriptors(request.domain, label) if request.examples else set()
    max_tokens = request.max_tokens or 6 * count + 24  # a numbered item of <= 3 words: ~6 tokens
    problems: list[str] = []
    kept: list[str] = []
    attempts = 1 + request.retries
    for attempt in range(1, attempts + 1):
        messages = descriptor_messages(label, request.domain, count, request.context, request.examples, problems,
                                       confused_with)
        answer = llm.complete(messages, seed=derive_seed(request.seed, "descriptors", label, attempt,
                                                         *confused_with), max_tokens=max_tokens)
        items = parse_list(answer)
        problems = descriptor_problems(items, label, count, copied_from)
        if getattr(answer, "truncated", False):
            problems.insert(0, f"it was cut off at {max_tokens} tokens, so it was too long")
        if not problems and screen is None:
            return items, attempt
        if screen is not None:
            # kept items add up across answers, so an answer that fails as a whole (too few items, one too long,
            # cut off) still gives its individually usable items (a weak LLM rarely gets all ten right at once)
            usable = usable_items(items, label, copied_from, truncated=getattr(answer, "truncated", False))
            fresh = [item for item in usable if item.casefold() not in {k.casefold() for k in kept}]
            good, screened = screen.sort(label, fresh)
            kept.extend(good[:count - len(kept)])
            if len(kept) == count:
                return kept, attempt
            problems = [*problems, *screened, f"{count - len(kept)} more needed"]
        log.info("%s: answer %d for '%s' rejected: %s", llm.backend, attempt, label, "; ".join(problems))
    if screen is not None and len(kept) >= request.min_count:
        log.info("%s: kept %d of %d descriptors for '%s' after %d answers", llm.backend, len(kept), count, label,
                 attempts)
        return kept, attempts
    raise LLMError(f"{_llm_name(llm)} gave no usable list of {count} descriptors for '{label}' in {attempts} "
                   f"attempts (last answer: {'; '.join(problems)}); raise --retries, use a stronger --llm, or "
                   "pass a descriptor file with --descriptors")


def _llm_name(llm: ChatModel) -> str:
    model = llm.provenance().get("model")
    return f"the {llm.backend} LLM ({model})" if model else f"the {llm.backend} LLM"


def collect_descriptors(llm: ChatModel, labels: list[str], request: DescriptorRequest,
                        cache_path: Path | str | None = None, screen: DescriptorScreen | None = None
                        ) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Descriptors of every label, from the cache where it holds a list made for the same request, else asked.

    Every asked list passes the screen (screening.py: offensive words, then relevance) before it is cached.
    Each new list is added to the cache (atomically) as soon as it passes validation, so a run that fails on a
    later label keeps the earlier ones, and a list in the cache is only ever replaced by a valid one. A cached
    list made under other screen settings, or holding a word the safety filter flags, is asked again.
    Returns (label -> descriptors, provenance).
    """
    cache: dict[str, DescriptorEntry] = read_descriptor_cache(cache_path) if cache_path else {}
    by_key = {match_key(label): label for label in cache}
    screen = screen or DescriptorScreen(request.domain, request.relevance)
    settings = {"domain": request.domain, "context": request.context, "count": request.count,
                "screen": screen.settings()}
    instruction = instruction_record(request.domain, request.count, request.context, request.examples)
    found: dict[str, list[str]] = {}
    made_by: dict[str, str] = {}
    dropped: dict[str, dict[str, int]] = {}
    ignored: dict[str, list[str]] = {}
    for label in labels:
        cached = cache.get(by_key.get(match_key(label), ""))
        if cached is not None and cached.made_for(settings) and not offensive_items(cached.descriptors):
            found[label] = cached.descriptors
            made_by[label] = _maker(cached.provenance)
            dropped[label] = dict(cached.provenance.get("dropped") or {})
            ignored[label] = list(cached.provenance.get("ignored") or [])
            if request.on_label:
                request.on_label(label, "cached")
            continue
        descriptors, used = ask_descriptors(llm, label, request, screen)
        found[label] = descriptors
        made_by[label] = _maker(llm.provenance())
        dropped[label] = screen.counts(label)
        ignored[label] = list(screen.ignored.get(label, []))
        if request.on_label:
            request.on_label(label, f"asked ({used} attempt{'s' if used > 1 else ''})")
        if cache_path:
            stale_key = by_key.get(match_key(label))
            if stale_key is not None:
                cache.pop(stale_key)
            cache[label] = DescriptorEntry(descriptors, {**settings, **llm.provenance(), "attempts": used,
                                                         "seed": request.seed, "instruction": instruction,
                                                         "screen_applied": screen.applied(),
                                                         "dropped": dropped[label], "ignored": ignored[label]})
            by_key[match_key(label)] = label
            write_descriptor_cache(cache_path, cache)
    # Attempts and cache hits stay out of this record (they are in the cache's own provenance), so that a rerun
    # served from the cache writes the same prompts file. Offensive words are counted under "dropped", never listed.
    provenance = {"llm": llm.provenance(), **settings, "retries": request.retries, "seed": request.seed,
                  "instruction": instruction, "made_by": made_by, "dropped": dropped}
    if request.domain == "speech":
        provenance["descriptors_ignored"] = ignored  # "descriptors" (written by build) are the applied ones
    return found, provenance


def _maker(provenance: dict[str, Any]) -> str:
    """'backend model' of a list, from its provenance."""
    return " ".join(str(provenance[key]) for key in ("backend", "model") if provenance.get(key)) or "unknown"
