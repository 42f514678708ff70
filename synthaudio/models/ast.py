"""The study's recognition model: transformers' Audio Spectrogram Transformer with SSAST-Base shapes (16 x 16
patches, frequency and time stride 10, 128 mel bins x 512 frames), its patch tokens mean-pooled.

Initialisation, by the `checkpoint` option:
- an SSAST `.pth` state dict (e.g. SSAST-Base-Patch-400.pth from YuanGongND/ssast): converted from its timm ViT
  key layout, the pre-training position grid cut/interpolated to ours as SSAST's fine-tuning code does;
- a transformers AST folder or HF-cache id (e.g. MIT/ast-finetuned-audioset-10-10-0.4593): its encoder, with
  the position embeddings adapted to our grid (the head is always new);
- none: from scratch (SSAST-Base sizes unless sizes are given; tests use tiny ones).
"""

from pathlib import Path
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from synthaudio.errors import CheckpointError, ConfigError
from synthaudio.features import FeatureSettings
from synthaudio.models import parse_options

PREFIX = "audio_spectrogram_transformer."
DEIT_HEAD_SIZE = 64  # every DeiT/SSAST size (tiny 192/3, small 384/6, base 768/12) has 64-dim heads


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkpoint: str | None = Field(default=None, description="SSAST .pth, AST folder or HF-cache id")
    hidden_size: int | None = None
    num_hidden_layers: int | None = None
    num_attention_heads: int | None = None
    intermediate_size: int | None = None
    patch_size: int = 16
    frequency_stride: int = 10
    time_stride: int = 10
    dropout: float = Field(default=0.0, ge=0, lt=1)
    pooling: Literal["mean", "cls"] = "mean"
    config: dict | None = Field(default=None, description="a full ASTConfig (set when a run is reloaded)")


class ASTClassifier(nn.Module):
    """ASTForAudioClassification with SSAST's pooling.

    transformers' ASTModel pools (cls + distillation token) / 2, which is AST's and SSAST's "ft_cls" mode; SSAST's
    patch-based fine-tuning (and the study, `task="ft_avgtok"`) averages the patch tokens instead (all tokens
    after the two special ones), then the same LayerNorm + Linear head. We therefore take the encoder's
    last_hidden_state and pool it ourselves; `pooling="cls"` gives transformers' behaviour.
    """

    def __init__(self, model, pooling: str, spec: dict):
        super().__init__()
        self.ast = model
        self.pooling = pooling
        self.spec = spec

    def forward(self, inputs: torch.Tensor, valid_frames: torch.Tensor | None = None) -> torch.Tensor:
        output = self.ast.audio_spectrogram_transformer(inputs)
        if self.pooling == "mean":
            pooled = output.last_hidden_state[:, 2:].mean(dim=1)
        else:
            pooled = output.pooler_output
        return self.ast.classifier(pooled)


def grid(num_mel_bins: int, frames: int, patch: int, frequency_stride: int, time_stride: int) -> tuple[int, int]:
    """(frequency, time) patch counts of a (bins x frames) input: the conv output size."""
    return (num_mel_bins - patch) // frequency_stride + 1, (frames - patch) // time_stride + 1


def adapt_position_embeddings(positions: torch.Tensor, source: tuple[int, int], target: tuple[int, int],
                              special_tokens: int = 2) -> torch.Tensor:
    """Carry (1, special + Fs*Ts, D) position embeddings to a (Ft, Tt) patch grid: each axis cut around its
    centre when shrinking, bilinearly interpolated when growing (AST/SSAST fine-tuning; SSAST's own code has
    a hard-coded 8 and a t_dim for f_dim there, which we do not copy)."""
    special, patches = positions[:, :special_tokens], positions[:, special_tokens:]
    width = positions.shape[-1]
    if patches.shape[1] != source[0] * source[1]:
        raise CheckpointError(f"position embeddings hold {patches.shape[1]} patches, not the "
                              f"{source[0]} x {source[1]} grid the checkpoint's shapes imply")
    image = patches.detach().transpose(1, 2).reshape(1, width, source[0], source[1])
    for axis, wanted in ((3, target[1]), (2, target[0])):
        have = image.shape[axis]
        if wanted < have:
            start = have // 2 - wanted // 2
            image = image.narrow(axis, start, wanted)
        elif wanted > have:
            size = (image.shape[2], wanted) if axis == 3 else (wanted, image.shape[3])
            image = nn.functional.interpolate(image, size=size, mode="bilinear")
    return torch.cat([special, image.reshape(1, width, -1).transpose(1, 2)], dim=1).contiguous()


# ---------------------------------------------------------------- SSAST checkpoint conversion

