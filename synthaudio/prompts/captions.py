"""`caption` strategy (beyond the study): the LLM writes N different one-sentence captions per class.

Each caption is checked on its own (one sentence, 4-40 words, names the class, no list markup, no introduction)
and deduplicated; valid ones are kept across requests until N are collected, each request asking for the missing
ones and naming what was wrong with the rejected ones.
"""

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from synthaudio.errors import ConfigError
from synthaudio.llm import ChatModel, LLMError
from synthaudio.prompts.descriptor_file import match_key
from synthaudio.prompts.instructions import DEFAULT_CONTEXT, caption_messages
from synthaudio.prompts.label import check_domain, label_words
from synthaudio.prompts.safety import is_offensive
from synthaudio.prompts.screening import SAFETY
from synthaudio.seeding import derive_seed

log = logging.getLogger("synthaudio.prompts")

DEFAULT_NEGATIVE_PROMPTS = {
    "sound": "low quality, distorted, clipping, muffled, music",
    "music": "low quality, distorted, noisy, out of tune",
    "action": "low quality, distorted, clipping, muffled, music",
    "speech": "noisy, distorted, music, several voices",
}
MIN_WORDS, MAX_WORDS = 4, 40
OFFENSIVE = "offensive (flagged by the safety filter)"
BATCH = 10  # captions asked for per request: longer answers drift in small models
_MARKER = re.compile(r"^\s*(?:\(?\d{1,3}\s*[.):\]]|[-*•·+–—])\s*")
_INTRO = re.compile(r"^(?:here|sure|okay|ok|certainly|of course)\b|\bcaptions?\b", re.IGNORECASE)
_MARKUP = re.compile(r"[*#\[\]{}<>|\\]")
_SENTENCE_END_INSIDE = re.compile(r"[.!?]\s+\S")


def default_negative_prompt(domain: str) -> str:
    return DEFAULT_NEGATIVE_PROMPTS[check_domain(domain)]


def parse_captions(text: str) -> list[str]:
    """One candidate caption per non-empty line, without numbering, bullets, quotes or emphasis."""
    lines = []
    for raw in text.replace("**", "").splitlines():
        line = _MARKER.sub("", raw.strip(), count=1).strip().strip("\"'“”‘’`").strip()
        if line:
            lines.append(" ".join(line.split()))
    return lines


def mentions_label(caption: str, label: str) -> bool:
    """True when the caption names the class: one of its words (3+ letters, as a word start) or the whole label."""
    caption_words = re.findall(r"\w+", caption.lower())
    words = [w.lower() for w in label_words(label) if len(w) >= 3] or [w.lower() for w in label_words(label)]
    if any(cw.startswith(w) for w in words for cw in caption_words):
        return True
    return match_key(label) in match_key(caption)


def caption_problem(caption: str, label: str) -> str | None:
    """Why `caption` cannot be used for `label`, or None."""
    if is_offensive(caption):
        return OFFENSIVE
    words = caption.split()
    if caption.endswith(":") or _INTRO.search(caption):
        return "an introduction, not a caption"
    if _MARKUP.search(caption):
        return "contains markup"
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return f"{len(words)} words (captions need {MIN_WORDS}-{MAX_WORDS})"
    if _SENTENCE_END_INSIDE.search(caption.rstrip(".!? ")):
        return "more than one sentence"
    if not mentions_label(caption, label):
        return "does not name the class"
    return None


@dataclass
class CaptionRequest:
    domain: str
    count: int = 10  # captions per class
    context: str | None = None
    retries: int = 5
    seed: int = 0
    on_label: Callable[[str, str], None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_domain(self.domain)
        self.context = self.context or DEFAULT_CONTEXT[self.domain]
        if self.count < 1:
            raise ConfigError(f"--num-captions must be at least 1, got {self.count}")
        if self.retries < 0:
            raise ConfigError(f"--retries must be 0 or more, got {self.retries}")


def ask_captions(llm: ChatModel, label: str, request: CaptionRequest, tally: dict[str, int] | None = None
                 ) -> tuple[list[str], int]:
    """(captions, requests used): `request.count` distinct valid captions; LLMError when the requests run out.
    `tally` counts the rejected captions per reason (offensive ones are never kept, logged or listed)."""
    kept: list[str] = []
    seen: set[str] = set()
    rejected: dict[str, int] = {}
    allowed = math.ceil(request.count / BATCH) + request.retries
    for attempt in range(1, allowed + 1):
        wanted = min(BATCH, request.count - len(kept))
        note = ("; ".join(f"{n} rejected as {why}" for why, n in rejected.items()) if rejected else "")
        messages = caption_messages(label, request.domain, wanted, request.context, avoid=kept[-BATCH:])
        if note:
            messages[0]["content"] += f" Some of your last captions were rejected: {note}."
        answer = llm.complete(messages, seed=derive_seed(request.seed, "captions", label, attempt),
                              max_tokens=wanted * 2 * MAX_WORDS)
        rejected = {}
        for caption in parse_captions(answer):
            why = caption_problem(caption, label)
            key = match_key(caption)
            if why is None and key in seen:
                why = "a repeat"
            if why is not None:
                rejected[why] = rejected.get(why, 0) + 1
                if tally is not None:
                    tally[why] = tally.get(why, 0) + 1
                continue
            seen.add(key)
            kept.append(caption if caption[-1] in ".!?" else caption + ".")
            if len(kept) == request.count:
                return kept, attempt
        log.info("%s: request %d for '%s': %d of %d captions so far; rejected: %s", llm.backend, attempt, label,
                 len(kept), request.count, rejected)
    reasons = "; ".join(f"{n} {why}" for why, n in rejected.items()) or "no captions in the answer"
    raise LLMError(f"the {llm.backend} LLM wrote {len(kept)} of {request.count} usable captions for '{label}' in "
                   f"{allowed} requests (last rejections: {reasons}); raise --retries, lower --num-captions, or "
                   "use a stronger --llm")


def collect_captions(llm: ChatModel, labels: list[str], request: CaptionRequest
                     ) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Captions of every label, and their provenance."""
    found: dict[str, list[str]] = {}
    requests: dict[str, int] = {}
    offensive: dict[str, int] = {}
    for label in labels:
        tally: dict[str, int] = {}
        found[label], requests[label] = ask_captions(llm, label, request, tally)
        offensive[label] = tally.get(OFFENSIVE, 0)
        if request.on_label:
            request.on_label(label, f"{requests[label]} request{'s' if requests[label] > 1 else ''}")
    instruction = caption_messages("{label}", request.domain, request.count, request.context, avoid=[])
    provenance = {"llm": llm.provenance(), "domain": request.domain, "context": request.context,
                  "num_captions": request.count, "retries": request.retries, "seed": request.seed,
                  "instruction": {"system": instruction[0]["content"], "question": instruction[1]["content"]},
                  "requests": requests, "safety": SAFETY, "dropped": {label: {"offensive": n}
                                                                     for label, n in offensive.items()}}
    return found, provenance
