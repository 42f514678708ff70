"""AudioGen (default facebook/audiogen-medium, as in the study), on transformers by default, audiocraft optionally.

backend=transformers (default): audiocraft's published files (state_dict.bin, compression_state_dict.bin) are
converted once into transformers' MusicGen decoder and EnCodec classes and cached (see audiogen_convert); clips
are sampled with per-clip seeds like MusicGen's (see audiogen_port). Nothing beyond the `gen` extra is needed.

backend=audiocraft (`--setting backend=audiocraft`): audiocraft's own AudioGen. `pip install audiocraft` pins torch
2.1 and fails next to a current torch; audiocraft 1.3 installs with --no-deps plus its runtime dependencies, but it
also imports torchaudio, which has no wheel for every torch (none for torch 2.13 CPU). When it cannot be imported,
asking for this backend raises ONE error saying why and how to install. audiocraft samples with the process-wide
torch RNG and takes no generator, so per-clip seeds are not possible without patching it: the RNG is seeded from
the seeds of the batch's clips inside `fork_rng` (the caller's random state is left alone); clips are reproducible
for the same batch composition, and the provenance says so.
"""

import importlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from synthaudio.errors import CheckpointError, MissingDependencyError
from synthaudio.generators.base import GenerationRequest, Generator, GeneratorSettings, as_mono
from synthaudio.generators.checkpoints import is_tiny_random, loading_errors, resolve_checkpoint
from synthaudio.seeding import derive_seed

INSTALL = ("pip install --no-deps audiocraft==1.3.0 && pip install soundfile av einops julius omegaconf hydra-core "
           "flashy num2words sentencepiece spacy torchmetrics librosa && pip install --no-deps xformers, plus a "
           "torchaudio wheel built for your torch (torchaudio has none for torch 2.13)")


def audiocraft_problem() -> str | None:
    """None when audiocraft imports, else why not (one line)."""
    if importlib.util.find_spec("audiocraft") is None:
        problem = "audiocraft is not installed (`pip install audiocraft` pins torch 2.1)"
        if importlib.util.find_spec("torchaudio") is None:
            import torch

            problem += (f", and torchaudio, which audiocraft imports, is not installed either (torchaudio has no "
                        f"working wheel for torch {torch.__version__} here)")
        return problem
    try:
        importlib.import_module("audiocraft.models")
    except ImportError as error:
        missing = getattr(error, "name", None)
        return f"audiocraft is installed but does not import: {error}" + (
            f" (it needs {missing})" if missing and missing not in str(error) else "")
    return None


def import_audiocraft():
    """audiocraft.models, or MissingDependencyError with the reason and the install command."""
    problem = audiocraft_problem()
    if problem is not None:
        if problem.startswith("audiocraft is not installed"):
            raise MissingDependencyError("audiocraft", "the audiogen generator (AudioGen)", INSTALL)
        raise MissingDependencyError("a working audiocraft", f"the audiogen generator ({problem})", INSTALL)
    return importlib.import_module("audiocraft.models")


class AudioGenSettings(GeneratorSettings):
    backend: Literal["transformers", "audiocraft"] = Field(
        "transformers", description="transformers (converted weights, per-clip seeds) or audiocraft (if installed)")
    guidance_scale: float = Field(3.0, ge=0, description="classifier-free guidance (audiocraft's cfg_coef)")
    top_k: int = Field(250, gt=0)
    temperature: float = Field(1.0, gt=0)