_SSAST_BLOCK = {"norm1": "layernorm_before", "norm2": "layernorm_after", "attn.proj": "attention.o_proj",
                "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2"}
# SSAST pre-training parts with no place in a classifier
_SSAST_UNUSED = ("cpredlayer.", "gpredlayer.", "mask_embed", "p_input_fdim", "p_input_tdim", "v.head.",
                 "v.head_dist.", "mlp_head.")


def load_ssast_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle / zip errors vary by torch version
        raise CheckpointError(f"{path}: cannot read as a PyTorch state dict ({error.__class__.__name__}: "
                              f"{error}); expected an SSAST .pth such as SSAST-Base-Patch-400.pth") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: holds a {type(state).__name__}, not a state dict")
    # saved from torch.nn.DataParallel: every key starts with "module."
    return {key.removeprefix("module."): value for key, value in state.items()}


def convert_ssast(state: dict[str, torch.Tensor], path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """SSAST (timm ViT) keys -> transformers AST encoder keys, plus the shapes read from them.

    Returns:
        (state dict of ASTModel with the pre-training position grid, {hidden_size, num_hidden_layers,
        intermediate_size, patch_size, grid, layer_norm_eps})
    """
    needed = ("v.cls_token", "v.pos_embed", "v.patch_embed.proj.weight", "p_input_fdim", "p_input_tdim")
    missing = [key for key in needed if key not in state]
    if missing:
        raise CheckpointError(f"{path}: not an SSAST pre-trained checkpoint (missing {', '.join(missing)}); "
                              f"use one of the SSAST-*-400.pth files or a transformers AST folder")
    if "v.dist_token" not in state:
        raise CheckpointError(f"{path}: SSAST checkpoint without a distillation token (model_size base384_nokd); "
                              f"transformers' AST always has two special tokens: use a DeiT-based SSAST model")
    projection = state["v.patch_embed.proj.weight"]
    patch_f, patch_t = projection.shape[2:]
    if patch_f != patch_t:
        raise CheckpointError(f"{path}: SSAST frame-based checkpoint ({patch_f} x {patch_t} patches); transformers' "
                              f"AST only has square patches: use a patch-based one (SSAST-*-Patch-400.pth)")
    # pre-training never overlaps patches: stride == patch size
    source_grid = grid(int(state["p_input_fdim"]), int(state["p_input_tdim"]), patch_f, patch_f, patch_f)
    converted = {
        "embeddings.cls_token": state["v.cls_token"],
        "embeddings.distillation_token": state["v.dist_token"],
        "embeddings.position_embeddings": state["v.pos_embed"],
        "embeddings.patch_embeddings.projection.weight": projection,
        "embeddings.patch_embeddings.projection.bias": state["v.patch_embed.proj.bias"],
        "layernorm.weight": state["v.norm.weight"],
        "layernorm.bias": state["v.norm.bias"],
    }
    layers = sorted({int(key.split(".")[2]) for key in state if key.startswith("v.blocks.")})
    hidden = projection.shape[0]
    for layer in layers:
        old, new = f"v.blocks.{layer}.", f"layers.{layer}."
        for part in ("weight", "bias"):
            # timm's fused projection stacks query, key and value along the output dimension
            query, key, value = state[f"{old}attn.qkv.{part}"].split(hidden, dim=0)
            converted[f"{new}attention.q_proj.{part}"] = query
            converted[f"{new}attention.k_proj.{part}"] = key
            converted[f"{new}attention.v_proj.{part}"] = value
            for source, target in _SSAST_BLOCK.items():
                converted[f"{new}{target}.{part}"] = state[f"{old}{source}.{part}"]
    used = {"v.cls_token", "v.dist_token", "v.pos_embed", "v.patch_embed.proj.weight", "v.patch_embed.proj.bias",
            "v.norm.weight", "v.norm.bias"}
    unknown = [key for key in state if key not in used and not key.startswith("v.blocks.")
               and not key.startswith(_SSAST_UNUSED)]
    if unknown:
        raise CheckpointError(f"{path}: unexpected SSAST keys {unknown[:5]}; is this an SSAST checkpoint?")
    shapes = {"hidden_size": hidden, "num_hidden_layers": len(layers),
              "intermediate_size": state[f"v.blocks.{layers[0]}.mlp.fc1.weight"].shape[0],
              "patch_size": patch_f, "grid": source_grid, "layer_norm_eps": 1e-6}  # timm ViT LayerNorm eps
    return converted, shapes


# ---------------------------------------------------------------- building

def _config(num_classes: int, features: FeatureSettings, options: Options, base: dict | None = None):
    from transformers import ASTConfig

    values = dict(base or {})
    values.pop("id2label", None)
    values.pop("label2id", None)
    sizes = {"hidden_size": 768, "num_hidden_layers": 12, "intermediate_size": 3072}  # SSAST-Base
    for name, default in sizes.items():
        chosen = getattr(options, name)
        values[name] = chosen if chosen is not None else values.get(name, default)
    heads = options.num_attention_heads or values.get("num_attention_heads") or values["hidden_size"] // DEIT_HEAD_SIZE
    if heads < 1 or values["hidden_size"] % heads:
        raise ConfigError(f"model 'ast': hidden_size {values['hidden_size']} is not divisible into "
                          f"{heads} attention heads; set num_attention_heads")
    values.update(num_attention_heads=heads, num_labels=num_classes, num_mel_bins=features.num_mel_bins,
                  max_length=features.target_frames, frequency_stride=options.frequency_stride,
                  time_stride=options.time_stride, hidden_dropout_prob=options.dropout,
                  attention_probs_dropout_prob=options.dropout)
    values.setdefault("patch_size", options.patch_size)
    values.setdefault("layer_norm_eps", 1e-6)
    if features.num_mel_bins < values["patch_size"] or features.target_frames < values["patch_size"]:
        raise ConfigError(f"model 'ast': input {features.num_mel_bins} bins x {features.target_frames} frames is "
                          f"smaller than one {values['patch_size']} x {values['patch_size']} patch")
    return ASTConfig.from_dict(values)


def _from_transformers(source: str) -> tuple[dict[str, torch.Tensor], dict]:
    from transformers import ASTForAudioClassification

    try:
        model = ASTForAudioClassification.from_pretrained(source)
    except (OSError, ValueError) as error:
        raise CheckpointError(
            f"AST checkpoint '{source}' could not be loaded ({str(error).splitlines()[0][:200]}); pass a local "
            f"folder, an SSAST .pth, or download it first (huggingface-cli download {source})") from None
    config = model.config.to_dict()
    state = {key.removeprefix(PREFIX): value for key, value in model.state_dict().items() if key.startswith(PREFIX)}
    source_grid = grid(config["num_mel_bins"], config["max_length"], config["patch_size"],
                       config["frequency_stride"], config["time_stride"])
    keep = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act",
            "patch_size", "layer_norm_eps", "qkv_bias")
    return state, {**{name: config[name] for name in keep}, "grid": source_grid}


