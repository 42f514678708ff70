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

from synthaudio.generators.tiny import tiny_audiogen_xp_configs


def lm_config() -> dict:
    # audiocraft sizes the text projection from the T5's name (t5-small: 512), so the tests name t5-small
    return tiny_audiogen_xp_configs("t5-small")[0]


def compression_config() -> dict:
    return tiny_audiogen_xp_configs()[1]


def write_tiny_text_encoder(folder: Path) -> Path:
    from transformers import T5Config, T5EncoderModel

    from synthaudio.generators.tiny import character_t5_tokenizer

    torch.manual_seed(1)
    # 512 wide (t5-small's width, see lm_config), thin inside
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


def exported_yaml(config: dict) -> str:
    """The configuration as audiocraft's export writes it: OmegaConf YAML, the codec's rates and channels as
    `${...}` references to the top-level keys (as in audiocraft's encodec/default.yaml)."""
    from omegaconf import OmegaConf

    config = {**config}
    if "encodec" in config:
        config["encodec"] = {**config["encodec"], "sample_rate": "${sample_rate}", "channels": "${channels}"}
        config["seanet"] = {**config["seanet"], "channels": "${channels}", "causal": "${encodec.causal}"}
    return OmegaConf.to_yaml(OmegaConf.create(config))


def write_tiny_audiogen(folder: Path, seed: int = 0):
    """A checkpoint folder like facebook/audiogen-medium's, plus `text_encoder/`; returns (folder, lm, codec)."""
    folder.mkdir(parents=True, exist_ok=True)
    text_encoder = write_tiny_text_encoder(folder / "text_encoder")
    lm, compression = build_audiocraft_models(text_encoder, seed)
    torch.save({"xp.cfg": exported_yaml(lm_config()), "best_state": lm.state_dict(), "exported": True},
               folder / "state_dict.bin")
    torch.save({"xp.cfg": exported_yaml(compression_config()), "best_state": compression.state_dict(),
                "exported": True}, folder / "compression_state_dict.bin")
    return folder, lm, compression
