"""What the LLM is asked, per domain: the dataset context that makes an ambiguous class name unambiguous, and
short worked examples that show the answer format (small local models follow an example far better than a
description of the format).
"""

from collections.abc import Sequence

from synthaudio.llm import Message
from synthaudio.prompts.label import normalise_label

DEFAULT_CONTEXT = {
    "sound": "environmental sound recordings",
    "music": "music recordings, one genre per class",
    "action": "videos of people doing everyday actions, with their sound",
    "speech": "recordings of people saying single words",
}

SYSTEM = "You help build text prompts for a text-to-audio generator. Answer with the list only."

# How each domain's class names are to be read: without it, an LLM described ESC-50's "siren" as the
# mythological singer. Kept short: SmolLM2-135M loses the format under a long instruction (measured).
_READING = {
    "sound": "Each class is an everyday sound: read its name as the thing or event that makes the sound.",
    "music": "Each class is a music genre.",
    "action": "Each class is an action filmed with its sound: describe what the action sounds like.",
    "speech": ("Each class is a spoken word: describe ways a person might say it (speed, pitch, loudness, voice "
               "quality, emotion) with plain adjectives."),
}

_SUBJECT = {
    "sound": "the sound of '{words}' as heard in such a recording",
    "music": "'{words}' music (instruments, rhythm, tempo, mood)",
    "action": "the sound of the action '{words}'",
    "speech": "how a person might say the word '{words}'",
}

# Worked examples (label, 20 descriptors); two are shown, skipping one that is the class being asked about.
DESCRIPTOR_EXAMPLES = {
    "sound": [
        ("rain", "pattering, steady, soft, dripping, splashing, wet, rhythmic, soothing, drumming, hissing, gentle, "
                 "heavy, distant, tapping on roof, gurgling, continuous, fizzing, washing, pouring, trickling"),
        ("door knock", "wooden, sharp, hollow, rapping, loud, short, percussive, three knocks, insistent, dull, "
                       "knuckles, echoing, firm, muffled, quick, impatient, solid, thudding, tapping, abrupt"),
        ("kettle", "whistling, bubbling, rumbling, hissing, steaming, high-pitched, rising, boiling, shrill, "
                   "metallic, gurgling, clicking, piercing, building, loud, steady, shrieking, popping, roaring, "
                   "sputtering"),
    ],
    "music": [
        ("bossa nova", "nylon guitar, soft vocals, syncopated, samba rhythm, jazzy chords, relaxed, brushed drums, "
                       "warm, gentle, Brazilian, intimate, smooth, mellow, swaying, breezy, romantic, acoustic bass, "
                       "flute, laid-back, sophisticated"),
        ("surf rock", "twangy guitar, spring reverb, fast, energetic, tremolo picking, driving drums, bright, "
                      "instrumental, sunny, raw, loud, upbeat, vintage, electric bass, youthful, rebellious, "
                      "danceable, catchy, wild, reverb-drenched"),
        ("polka", "accordion, oom-pah bass, fast, two-step, cheerful, tuba, clarinet, bouncy, festive, lively, "
                  "brass band, dance hall, simple chords, upbeat, folk, clapping, rustic, playful, major key, "
                  "energetic"),
    ],
    "action": [
        ("chopping vegetables", "knife thuds, rhythmic, cutting board, crisp, steady, wooden, crunchy, fast, "
                                "repetitive, kitchen, sharp taps, scraping, slicing, chopping, percussive, quick, "
                                "muffled, dull knocks, close, busy"),
        ("swimming", "splashing, water, rhythmic strokes, breathing, bubbling, echoing pool, kicking, waves, "
                     "gurgling, lapping, wet, steady, churning, dripping, gasping, rushing, muffled, spray, "
                     "paddling, swooshing"),
        ("skateboarding", "rolling wheels, clacking, grinding, rumbling, concrete, board slaps, scraping, "
                          "rattling, whirring, thudding, pops, fast, gritty, trucks squeak, echoing, sliding, "
                          "landing thump, outdoor, rhythmic, bumpy"),
    ],
    "speech": [
        ("hello", "fast, slow, loud, quiet, whispered, deep, high, cheerful, angry, calm, sad, excited, breathy, "
                  "shouted, soft, tense, tired, bright, hoarse, relaxed"),
        ("okay", "slow, quick, loud, soft, whispered, low, high, happy, bored, annoyed, calm, nervous, firm, "
                 "gentle, raspy, clear, sleepy, surprised, flat, warm"),
        ("stop", "loud, quiet, fast, slow, shouted, whispered, deep, high, angry, scared, stern, calm, urgent, "
                 "breathy, sharp, soft, hoarse, tense, firm, tired"),
    ],
}


