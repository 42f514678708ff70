"""Offensive-language filter on every text an LLM (or a user's descriptor file) puts into prompts.

Checked against `better-profanity`'s maintained word list (PyPI `better-profanity`; read as data, without its
censoring engine). A text is flagged when one of its words, or that word with a common suffix stripped
("slutty" -> "slut", "bitches" -> "bitch", "assed" -> "ass"), is on the list, or when two neighbouring words
joined are ("mother fucker"; single letters are never joined, "x x" passes). Words are matched whole, never as
substrings, so "class", "assess", "Scunthorpe", "title" and "bass" pass. On single words neither the list as it
comes nor a sentence classifier is enough: the list misses inflected forms, and `alt-profanity-check` scores
"slutty" 0.04 (and "a dog barks in the yard" 0.72), hence the stemming here. The relevance filter (relevance.py)
is the second line of defence.

Callers drop what `is_offensive` flags before anything is cached or written, and count it without listing it.
"""

import functools
import importlib.util
import re
from pathlib import Path

from synthaudio.errors import MissingDependencyError

INSTALL = "pip install better-profanity"
# Longest first; a stem must keep 3+ letters, so short words are only ever matched whole.
_SUFFIXES = ("inesses", "iness", "ness", "ishly", "ish", "iest", "iers", "ier", "ies", "ied", "ily", "ings", "ing",
             "ers", "er", "est", "edly", "ed", "es", "ly", "s", "y", "z")
_WORD = re.compile(r"[a-z]+")
# Ordinary sound, music and action words that the list (or a stem on it) flags: every flagged word of the study's
# own published descriptor lists (ESC-50, GTZAN, UCF101, ActivityNet), each checked by hand as harmless there.
HARMLESS_WORDS = frozenset({"whizz", "whizzing", "tinkling", "penetrating", "thrust", "chinking", "skanking",
                            "ganja",
                            # ordinary words whose stems alone hit the list ("tested" -> "teste", "spaced" ->
                            # "spac"), found in the text of synthaudio's own reports
                            "tests", "tested", "testing", "spaces", "spaced", "spacing"})
HARMLESS_PHRASES = ("honky tonk", "cock a doodle doo")


@functools.lru_cache(maxsize=1)
def word_list() -> frozenset[str]:
    """The offensive words and phrases of better-profanity's list, lower-cased (found without importing its
    engine, which builds 900 leetspeak variants at import time)."""
    spec = importlib.util.find_spec("better_profanity")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("better-profanity", "the offensive-language filter on LLM prompts", INSTALL)
    path = Path(next(iter(spec.submodule_search_locations))) / "profanity_wordlist.txt"
    if not path.is_file():
        raise MissingDependencyError("better-profanity (its word list is missing)",
                                     "the offensive-language filter on LLM prompts", f"reinstall it: {INSTALL}")
    return frozenset(line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def word_forms(word: str) -> set[str]:
    """`word` and its stems: each common suffix stripped, then a doubled final consonant undone ("slutt" ->
    "slut"), a final 'e' restored ("hating" -> "hate") or an 'i' turned back into 'y' ("bitchier" -> "bitchy").
    One level only: stems of stems ("assess" -> "asses" -> "ass") flag too many ordinary words."""
    forms = {word}
    for suffix in _SUFFIXES:
        if not word.endswith(suffix) or len(word) - len(suffix) < 3 or (suffix == "s" and word.endswith("ss")):
            continue
        stem = word[: -len(suffix)]
        forms.update((stem, stem + "e"))
        if suffix[0] == "i" and suffix not in ("ing", "ings", "ish", "ishly"):
            forms.add(stem + "y")
        if len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
            forms.add(stem[:-1])
    return forms


def is_offensive(text: str) -> bool:
    """True when `text` (a descriptor, a caption) holds a listed word, an inflected form of one, or a listed
    phrase."""
    listed = word_list()
    plain = " ".join(_WORD.findall(text.lower()))
    for phrase in HARMLESS_PHRASES:
        plain = re.sub(rf"\b{phrase}\b", " ", plain)
    words = [word for word in plain.split() if word not in HARMLESS_WORDS]
    if any(form in listed for word in words for form in word_forms(word)):
        return True
    pairs = [(a, b) for a, b in zip(words, words[1:], strict=False)]
    # joined only where both are content words: single letters side by side ("x x" in a path of class x's clips)
    # would join into a listed "xx", and a function word into another ("the paired test is liberal": "testis")
    return any(f"{a} {b}" in listed or (_joinable(a) and _joinable(b) and a + b in listed) for a, b in pairs)


# words a split offensive compound ("mother fucker") is never made of
_FUNCTION_WORDS = frozenset({"a", "an", "the", "is", "are", "was", "were", "be", "been", "am", "of", "in", "on",
                             "at", "to", "as", "it", "its", "and", "or", "for", "by", "with", "this", "that", "if",
                             "not", "no", "so", "do", "does", "has", "have", "had", "can", "will", "we", "you"})


def _joinable(word: str) -> bool:
    return len(word) > 1 and word not in _FUNCTION_WORDS


def offensive_items(items: list[str]) -> list[str]:
    """The items `is_offensive` flags, in order."""
    return [item for item in items if is_offensive(item)]
