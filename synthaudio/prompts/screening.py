"""The screen every LLM-made descriptor passes before it is cached or written: safety first, then relevance.

`DescriptorScreen.sort(label, items)` -> (kept, notes for the LLM's next attempt). Dropped items are counted per
label and reason in `tally` (offensive ones only counted, never listed or logged); speech descriptors the
generator cannot realise are also listed in `ignored`, so the prompt file says which were applied and which not.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from synthaudio.prompts.relevance import RelevanceCheck, RelevanceSettings
from synthaudio.prompts.safety import is_offensive

SAFETY = "better-profanity word list, inflected forms included"
REASONS = ("offensive", "generic", "unrelated", "unrealisable")
_NOTES = {
    "generic": "{items} only praise, they say nothing about {subject}",
    "unrelated": "{items} do not describe {subject}",
    "unrealisable": "{items} cannot be heard in speech: use speed, pitch, loudness, voice, accent or emotion",
}
_SUBJECT = {"sound": "the sound", "music": "the music", "action": "the sound of the action",
            "speech": "how it is said"}


@dataclass
class DescriptorScreen:
    domain: str
    relevance: RelevanceSettings = field(default_factory=RelevanceSettings)
    tally: dict[str, Counter] = field(default_factory=dict)
    ignored: dict[str, list[str]] = field(default_factory=dict)

    _check: RelevanceCheck | None = field(default=None, repr=False)

    @property
    def check(self) -> RelevanceCheck:
        """Built on first use: the embedding model loads only when an LLM answer is screened."""
        if self._check is None:
            self._check = RelevanceCheck(self.relevance, self.domain)
        return self._check

    def settings(self) -> dict[str, Any]:
        """The screen's settings, stored with each list: a list made under other settings is asked again."""
        return {"safety": SAFETY, **self.relevance.record(self.domain)}

    def applied(self) -> dict[str, Any]:
        """What the screen actually ran (says so where the embedding model was not available)."""
        return {"safety": SAFETY, **self.check.record()}

    def sort(self, label: str, items: list[str]) -> tuple[list[str], list[str]]:
        """(kept items, notes on the dropped ones for the next question)."""
        kept: list[str] = []
        dropped: dict[str, list[str]] = {reason: [] for reason in REASONS}
        for item in items:
            reason = "offensive" if is_offensive(item) else self.check.reason_to_drop(item, label)
            if reason is None:
                kept.append(item)
            else:
                dropped[reason].append(item)
        counts = self.tally.setdefault(label, Counter())
        for reason, words in dropped.items():
            counts[reason] += len(words)
        if dropped["unrealisable"]:
            known = self.ignored.setdefault(label, [])
            known.extend(word for word in dropped["unrealisable"] if word not in known)
        notes = []
        if dropped["offensive"]:
            notes.append(f"{len(dropped['offensive'])} offensive word(s); use neutral words")
        for reason in ("generic", "unrelated", "unrealisable"):
            if dropped[reason]:
                items_text = ", ".join(f"'{word}'" for word in dropped[reason][:5])
                notes.append(_NOTES[reason].format(items=items_text, subject=_SUBJECT[self.domain]))
        return kept, notes

    def counts(self, label: str) -> dict[str, int]:
        """Dropped items of `label` per reason (every reason, zeros included)."""
        counts = self.tally.get(label, Counter())
        return {reason: int(counts[reason]) for reason in REASONS}
