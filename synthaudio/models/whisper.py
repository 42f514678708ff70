"""Whisper encoder classifier for speech tasks, as the study's (usc-sail/SynthAudio models/whisper.py): the
transformers Whisper encoder (frozen by default, as there), a softmax-weighted sum of its layer outputs, a
frame-wise MLP, mean pooling over the frames that hold audio, and a two-layer head.

Input: Whisper's own log-mel (WhisperFeatureExtractor; 80 or 128 bins as the checkpoint says). The encoder only
accepts exactly 2 x max_source_positions frames (3000 = 30 s for released checkpoints). Short clips are padded to
that window; `window_seconds` instead shortens the window (keeping the first positional embeddings), which is
what the study's code does for 1-s keywords and <= 10-s utterances, and is 30x cheaper for 1-s clips.
"""

import math

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from synthaudio.errors import CheckpointError, ConfigError
from synthaudio.features import FeatureSettings
from synthaudio.models import parse_options

FRAMES_PER_SECOND = 100  # Whisper's 10-ms hop
BASE_SIZES = {"d_model": 512, "encoder_layers": 6, "encoder_attention_heads": 8, "encoder_ffn_dim": 2048,
              "num_mel_bins": 80, "max_source_positions": 1500}  # openai/whisper-base


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkpoint: str | None = Field(default=None, description="local folder or HF-cache id, e.g. openai/whisper-base")
    window_seconds: float | None = Field(default=None, gt=0, description="None: the checkpoint's full window")
    freeze_encoder: bool = True
    include_embedding_output: bool = Field(default=False, description="weigh the conv/embedding output too")
    head_size: int = Field(default=256, gt=0)
    dropout: float = Field(default=0.1, ge=0, lt=1)
    # from-scratch / tiny sizes (ignored with a checkpoint)
    d_model: int | None = None
    encoder_layers: int | None = None
    encoder_attention_heads: int | None = None
    encoder_ffn_dim: int | None = None
    num_mel_bins: int | None = None
    max_source_positions: int | None = None
    config: dict | None = Field(default=None, description="a full WhisperConfig (set when a run is reloaded)")


def _load_config(options: Options):
    from transformers import WhisperConfig

    if options.config is not None:
        return WhisperConfig.from_dict(options.config)
    if options.checkpoint:
        try:
            return WhisperConfig.from_pretrained(options.checkpoint)
        except (OSError, ValueError) as error:
            raise CheckpointError(
                f"Whisper checkpoint '{options.checkpoint}' could not be loaded ({str(error).splitlines()[0][:200]});"
                f" pass a local folder or download it first (huggingface-cli download {options.checkpoint})") from None
    sizes = {name: getattr(options, name) if getattr(options, name) is not None else default
             for name, default in BASE_SIZES.items()}
    return WhisperConfig(**sizes, decoder_layers=1, decoder_attention_heads=sizes["encoder_attention_heads"],
                         decoder_ffn_dim=sizes["encoder_ffn_dim"])


def _window_positions(config, options: Options) -> int:
    """Encoder positions of the window: all of the checkpoint's, or `window_seconds` worth (50 per second)."""
    if options.window_seconds is None:
        return config.max_source_positions
    positions = math.ceil(options.window_seconds * FRAMES_PER_SECOND / 2)
    if positions > config.max_source_positions:
        raise ConfigError(f"model 'whisper': window_seconds {options.window_seconds} exceeds the encoder's "
                          f"{config.max_source_positions * 2 / FRAMES_PER_SECOND:g} s")
    return positions


def adapt_features(features: FeatureSettings, **options) -> FeatureSettings:
    """Whisper's log-mel with the encoder's bin count and window; already normalised by Whisper's own rule."""
    parsed = parse_options("whisper", Options, options)
    config = _load_config(parsed)
    return features.model_copy(update={"kind": "whisper_logmel", "num_mel_bins": config.num_mel_bins,
                                       "target_frames": 2 * _window_positions(config, parsed),
                                       "normalisation": "none"})