class AudioGenGenerator(Generator):
    name = "audiogen"
    default_checkpoint = "facebook/audiogen-medium"
    Settings = AudioGenSettings

    def _load(self) -> None:
        if self.settings.backend == "transformers":
            self._load_transformers()
        else:
            self._load_audiocraft()

    def _load_transformers(self) -> None:
        from synthaudio.generators.audiogen_port import AudioGenPort, place
        from synthaudio.generators.published import published_random_builder

        full_size = published_random_builder(self.checkpoint)
        if is_tiny_random(self.checkpoint):
            from synthaudio.generators.tiny import tiny_audiogen_port

            model, processor, facts = tiny_audiogen_port()
            self.random_weights = True
        elif full_size is not None:
            if not self.checkpoint.endswith("/audiogen-medium"):
                raise CheckpointError(f"--checkpoint {self.checkpoint}: the audiogen generator builds random "
                                      "full-size weights only as random-weights:facebook/audiogen-medium")
            model, processor, facts = full_size(self.device)
            self.random_weights = True
        else:
            from synthaudio.generators.audiogen_convert import load_converted

            folder = audiocraft_folder(self.checkpoint)
            with loading_errors(self.checkpoint):
                model, processor, facts = load_converted(folder, torch_dtype=self.torch_dtype)
        self.port = AudioGenPort(place(model, self.device, self.torch_dtype), processor, facts, self.checkpoint,
                                 self.device)
        self.native_sample_rate = self.port.sample_rate

    def _load_audiocraft(self) -> None:
        models = import_audiocraft()
        if is_tiny_random(self.checkpoint):
            from synthaudio.generators.tiny import tiny_audiogen

            model = tiny_audiogen()
            model.compression_model.to(self.device)
            model.lm.to(self.device)
            model.device = next(iter(model.lm.parameters())).device
            self.random_weights = True
        else:
            location = resolve_checkpoint(self.checkpoint)
            with loading_errors(self.checkpoint):
                model = models.AudioGen.get_pretrained(location, device=self.device)
        self.model = model
        self.model.lm.eval()
        self.model.compression_model.eval()
        self.native_sample_rate = int(model.sample_rate)

    def library_versions(self) -> dict[str, str]:
        if self.settings.backend == "transformers":
            import transformers

            return {**super().library_versions(), "transformers": transformers.__version__}
        import audiocraft

        return {**super().library_versions(), "audiocraft": audiocraft.__version__}

    def provenance(self) -> dict:
        if self.settings.backend == "transformers":
            return {**super().provenance(), "seeding": "per clip"}
        return {**super().provenance(), "seeding": "per batch (audiocraft samples with the global torch RNG)"}

    def generate(self, requests: Sequence[GenerationRequest]) -> list[np.ndarray]:
        if self.settings.backend == "transformers":
            return self.port.generate(requests, guidance_scale=self.settings.guidance_scale,
                                      top_k=self.settings.top_k, temperature=self.settings.temperature)
        return self._generate_audiocraft(requests)

    def _generate_audiocraft(self, requests: Sequence[GenerationRequest]) -> list[np.ndarray]:
        import torch

        durations = {request.duration for request in requests}
        if len(durations) != 1:
            raise ValueError(f"one duration per batch, got {sorted(durations)}")
        self.model.set_generation_params(duration=durations.pop(), use_sampling=True, top_k=self.settings.top_k,
                                         temperature=self.settings.temperature,
                                         cfg_coef=self.settings.guidance_scale)
        devices = [torch.device(self.device).index or 0] if self.device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices), self.inference():
            torch.manual_seed(derive_seed("audiogen-batch", *[request.seed for request in requests]))
            audio = self.model.generate([request.prompt for request in requests], progress=False)
        return [as_mono(clip) for clip in audio.float().cpu().numpy()]


def audiocraft_folder(checkpoint: str) -> Path:
    """The local folder holding the checkpoint's audiocraft files, downloading only those two when online."""
    from synthaudio.generators.audiogen_convert import COMPRESSION_FILE, LM_FILE

    location = resolve_checkpoint(checkpoint)
    if Path(location).is_dir():
        return Path(location)
    from huggingface_hub import snapshot_download

    with loading_errors(checkpoint):
        return Path(snapshot_download(location, allow_patterns=[LM_FILE, COMPRESSION_FILE]))
