"""Tiny AudioGen checkpoints in audiocraft's published format, built with audiocraft's own builders.

`write_tiny_audiogen(folder)` writes `state_dict.bin` and `compression_state_dict.bin` exactly as
facebook/audiogen-medium ships them ({'xp.cfg': ..., 'best_state': ...}), from a configuration with the
published model's structure (delay pattern, 4 codebooks, T5 cross-attention conditioning whose width differs from
the LM's, pre-norm, no biases, 16 kHz SEANet [8, 5, 4, 2] with 2 LSTM layers) at a few thousand parameters.

audiocraft's T5Conditioner only takes hub names and downloads them; here `from_pretrained` inside audiocraft's
conditioners module is pointed at a tiny T5 saved in the same folder (`text_encoder/`), which the converter is
also given, so both sides run the same text encoder. Import this only with audiocraft importable.
"""

import contextlib
from pathlib import Path

import torch

CARD = 64


def lm_config(text_encoder_name: str = "t5-small") -> dict:
    return {
        "solver": "audiogen", "sample_rate": 16000, "channels": 1, "device": "cpu", "dtype": "float32",
        "dataset": {"segment_duration": 10},
        "lm_model": "transformer_lm",
        "codebooks_pattern": {"modeling": "delay", "delay": {"delays": [0, 1, 2, 3], "flatten_first": 0,
                                                             "empty_initial": 0}},
        "transformer_lm": {
            "dim": 24, "num_heads": 2, "num_layers": 2, "hidden_scale": 4, "n_q": 4, "card": CARD, "dropout": 0.0,
            "emb_lr": None, "activation": "gelu", "norm_first": True, "bias_ff": False, "bias_attn": False,
            "bias_proj": False, "past_context": None, "causal": True, "custom": False, "memory_efficient": True,
            "attention_as_float32": False, "layer_scale": None, "positional_embedding": "sin", "xpos": False,
            "checkpointing": "none", "weight_init": "gaussian", "depthwise_init": "current", "zero_bias_init": True,
            "norm": "layer_norm", "cross_attention": False, "qk_layer_norm": False, "qk_layer_norm_cross": False,
            "attention_dropout": None, "kv_repeat": 1, "two_step_cfg": False},
        "classifier_free_guidance": {"training_dropout": 0.1, "inference_coef": 3.0},
        "attribute_dropout": {},
        "fuser": {"cross_attention_pos_emb": False, "cross_attention_pos_emb_scale": 1, "sum": [], "prepend": [],
                  "cross": ["description"], "input_interpolate": []},
        "conditioners": {"description": {"model": "t5", "t5": {"name": text_encoder_name, "finetune": False,
                                                                "word_dropout": 0.0, "normalize_text": False}}},
        "generate": {"lm": {"use_sampling": True, "top_k": 250, "top_p": 0.0}},
    }


def compression_config() -> dict:
    return {
        "solver": "compression", "sample_rate": 16000, "channels": 1, "device": "cpu",
        "compression_model": "encodec",
        "encodec": {"autoencoder": "seanet", "quantizer": "rvq", "sample_rate": 16000, "channels": 1,
                    "causal": False, "renormalize": False},
        "seanet": {"dimension": 16, "channels": 1, "causal": False, "n_filters": 4, "n_residual_layers": 1,
                   "ratios": [8, 5, 4, 2], "activation": "ELU", "activation_params": {"alpha": 1.0},
                   "norm": "weight_norm", "norm_params": {}, "kernel_size": 7, "residual_kernel_size": 3,
                   "last_kernel_size": 7, "dilation_base": 2, "pad_mode": "constant", "true_skip": True,
                   "compress": 2, "lstm": 2, "disable_norm_outer_blocks": 0,
                   "decoder": {"trim_right_ratio": 1.0, "final_activation": None, "final_activation_params": None},
                   "encoder": {}},
        "rvq": {"n_q": 4, "q_dropout": False, "bins": CARD, "decay": 0.99, "kmeans_init": True, "kmeans_iters": 50,
                "threshold_ema_dead_code": 2, "orthogonal_reg_weight": 0.0,
                "orthogonal_reg_active_codes_only": False},
    }


def write_tiny_text_encoder(folder: Path) -> Path:
    from transformers import T5Config, T5EncoderModel

    from synthaudio.generators.tiny import character_t5_tokenizer

    torch.manual_seed(1)
    # audiocraft sizes its projection from the T5 name (t5-small: 512), so the tiny T5 is 512 wide, thin inside
    encoder = T5EncoderModel(T5Config(vocab_size=256, d_model=512, d_ff=37, d_kv=8, num_heads=2, num_layers=2))
    encoder.save_pretrained(folder)
    character_t5_tokenizer().save_pretrained(folder)
    return folder


@contextlib.contextmanager
def audiocraft_t5_from(folder: Path):
    """Make audiocraft's T5Conditioner load its tokenizer and encoder from `folder` instead of the hub."""
    from audiocraft.modules import conditioners
    from transformers import T5EncoderModel, T5Tokenizer

    saved = conditioners.T5Tokenizer, conditioners.T5EncoderModel

    class Tokenizer:
        @staticmethod
        def from_pretrained(name, *args, **kwargs):
            return T5Tokenizer.from_pretrained(folder)

    class Encoder:
        @staticmethod
        def from_pretrained(name, *args, **kwargs):
            return T5EncoderModel.from_pretrained(folder)

    conditioners.T5Tokenizer, conditioners.T5EncoderModel = Tokenizer, Encoder
    try:
        yield
    finally:
        conditioners.T5Tokenizer, conditioners.T5EncoderModel = saved


def build_audiocraft_models(text_encoder: Path, seed: int = 0):
    """(LMModel, EncodecModel) from audiocraft's builders with random weights (codebooks too)."""
    from audiocraft.models import builders
    from omegaconf import OmegaConf

    torch.manual_seed(seed)
    with audiocraft_t5_from(text_encoder):
        lm = builders.get_lm_model(OmegaConf.create(lm_config())).eval()
    compression = builders.get_compression_model(OmegaConf.create(compression_config())).eval()
    for layer in compression.quantizer.vq.layers:
        layer._codebook.embed.normal_()
        layer._codebook.inited.fill_(1.0)
    # LayerNorms start at weight 1, bias 0: perturb them so a mis-mapped norm shows in the logits
    with torch.no_grad():
        for name, parameter in lm.named_parameters():
            if "norm" in name:
                parameter.add_(0.1 * torch.randn_like(parameter))
    return lm, compression


def write_tiny_audiogen(folder: Path, seed: int = 0):
    """A checkpoint folder like facebook/audiogen-medium's, plus `text_encoder/`; returns (folder, lm, codec)."""
    folder.mkdir(parents=True, exist_ok=True)
    text_encoder = write_tiny_text_encoder(folder / "text_encoder")
    lm, compression = build_audiocraft_models(text_encoder, seed)
    torch.save({"xp.cfg": lm_config(), "best_state": lm.state_dict()}, folder / "state_dict.bin")
    torch.save({"xp.cfg": compression_config(), "best_state": compression.state_dict()},
               folder / "compression_state_dict.bin")
    return folder, lm, compression