class WhisperClassifier(nn.Module):
    def __init__(self, encoder, num_classes: int, options: Options, spec: dict):
        super().__init__()
        self.encoder = encoder
        self.include_embedding_output = options.include_embedding_output
        if options.freeze_encoder:
            encoder.requires_grad_(False)
        self.freeze_encoder = options.freeze_encoder
        layers = encoder.config.encoder_layers + (1 if options.include_embedding_output else 0)
        self.layer_weights = nn.Parameter(torch.zeros(layers))
        width, size = encoder.config.d_model, options.head_size
        # the study's three point-wise 1x1 convolutions, written as frame-wise linear layers
        self.frame_mlp = nn.Sequential(nn.Linear(width, size), nn.ReLU(), nn.Dropout(options.dropout),
                                       nn.Linear(size, size), nn.ReLU(), nn.Dropout(options.dropout),
                                       nn.Linear(size, size))
        self.head = nn.Sequential(nn.Linear(size, size), nn.ReLU(), nn.Linear(size, num_classes))
        self.spec = spec

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_encoder:
            self.encoder.eval()  # a frozen encoder keeps its dropout off
        return self

    def forward(self, inputs: torch.Tensor, valid_frames: torch.Tensor | None = None) -> torch.Tensor:
        hidden = self.encoder(inputs, output_hidden_states=True).hidden_states
        stacked = torch.stack(hidden if self.include_embedding_output else hidden[1:], dim=0)
        weights = torch.softmax(self.layer_weights, dim=0).view(-1, 1, 1, 1)
        frames = self.frame_mlp((weights * stacked).sum(dim=0))  # (batch, positions, size)
        positions = frames.shape[1]
        if valid_frames is None:
            return self.head(frames.mean(dim=1))
        # the stride-2 convolution maps mel frames to positions as the study computes it: (n - 1) // 2 + 1
        valid = ((valid_frames.to(frames.device) - 1) // 2 + 1).clamp(1, positions)
        mask = (torch.arange(positions, device=frames.device).unsqueeze(0) < valid.unsqueeze(1)).to(frames.dtype)
        pooled = (frames * mask.unsqueeze(-1)).sum(dim=1) / valid.unsqueeze(1).to(frames.dtype)
        return self.head(pooled)


def _pretrained_encoder(checkpoint: str):
    from transformers import WhisperModel

    try:
        return WhisperModel.from_pretrained(checkpoint).encoder
    except (OSError, ValueError) as error:
        raise CheckpointError(
            f"Whisper checkpoint '{checkpoint}' could not be loaded ({str(error).splitlines()[0][:200]}); pass a "
            f"local folder or download it first (huggingface-cli download {checkpoint})") from None


def build(num_classes: int, features: FeatureSettings, **options) -> WhisperClassifier:
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    parsed = parse_options("whisper", Options, options)
    config = _load_config(parsed)
    positions = _window_positions(config, parsed)
    if features.kind != "whisper_logmel" or features.target_frames != 2 * positions:
        raise ConfigError("model 'whisper' reads its own log-mel; build its features with feature_settings_for")
    window_config = config.__class__.from_dict({**config.to_dict(), "max_source_positions": positions})
    encoder = WhisperEncoder(window_config)
    if parsed.checkpoint and parsed.config is None:
        state = _pretrained_encoder(parsed.checkpoint).state_dict()
        # a shorter window keeps the first positional embeddings (the study's code does the same)
        state["embed_positions.weight"] = state["embed_positions.weight"][:positions]
        encoder.load_state_dict(state)
    spec = parsed.model_dump(mode="json", exclude={"checkpoint", "config"})
    spec["config"] = {k: v for k, v in config.to_dict().items() if k not in ("id2label", "label2id")}
    return WhisperClassifier(encoder, num_classes, parsed, spec)