def _stems(text: str) -> set[str]:
    return {word.lower().removesuffix("s") for word in text.replace("-", " ").split()}


def _examples(domain: str, label: str, shown: int = 2) -> list[tuple[str, list[str]]]:
    """Worked examples for `domain`, skipping any that shares a word with the class asked about ("door knock"
    for ESC-50's door_wood_knock): its list would be the answer, and a copied answer is refused."""
    words = _stems(normalise_label(label))
    chosen = [(name, [item.strip() for item in answer.split(",")]) for name, answer in DESCRIPTOR_EXAMPLES[domain]
              if not _stems(name) & words]
    return chosen[:shown]


def example_descriptors(domain: str, label: str) -> set[str]:
    """Every descriptor of the examples shown when asking about `label`: an answer made of them was copied."""
    return {item.lower() for _, items in _examples(domain, label) for item in items}


def descriptor_question(label: str, domain: str, count: int, context: str, confused_with: Sequence[str] = ()
                        ) -> str:
    """The question about `label`; with `confused_with`, what a recognition model mistakes it for, asking for
    characteristics that set it apart (a confusion-aware rewrite)."""
    words = normalise_label(label)
    question = (f"Dataset: {context}. {_READING[domain]} List {count} characteristics of "
                f"{_SUBJECT[domain].format(words=words)}, each one to three words, as a numbered list.")
    if confused_with:
        others = [f"'{normalise_label(other)}'" for other in confused_with]
        listed = others[0] if len(others) == 1 else ", ".join(others[:-1]) + " and " + others[-1]
        question += (f" A recognition model mistakes '{words}' for {listed}: give characteristics that set "
                     f"'{words}' apart from {'it' if len(others) == 1 else 'them'}.")
    return question


def numbered(items: list[str]) -> str:
    return "\n".join(f"{number}. {item}" for number, item in enumerate(items, start=1))


def descriptor_messages(label: str, domain: str, count: int, context: str, examples: bool = True,
                        rejected: list[str] | None = None, confused_with: Sequence[str] = ()) -> list[Message]:
    """The chat that asks for `count` descriptors of `label`: system message, worked examples, question.

    `rejected`: what was wrong with the previous answer. It goes into the system message rather than into a
    conversation turn that quotes the bad answer: a small model shown its own rambling answer rambles on
    (SmolLM2-135M, ESC-50 labels: 1 of 9 retries usable that way, 7 of 13 with the note).
    """
    system = SYSTEM
    if rejected:
        system += (f" Your last answer to this question was rejected: {'; '.join(rejected)}. Answer with exactly "
                   f"{count} different items, each at most 3 words, as a numbered list.")
    messages: list[Message] = [{"role": "system", "content": system}]
    if examples:
        for name, items in _examples(domain, label):
            shown = items[:count]
            messages.append({"role": "user", "content": descriptor_question(name, domain, len(shown), context)})
            messages.append({"role": "assistant", "content": numbered(shown)})
    messages.append({"role": "user", "content": descriptor_question(label, domain, count, context, confused_with)})
    return messages


CAPTION_SYSTEM = ("You write captions for a text-to-audio generator: each caption is one sentence that describes "
                  "what is heard. You answer with the captions only, one per line, with no introduction.")

_CAPTION_SUBJECT = {
    "sound": "a recording of the sound of '{words}'",
    "music": "a piece of '{words}' music",
    "action": "a recording of someone {words}",
    "speech": "a person saying the word '{words}'",
}


def caption_messages(label: str, domain: str, count: int, context: str, avoid: list[str]) -> list[Message]:
    """The chat that asks for `count` one-sentence captions of `label`, different from those in `avoid`."""
    words = normalise_label(label)
    question = (f"Dataset: {context}. {_READING[domain]} Write {count} different one-sentence captions of "
                f"{_CAPTION_SUBJECT[domain].format(words=words)}. Each caption names '{words}' and adds concrete "
                "details of what is heard (source, setting, loudness, distance, texture). One caption per line.")
    if avoid:
        question += " Do not repeat these: " + " | ".join(avoid)
    return [{"role": "system", "content": CAPTION_SYSTEM}, {"role": "user", "content": question}]


def instruction_record(domain: str, count: int, context: str, examples: bool = True) -> dict:
    """The instruction in words, for provenance (the label shown as {label})."""
    return {"system": SYSTEM, "question": descriptor_question("{label}", domain, count, context),
            "examples": [name for name, _ in DESCRIPTOR_EXAMPLES[domain]] if examples else [],
            "examples_shown": "the first two that share no word with the class asked about" if examples else None,
            "on_retry": descriptor_messages("{label}", domain, count, context, False, ["{problems}"])[0]["content"]}
