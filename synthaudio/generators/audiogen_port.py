"""AudioGen on transformers' MusicGen classes: build from audiocraft configurations, place on a device, generate.

The converted model (see audiogen_convert) is a `MusicgenForConditionalGeneration`; generation reuses MusicGen's
per-clip sampler, so a clip depends on its own seed only, whatever its batch or shard: greedy decoding plus Gumbel
noise from each clip's torch.Generator, top-k and temperature applied to the guided logits as audiocraft does.

Text padding: audiocraft zeroes padded text positions but still lets the LM attend to them, so its clips change
with the longest prompt of their batch; the port masks padding in cross-attention (transformers' behaviour), which
gives every clip what audiocraft gives it alone in a batch.

Length: AudioGen was trained on fixed segments (10 s for audiogen-medium); longer clips need audiocraft's windowed
continuation, which this port does not do, so a longer duration is refused with the limit and the way out.
"""

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from synthaudio.errors import ConfigError
from synthaudio.generators.base import GenerationRequest, as_mono, torch_generators


def build_from_xp_configs(lm_cfg: dict, compression_cfg: dict, text_config, tokenizer, source: str):
    """(model, processor, facts) with RANDOM weights, shaped by audiocraft configurations (as in `xp.cfg`)."""
    from transformers import (
        EncodecFeatureExtractor,
        MusicgenConfig,
        MusicgenForConditionalGeneration,
        MusicgenProcessor,
    )

    from synthaudio.generators.audiogen_convert import AudioGenFacts, decoder_config, encodec_config

    decoder = decoder_config(lm_cfg, Path(source))
    audio = encodec_config(compression_cfg, Path(source))
    model = MusicgenForConditionalGeneration(
        MusicgenConfig(text_encoder=text_config.to_dict(), audio_encoder=audio.to_dict(),
                       decoder=decoder.to_dict())).eval()
    # EnCodec's codebooks are learnt by k-means and start as zeros: random entries make codes decode to different audio
    for layer in model.audio_encoder.quantizer.layers:
        layer.codebook.embed.normal_()
    model.generation_config.decoder_start_token_id = decoder.bos_token_id
    model.generation_config.pad_token_id = decoder.pad_token_id
    processor = MusicgenProcessor(feature_extractor=EncodecFeatureExtractor(feature_size=1,
                                                                            sampling_rate=audio.sampling_rate),
                                  tokenizer=tokenizer)
    facts = AudioGenFacts(segment_duration=float(lm_cfg["dataset"]["segment_duration"]),
                          guidance_scale=float(lm_cfg["classifier_free_guidance"]["inference_coef"]),
                          top_k=int(lm_cfg["generate"]["lm"]["top_k"]),
                          text_encoder=lm_cfg["conditioners"]["description"]["t5"]["name"])
    return model, processor, facts


def place(model, device: str, torch_dtype):
    """The model on `device` in `torch_dtype`, except T5, which stays float32 (it overflows in float16, and audiocraft
    runs it in float32 too); its output is cast where it enters the projection to the LM's width."""
    import torch

    model = model.to(device, torch_dtype)
    if torch_dtype is not None and torch_dtype != torch.float32:
        model.text_encoder.float()
        model.enc_to_dec_proj.register_forward_pre_hook(
            lambda module, args: tuple(arg.to(module.weight.dtype) if torch.is_tensor(arg) else arg for arg in args))
    for module in model.modules():
        module.eval()
    return model


class AudioGenPort:
    """A loaded AudioGen on transformers: model, processor and the checkpoint's generation facts."""

    def __init__(self, model, processor, facts, checkpoint: str, device: str):
        self.model, self.processor, self.facts = model, processor, facts
        self.checkpoint, self.device = checkpoint, device
        audio = model.config.audio_encoder
        self.sample_rate = int(audio.sampling_rate)
        self.frame_rate = float(audio.frame_rate)
        self.num_codebooks = int(model.decoder.num_codebooks)
        decode_batch = model.audio_encoder.decode

        def decode_clip_by_clip(audio_codes, audio_scales=None, **kwargs):
            # A batched convolution rounds differently from a one-clip one (about 1e-7), which is enough to flip
            # 16-bit samples: decoding each clip alone keeps a clip's WAV independent of its batch. The LM's hundreds
            # of steps, not this one pass, are the cost of generation.
            import torch
            from transformers.models.encodec.modeling_encodec import EncodecDecoderOutput

            # audio_scales are per chunk of frames, not per clip (one chunk, no scale, for AudioGen's EnCodec)
            clips = [decode_batch(audio_codes[:, index:index + 1], audio_scales, **kwargs).audio_values
                     for index in range(audio_codes.shape[1])]
            return EncodecDecoderOutput(audio_values=torch.cat(clips))

        model.audio_encoder.decode = decode_clip_by_clip

    def max_new_tokens(self, duration: float) -> int:
        """Frames for `duration` plus the delay pattern's offset; ConfigError past the trained segment."""
        if duration > self.facts.segment_duration + 1e-9:
            limit = f"{self.facts.segment_duration:g}"
            raise ConfigError(f"--duration {duration:g}: {self.checkpoint} was trained on {limit}-s clips and the "
                              f"transformers port has no windowed continuation; use --duration {limit} or less "
                              "(or --setting backend=audiocraft, whose generate() extends clips)")
        return math.ceil(self.frame_rate * duration) + self.num_codebooks - 1

    def generate(self, requests: Sequence[GenerationRequest], guidance_scale: float, top_k: int,
                 temperature: float) -> list[np.ndarray]:
        import torch

        from synthaudio.generators.sampling import gumbel_sampler, processors_after_guidance

        durations = {request.duration for request in requests}
        if len(durations) != 1:
            raise ValueError(f"one duration per batch, got {sorted(durations)}")
        max_new_tokens = self.max_new_tokens(durations.pop())
        inputs = self.processor(text=[request.prompt for request in requests], padding=True, return_tensors="pt")
        generators = torch_generators([request.seed for request in requests], self.device)
        sampler = gumbel_sampler(generators, self.num_codebooks, top_k, temperature)
        with torch.inference_mode():
            audio = self.model.generate(
                **inputs.to(self.device), do_sample=False, top_k=None, top_p=None, temperature=None,
                guidance_scale=guidance_scale, max_new_tokens=max_new_tokens,
                logits_processor=processors_after_guidance(sampler))
        return [as_mono(clip) for clip in audio.float().cpu().numpy()]
