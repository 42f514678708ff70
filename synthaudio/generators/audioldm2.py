"""AudioLDM 2 through diffusers' AudioLDM2Pipeline (default cvssp/audioldm2-large, as in the study).

Text encoding (CLAP + Flan-T5 + the GPT-2 that writes the 8 "language of audio" tokens) runs once per distinct
text and is cached across batches: label-guided prompts repeat, so a whole label costs one encoding instead of
two per clip (prompt and guidance). Each text is encoded on its own, never padded next to other prompts: in a
batched encoding GPT-2 sees the padding of the longest prompt in the middle of its input (position ids shift),
so a clip's conditioning would depend on its batch neighbours. Flan-T5 states are zero-padded to the batch's
longest afterwards, under an attention mask the UNet honours. Every clip has its own torch.Generator, so its
starting noise depends on its seed only. One waveform per prompt, always: with several waveforms per prompt
diffusers re-ranks them with CLAP across the whole batch and can hand one prompt's audio to another.
"""

from collections.abc import Sequence

import numpy as np
from pydantic import Field

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
from synthaudio.generators.published import published_random_builder
from synthaudio.generators.text_cache import TextEncodingCache, pad_rows


class AudioLDM2Settings(GeneratorSettings):
    steps: int = Field(50, gt=0, description="DDIM steps (the study used 50)")
    guidance_scale: float = Field(3.5, ge=0, description="classifier-free guidance; <= 1 turns it off")


class AudioLDM2Generator(Generator):
    name = "audioldm2"
    default_checkpoint = "cvssp/audioldm2-large"
    Settings = AudioLDM2Settings
    supports_negative_prompt = True

    def _load(self) -> None:
        from diffusers import AudioLDM2Pipeline

        full_size = published_random_builder(self.checkpoint)
        if is_tiny_random(self.checkpoint):
            from synthaudio.generators.tiny import tiny_audioldm2_pipeline

            pipe = tiny_audioldm2_pipeline()
            self.random_weights = True
        elif full_size is not None:
            pipe = full_size(self.device)
            self.random_weights = True
        else:
            location = resolve_checkpoint(self.checkpoint)
            with loading_errors(self.checkpoint):
                pipe = AudioLDM2Pipeline.from_pretrained(location, torch_dtype=self.torch_dtype)
        self.pipe = move_pipeline(pipe, self.device, self.torch_dtype)
        eval_mode(*self.pipe.components.values())
        self.pipe.set_progress_bar_config(disable=True)
        self.native_sample_rate = int(self.pipe.vocoder.config.sampling_rate)
        self.encodings = TextEncodingCache(self._encode_one)

    def library_versions(self) -> dict[str, str]:
        import diffusers
        import transformers

        return {**super().library_versions(), "diffusers": diffusers.__version__,
                "transformers": transformers.__version__}

    def _encode_one(self, text: str):
        """(Flan-T5 states [tokens, dim], their mask [tokens], GPT-2 generated states [8, dim]) of one text."""
        embeds, mask, generated = self.pipe.encode_prompt([text], self.pipe._execution_device,
                                                          num_waveforms_per_prompt=1,
                                                          do_classifier_free_guidance=False)
        return embeds[0], mask[0], generated[0]

    def _conditioning(self, texts: list[str]):
        """Batched (T5 states, mask, generated states) for `texts` (repeats allowed), from the cache."""
        import torch

        encodings = [self.encodings.get(text) for text in texts]
        states, mask = pad_rows([encoding[0] for encoding in encodings], [encoding[1] for encoding in encodings])
        return states, mask, torch.stack([encoding[2] for encoding in encodings])

    def generate(self, requests: Sequence[GenerationRequest]) -> list[np.ndarray]:
        durations = {request.duration for request in requests}
        if len(durations) != 1:
            raise ValueError(f"one duration per batch, got {sorted(durations)}")
        guided = self.settings.guidance_scale > 1.0
        prompts = [request.prompt for request in requests]
        negatives = [request.negative_prompt or "" for request in requests]  # "" is the pipeline's own default
        count = len(requests)
        # diffusers 0.42 still passes GPT-2 `past_key_values`, deprecated (not yet removed) in transformers 5.2x.
        with self.inference(), known_warnings_silenced(".*past_key_values.*"):
            states, mask, generated = self._conditioning(prompts + (negatives if guided else []))
            arguments = {"prompt_embeds": states[:count], "attention_mask": mask[:count],
                         "generated_prompt_embeds": generated[:count]}
            if guided:
                arguments.update(negative_prompt_embeds=states[count:], negative_attention_mask=mask[count:],
                                 negative_generated_prompt_embeds=generated[count:])
            audio = self.pipe(**arguments, num_inference_steps=self.settings.steps,
                              guidance_scale=self.settings.guidance_scale, audio_length_in_s=durations.pop(),
                              num_waveforms_per_prompt=1, output_type="np",
                              generator=torch_generators([request.seed for request in requests])).audios
        return [as_mono(clip) for clip in audio]
