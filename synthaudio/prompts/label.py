"""Label-guided prompts: a dataset's class label in plain words, in a template per domain.

  sound   "{label} sound"   ESC-50 car_horn -> "car horn sound"
  music   "{label} music"   GTZAN hiphop -> "hiphop music"
  action  "{label}"         UCF101 BlowDryHair -> "blow dry hair"
  speech  "{label}"         Speech Commands seven -> "seven" (the word a TTS model should say)
"""

import re

from synthaudio.errors import ConfigError

DOMAINS = ("sound", "music", "speech", "action")
TEMPLATES = {"sound": "{label} sound", "music": "{label} music", "action": "{label}", "speech": "{label}"}
# A label that already names its kind ("engine noise", "classical music") gets no second "sound"/"music".
_KIND_WORDS = {"sound": {"sound", "sounds", "noise", "noises"}, "music": {"music"}}

_SEPARATORS = re.compile(r"[\s_+]+")


def check_domain(domain: str) -> str:
    if domain not in DOMAINS:
        raise ConfigError(f"unknown domain '{domain}'; choose one of: {', '.join(DOMAINS)}")
    return domain


def label_words(label: str) -> list[str]:
    """The words of a label: split at underscores, '+', spaces and camel case; lower case except acronyms.

    Acronyms (all-caps pieces of 2+ letters) keep their case only in labels that also have lower-case letters,
    so "BMX" in "BMXRacing" stays, while a label written all in capitals ("CAR_HORN") is simply lower-cased.
    """
    mixed_case = any(ch.islower() for ch in label)
    words: list[str] = []
    for chunk in _SEPARATORS.split(label.strip()):
        for piece in _camel_pieces(chunk):
            if not piece:
                continue
            keep = mixed_case and len(piece) > 1 and piece.isupper()
            words.append(piece if keep else piece.lower())
    return words


def _camel_pieces(chunk: str) -> list[str]:
    """Split camel case ("BlowDryHair" -> Blow, Dry, Hair; "BMXRacing" -> BMX, Racing); other chunks, such as
    "hip-hop", "mp3" or "siren", stay whole."""
    lower_upper = any(a.islower() and b.isupper() for a, b in zip(chunk, chunk[1:], strict=False))
    acronym_word = any(a.isupper() and b.isupper() and c.islower()
                       for a, b, c in zip(chunk, chunk[1:], chunk[2:], strict=False))
    if not chunk.isalnum() or not (lower_upper or acronym_word):
        return [chunk]
    pieces, current = [], ""
    for index, char in enumerate(chunk):
        previous = chunk[index - 1] if index else ""
        following = chunk[index + 1] if index + 1 < len(chunk) else ""
        starts_word = char.isupper() and (previous.islower() or (previous.isupper() and following.islower()))
        if current and starts_word:
            pieces.append(current)
            current = ""
        current += char
    return pieces + [current]


def normalise_label(label: str) -> str:
    """The label in plain words: "car_horn" -> "car horn", "BlowDryHair" -> "blow dry hair"."""
    words = label_words(label)
    if not words:
        raise ConfigError(f"label '{label}' has no words to put in a prompt")
    return " ".join(words)


def label_prompt(label: str, domain: str) -> str:
    """The label-guided prompt of `label` in `domain` (see the module docstring)."""
    check_domain(domain)
    words = normalise_label(label)
    if words.split()[-1].lower() in _KIND_WORDS.get(domain, set()):
        return words
    return TEMPLATES[domain].format(label=words)
