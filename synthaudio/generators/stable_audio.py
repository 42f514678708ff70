"""Stable Audio Open through diffusers' StableAudioPipeline (stabilityai/stable-audio-open-1.0; beyond the study).

44.1 kHz stereo out (made mono by the engine). Each distinct text goes through the T5 encoder once per run (on
its own, see text_cache); every clip has its own torch.Generator (starting noise) and the scheduler's
Brownian-tree noise is seeded per clip.
The published checkpoint is gated: accept its licence on the hub, then `hf download` it. Its scheduler needs
the `torchsde` package.
"""

from collections.abc import Sequence

import numpy as np
from pydantic import Field

from synthaudio.errors import ConfigError, require
from synthaudio.generators.base import (
    GenerationRequest,
    Generator,
    GeneratorSettings,
    as_mono,
    eval_mode,
    known_warnings_silenced,
    move_pipeline,
    torch_generators,
)
from synthaudio.generators.checkpoints import is_tiny_random, loading_errors, resolve_checkpoint
from synthaudio.generators.text_cache import TextEncodingCache, pad_rows


class StableAudioSettings(GeneratorSettings):
    steps: int = Field(100, gt=0, description="denoising steps (the model card uses 100-200)")
    guidance_scale: float = Field(7.0, ge=0, description="classifier-free guidance; <= 1 turns it off")


class StableAudioGenerator(Generator):
    name = "stable-audio"
    default_checkpoint = "stabilityai/stable-audio-open-1.0"
    Settings = StableAudioSettings
    supports_negative_prompt = True

    def _load(self) -> None:
        require("torchsde", "Stable Audio's scheduler (CosineDPMSolverMultistepScheduler)", "pip install torchsde")
        from diffusers import StableAudioPipeline

        if is_tiny_random(self.checkpoint):
            from synthaudio.generators.tiny import tiny_stable_audio_pipeline

            pipe = tiny_stable_audio_pipeline()
            self.random_weights = True
        else:
            location = resolve_checkpoint(self.checkpoint)
            with loading_errors(self.checkpoint):
                pipe = StableAudioPipeline.from_pretrained(location, torch_dtype=self.torch_dtype)
        self.pipe = move_pipeline(pipe, self.device, self.torch_dtype)
        eval_mode(*self.pipe.components.values())
        self.pipe.set_progress_bar_config(disable=True)
        self.native_sample_rate = int(self.pipe.vae.config.sampling_rate)
        self.max_duration = (self.pipe.transformer.config.sample_size * self.pipe.vae.hop_length
                             / self.pipe.vae.config.sampling_rate)
        self.encodings = TextEncodingCache(self._encode_one)

    def library_versions(self) -> dict[str, str]:
        import diffusers
        import transformers

        return {**super().library_versions(), "diffusers": diffusers.__version__,
                "transformers": transformers.__version__}

    def _encode_one(self, text: str):
        """(T5 states [tokens, dim] with padding zeroed, attention mask [tokens]); the pipeline projects them."""
        import torch

        tokens = self.pipe.tokenizer([text], padding="max_length", max_length=self.pipe.tokenizer.model_max_length,
                                     truncation=True, return_tensors="pt").to(self.device)
        hidden = self.pipe.text_encoder(tokens.input_ids, attention_mask=tokens.attention_mask)[0]
        return torch.where(tokens.attention_mask.bool().unsqueeze(2), hidden, 0.0)[0], tokens.attention_mask[0]

    def generate(self, requests: Sequence[GenerationRequest]) -> list[np.ndarray]:
        durations = {request.duration for request in requests}
        if len(durations) != 1:
            raise ValueError(f"one duration per batch, got {sorted(durations)}")
        duration = durations.pop()
        if duration > self.max_duration:
            raise ConfigError(f"--duration {duration}: {self.checkpoint} generates at most {self.max_duration:.2f} s")
        negatives = {request.negative_prompt for request in requests}
        if len(negatives) > 1:  # the pipeline uses zeros, not an encoded "", where a clip has no negative prompt
            raise ValueError("one negative prompt (or none) per batch")
        negative = negatives.pop()
        guided = self.settings.guidance_scale > 1.0
        texts = [request.prompt for request in requests] + ([negative] * len(requests) if guided and negative else [])
        # torchsde's Brownian tree warns when the scheduler queries the exact ends of its interval (harmless).
        with self.inference(), known_warnings_silenced("Should have .*"):
            encodings = [self.encodings.get(text) for text in texts]
            hidden, mask = pad_rows([state for state, _ in encodings], [mask for _, mask in encodings])
            count = len(requests)
            arguments = {"prompt_embeds": hidden[:count], "attention_mask": mask[:count]}
            if guided and negative:
                arguments.update(negative_prompt_embeds=hidden[count:], negative_attention_mask=mask[count:])
            audio = self.pipe(**arguments, num_inference_steps=self.settings.steps,
                              guidance_scale=self.settings.guidance_scale, audio_end_in_s=duration,
                              num_waveforms_per_prompt=1, output_type="np",
                              generator=torch_generators([request.seed for request in requests])).audios
        return [as_mono(clip) for clip in audio]
