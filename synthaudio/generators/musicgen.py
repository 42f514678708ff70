"""MusicGen through transformers' MusicgenForConditionalGeneration (default facebook/musicgen-medium).

Sampling is done with per-clip seeds: transformers samples with the process-wide torch RNG, so one clip's audio
would depend on the other clips of its batch and on everything that ran before. Instead generation runs in greedy
mode with a final logits processor that adds Gumbel noise drawn from each clip's own torch.Generator:
argmax(logits / T + Gumbel) is an exact sample from softmax(logits / T) (restricted to the top k, as in
audiocraft's sampler that the study used: top_k 250, temperature 1, guidance 3).

Prompts are not de-duplicated here: the T5 text encoder runs once per batch inside generate() (one forward pass,
padding masked in cross-attention), against hundreds of 4-codebook decoder steps, so it is well under 1% of the
time; replacing it with pre-computed states would mean re-implementing generate()'s guidance set-up.
"""

import math
from collections.abc import Sequence

import numpy as np
from pydantic import Field

from synthaudio.errors import ConfigError
from synthaudio.generators.base import (
    GenerationRequest,
    Generator,
    GeneratorSettings,
    as_mono,
    eval_mode,
    torch_generators,
)
from synthaudio.generators.checkpoints import is_tiny_random, loading_errors, resolve_checkpoint
from synthaudio.generators.published import published_random_builder
from synthaudio.generators.sampling import gumbel_sampler, processors_after_guidance


class MusicGenSettings(GeneratorSettings):
    guidance_scale: float = Field(3.0, ge=0, description="classifier-free guidance (audiocraft's cfg_coef)")
    top_k: int = Field(250, gt=0, description="sample among the k most likely codes (audiocraft's default)")
    temperature: float = Field(1.0, gt=0)


class MusicGenGenerator(Generator):
    name = "musicgen"
    default_checkpoint = "facebook/musicgen-medium"
    Settings = MusicGenSettings

    def _load(self) -> None:
        from transformers import AutoProcessor, MusicgenForConditionalGeneration

        full_size = published_random_builder(self.checkpoint)
        if is_tiny_random(self.checkpoint):
            from synthaudio.generators.tiny import tiny_musicgen

            model, processor = tiny_musicgen()
            self.random_weights = True
        elif full_size is not None:
            model, processor = full_size(self.device)
            self.random_weights = True
        else:
            location = resolve_checkpoint(self.checkpoint)
            with loading_errors(self.checkpoint):
                model = MusicgenForConditionalGeneration.from_pretrained(location, torch_dtype=self.torch_dtype)
                processor = AutoProcessor.from_pretrained(location)
        self.model = model.to(self.device, self.torch_dtype)
        eval_mode(self.model)
        self.processor = processor
        audio_config = self.model.config.audio_encoder
        self.native_sample_rate = int(audio_config.sampling_rate)
        self.frame_rate = float(audio_config.frame_rate)
        self.num_codebooks = int(self.model.decoder.num_codebooks)
        self.max_positions = int(self.model.config.decoder.max_position_embeddings)

    def library_versions(self) -> dict[str, str]:
        import transformers

        return {**super().library_versions(), "transformers": transformers.__version__}

    def max_new_tokens(self, duration: float) -> int:
        """Audio frames for `duration` plus the delay pattern's offset (one step per extra codebook)."""
        tokens = math.ceil(self.frame_rate * duration) + self.num_codebooks - 1
        if tokens >= self.max_positions:
            longest = (self.max_positions - self.num_codebooks) / self.frame_rate
            raise ConfigError(f"--duration {duration}: {self.checkpoint} generates at most {longest:.1f} s per clip")
        return tokens

    def generate(self, requests: Sequence[GenerationRequest]) -> list[np.ndarray]:
        durations = {request.duration for request in requests}
        if len(durations) != 1:
            raise ValueError(f"one duration per batch, got {sorted(durations)}")
        inputs = self.processor(text=[request.prompt for request in requests], padding=True, return_tensors="pt")
        generators = torch_generators([request.seed for request in requests], self.device)
        sampler = gumbel_sampler(generators, self.num_codebooks, self.settings.top_k, self.settings.temperature)
        with self.inference():
            audio = self.model.generate(
                **inputs.to(self.device), do_sample=False, top_k=None, top_p=None, temperature=None,
                guidance_scale=self.settings.guidance_scale, max_new_tokens=self.max_new_tokens(durations.pop()),
                logits_processor=processors_after_guidance(sampler))
        return [as_mono(clip) for clip in audio.float().cpu().numpy()]