def build(num_classes: int, features: FeatureSettings, **options) -> ASTClassifier:
    from transformers import ASTForAudioClassification

    parsed = parse_options("ast", Options, options)
    if features.kind != "kaldi_fbank":
        raise ConfigError("model 'ast' reads Kaldi fbank features (features.kind = kaldi_fbank)")
    state, shapes = None, {}
    if parsed.checkpoint:
        path = Path(parsed.checkpoint).expanduser()
        if path.is_file():
            state, shapes = convert_ssast(load_ssast_state_dict(path), path)
        else:
            state, shapes = _from_transformers(parsed.checkpoint)
    base = parsed.config or {name: value for name, value in shapes.items() if name != "grid"}
    config = _config(num_classes, features, parsed, base)
    model = ASTForAudioClassification(config)
    embeddings = model.audio_spectrogram_transformer.embeddings
    if state is not None:
        target_grid = grid(config.num_mel_bins, config.max_length, config.patch_size, config.frequency_stride,
                           config.time_stride)
        state["embeddings.position_embeddings"] = adapt_position_embeddings(
            state["embeddings.position_embeddings"], shapes["grid"], target_grid)
        result = model.audio_spectrogram_transformer.load_state_dict(state, strict=False)
        if result.missing_keys or result.unexpected_keys:
            raise CheckpointError(f"{parsed.checkpoint}: does not fit transformers' AST (missing "
                                  f"{result.missing_keys[:3]}, unexpected {result.unexpected_keys[:3]})")
    elif parsed.config is None:
        # from scratch: timm/SSAST draw the tokens and positions from N(0, 0.02); transformers zeroes them,
        # which leaves the patches without any position information at the start
        for parameter in (embeddings.cls_token, embeddings.distillation_token, embeddings.position_embeddings):
            nn.init.trunc_normal_(parameter, std=0.02)
    spec = {"config": {k: v for k, v in config.to_dict().items() if k not in ("id2label", "label2id")},
            "pooling": parsed.pooling, "dropout": parsed.dropout, "patch_size": config.patch_size,
            "frequency_stride": parsed.frequency_stride, "time_stride": parsed.time_stride}
    return ASTClassifier(model, parsed.pooling, spec)


def adapt_features(features: FeatureSettings, **options) -> FeatureSettings:
    return features

