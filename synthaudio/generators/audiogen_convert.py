"""audiocraft AudioGen checkpoints -> transformers' MusicGen classes, converted once and cached.

Input: a folder holding audiocraft's published files, `state_dict.bin` (the language model) and
`compression_state_dict.bin` (EnCodec), each `{'xp.cfg': <the training configuration>, 'best_state': <weights>}`,
as in facebook/audiogen-medium. Every architecture fact comes from those `xp.cfg`s (dims, layers, heads, codebooks,
delay pattern, SEANet ratios, padding mode, the T5 conditioner's name, the trained segment length, guidance and
top-k); a configuration this port cannot reproduce exactly is refused with one line naming the file and field.

Output: a `MusicgenForConditionalGeneration` (T5 encoder + `enc_to_dec_proj` + `MusicgenForCausalLM` + 16 kHz
`EncodecModel`), its processor and the generation facts, saved under `<cache>/audiogen/<key>/` as safetensors plus
config; the key hashes the two source files (the Hugging Face cache names LFS blobs by their sha256, so no bytes are
read for those) and the text encoder's location. Later loads read the cache.

audiocraft keeps T5 out of its state dict (it loads `t5-large` from the hub at run time); the converter does the
same: the T5 named by the configuration, from the Hugging Face cache (or given explicitly, e.g. in tests).
"""

import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from synthaudio.errors import CheckpointError, ConfigError

LM_FILE = "state_dict.bin"
COMPRESSION_FILE = "compression_state_dict.bin"
FACTS_FILE = "audiogen_facts.json"
# Bumped whenever the mapping changes, so that caches written by an older mapping are not read.
CONVERSION_VERSION = 1
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class AudioGenFacts:
    """What generation needs from the training configuration, beyond the model weights."""

    segment_duration: float
    guidance_scale: float
    top_k: int
    text_encoder: str


def default_cache_dir() -> Path:
    configured = os.environ.get("SYNTHAUDIO_CACHE")
    return (Path(configured).expanduser() if configured else Path.home() / ".cache" / "synthaudio") / "audiogen"


def source_sha256(path: Path, memo_file: Path | None = None) -> str:
    """sha256 of a file; free for a Hugging Face cache entry, whose symlink target is named by it. Other files (a
    local copy of the checkpoint, gigabytes) are hashed once per (path, size, mtime), remembered in `memo_file`."""
    target = path.resolve()
    if path.is_symlink() and _SHA256.match(target.name):
        return target.name
    stat = target.stat()
    memo_key = f"{target}|{stat.st_size}|{stat.st_mtime_ns}"
    try:
        memo = json.loads(memo_file.read_text()) if memo_file is not None else {}
    except (OSError, ValueError):  # missing or half-written: hash again
        memo = {}
    if memo_key in memo:
        return memo[memo_key]
    hasher = hashlib.sha256()
    with open(target, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            hasher.update(block)
    digest = hasher.hexdigest()
    if memo_file is not None:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        staging = memo_file.with_name(f".{memo_file.name}.{os.getpid()}.tmp")
        staging.write_text(json.dumps({**memo, memo_key: digest}, indent=0))
        staging.replace(memo_file)
    return digest


def checkpoint_files(folder: Path) -> tuple[Path, Path]:
    """The two audiocraft files of an AudioGen folder; CheckpointError naming what is missing otherwise."""
    lm_path, compression_path = folder / LM_FILE, folder / COMPRESSION_FILE
    if not lm_path.is_file():
        raise CheckpointError(f"{folder}: no {LM_FILE}; an AudioGen checkpoint folder holds audiocraft's "
                              f"{LM_FILE} and {COMPRESSION_FILE} (as in facebook/audiogen-medium)")
    if not compression_path.is_file():
        raise CheckpointError(f"{compression_path} is missing: AudioGen needs its EnCodec weights next to "
                              f"{LM_FILE}; download both files of facebook/audiogen-medium "
                              f"(`hf download facebook/audiogen-medium`) or copy {COMPRESSION_FILE} into {folder}")
    return lm_path, compression_path


def read_package(path: Path) -> tuple[dict, dict]:
    """(xp.cfg, best_state) of one audiocraft file, loaded without running pickled code."""
    import torch

    try:
        package = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated download, not a torch file, pickled objects beyond tensors and dicts
        raise CheckpointError(f"{path} could not be read as an audiocraft checkpoint "
                              f"({str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}"
                              "); download it again") from None
    if not isinstance(package, dict) or "xp.cfg" not in package or "best_state" not in package:
        raise CheckpointError(f"{path} is not an audiocraft checkpoint (no 'xp.cfg' and 'best_state'); pass the "
                              "folder of facebook/audiogen-medium or another audiocraft AudioGen export")
    return parse_xp_cfg(package["xp.cfg"], path), package["best_state"]


_REFERENCE = re.compile(r"^\$\{([A-Za-z0-9_.]+)\}$")


def parse_xp_cfg(cfg, source: Path) -> dict:
    """The configuration as a plain dict: audiocraft's export stores it as OmegaConf YAML, whose plain `${a.b}`
    references (e.g. `sample_rate: ${sample_rate}` in the codec section) are resolved here without OmegaConf."""
    import yaml

    if isinstance(cfg, str):
        cfg = yaml.safe_load(cfg)
    if not isinstance(cfg, dict):
        raise CheckpointError(f"{source}: xp.cfg is a {type(cfg).__name__}, not a configuration; this is not an "
                              "audiocraft export the port can read")

    def lookup(dotted: str):
        value = cfg
        for part in dotted.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value

    def resolve(value, depth: int = 0):
        if isinstance(value, dict):
            return {key: resolve(item, depth) for key, item in value.items()}
        if isinstance(value, list):
            return [resolve(item, depth) for item in value]
        match = _REFERENCE.match(value) if isinstance(value, str) else None
        if match and depth < 8:
            target = lookup(match.group(1))
            return value if target is None else resolve(target, depth + 1)
        return value  # other interpolations (resolvers, environment) concern training, not the model

    return resolve(cfg)


def _field(cfg: dict, dotted: str, source: Path):
    value = cfg
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise CheckpointError(f"{source}: xp.cfg has no '{dotted}'; this is not an AudioGen checkpoint this port "
                                  "knows (pass --setting backend=audiocraft to run it with audiocraft)")
        value = value[part]
    return value


def _require(condition: bool, source: Path, field: str, value, wanted: str) -> None:
    if not condition:
        raise ConfigError(f"{source}: xp.cfg {field} is {value!r}, but the transformers port reproduces only "
                          f"{wanted}; run this checkpoint with --setting backend=audiocraft")


def check_is_audiogen(cfg: dict, source: Path) -> None:
    """Refuse MusicGen (and other audiocraft language models) given as AudioGen, naming the fix."""
    solver = cfg.get("solver")
    if solver != "audiogen":
        hint = (" use --generator musicgen (with a transformers MusicGen checkpoint such as facebook/musicgen-medium)"
                if solver == "musicgen" else " pass an AudioGen checkpoint such as facebook/audiogen-medium")
        raise CheckpointError(f"{source} is a {solver or 'non-AudioGen'} checkpoint (xp.cfg solver: {solver!r}, "
                              f"{cfg.get('sample_rate')} Hz), not AudioGen;{hint}")


def decoder_config(cfg: dict, source: Path):
    """MusicgenDecoderConfig from the LM's xp.cfg, refusing options the transformers decoder does not have."""
    from transformers import MusicgenDecoderConfig

    lm = _field(cfg, "transformer_lm", source)
    n_q, card = int(lm["n_q"]), int(lm["card"])
    pattern = _field(cfg, "codebooks_pattern", source)
    delays = (pattern.get("delay") or {}).get("delays")
    _require(pattern.get("modeling") == "delay" and list(delays or []) == list(range(n_q)), source,
             "codebooks_pattern", pattern.get("modeling"), f"the delay pattern [0..{n_q - 1}]")
    checks = {"norm_first": True, "bias_ff": False, "bias_attn": False, "bias_proj": False, "norm": "layer_norm",
              "positional_embedding": "sin", "activation": "gelu", "layer_scale": None, "qk_layer_norm": False,
              "qk_layer_norm_cross": False, "kv_repeat": 1, "causal": True, "xpos": False}
    for key, wanted in checks.items():
        _require(lm.get(key, wanted) == wanted, source, f"transformer_lm.{key}", lm.get(key), repr(wanted))
    fuser = _field(cfg, "fuser", source)
    _require(list(fuser.get("cross", [])) == ["description"] and not any(fuser.get(kind) for kind in
                                                                       ("sum", "prepend", "input_interpolate")),
             source, "fuser", fuser, "the description text by cross-attention only")
    _require(not fuser.get("cross_attention_pos_emb", False), source, "fuser.cross_attention_pos_emb", True, "False")
    dim = int(lm["dim"])
    return MusicgenDecoderConfig(
        vocab_size=card, num_codebooks=n_q, hidden_size=dim, num_hidden_layers=int(lm["num_layers"]),
        num_attention_heads=int(lm["num_heads"]), ffn_dim=int(dim * lm.get("hidden_scale", 4)),
        activation_function="gelu", dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
        layerdrop=0.0, scale_embedding=False, audio_channels=1, pad_token_id=card, bos_token_id=card,
        # sinusoidal positions are computed, not learnt: any length the trained segment allows fits in 2048 frames
        max_position_embeddings=2048, tie_word_embeddings=False)


def text_encoder_name(cfg: dict, source: Path) -> str:
    conditioner = _field(cfg, "conditioners.description", source)
    _require(conditioner.get("model") == "t5", source, "conditioners.description.model", conditioner.get("model"),
             "a T5 text conditioner")
    t5 = conditioner.get("t5", {})
    _require(not t5.get("normalize_text", False), source, "conditioners.description.t5.normalize_text", True,
             "False")
    return str(t5["name"])


def encodec_config(cfg: dict, source: Path):
    """EncodecConfig from the compression model's xp.cfg (SEANet + residual VQ), padding mode included."""
    import math

    from transformers import EncodecConfig

    _require(cfg.get("compression_model") == "encodec", source, "compression_model", cfg.get("compression_model"),
             "encodec")
    codec = _field(cfg, "encodec", source)
    _require(codec.get("autoencoder") == "seanet" and codec.get("quantizer") == "rvq", source,
             "encodec.autoencoder/quantizer", (codec.get("autoencoder"), codec.get("quantizer")), "seanet + rvq")
    _require(not codec.get("renormalize", False), source, "encodec.renormalize", True, "False")
    seanet, rvq = _field(cfg, "seanet", source), _field(cfg, "rvq", source)
    decoder_overrides = {key: value for key, value in (seanet.get("decoder") or {}).items() if value is not None}
    encoder_overrides = dict(seanet.get("encoder") or {})
    _require(set(decoder_overrides) <= {"trim_right_ratio"} and not encoder_overrides, source,
             "seanet.encoder/decoder overrides", {**encoder_overrides, **decoder_overrides},
             "the same SEANet settings for encoder and decoder")
    _require(seanet.get("norm") == "weight_norm" and seanet.get("activation") == "ELU"
             and float((seanet.get("activation_params") or {}).get("alpha", 1.0)) == 1.0, source,
             "seanet.norm/activation", (seanet.get("norm"), seanet.get("activation")), "weight_norm with ELU(1.0)")
    _require(int(seanet.get("disable_norm_outer_blocks", 0)) == 0, source, "seanet.disable_norm_outer_blocks",
             seanet.get("disable_norm_outer_blocks"), "0")
    sample_rate, n_q, bins = int(codec["sample_rate"]), int(rvq["n_q"]), int(rvq["bins"])
    ratios = [int(ratio) for ratio in seanet["ratios"]]
    frame_rate = sample_rate / math.prod(ratios)
    return EncodecConfig(
        sampling_rate=sample_rate, audio_channels=int(codec["channels"]), normalize=False,
        hidden_size=int(seanet["dimension"]), num_filters=int(seanet["n_filters"]),
        num_residual_layers=int(seanet["n_residual_layers"]), upsampling_ratios=ratios,
        norm_type="weight_norm", kernel_size=int(seanet["kernel_size"]),
        last_kernel_size=int(seanet["last_kernel_size"]), residual_kernel_size=int(seanet["residual_kernel_size"]),
        dilation_growth_rate=int(seanet["dilation_base"]), use_causal_conv=bool(codec.get("causal", False)),
        pad_mode=str(seanet["pad_mode"]), compress=int(seanet["compress"]), num_lstm_layers=int(seanet["lstm"]),
        trim_right_ratio=float(decoder_overrides.get("trim_right_ratio", 1.0)),
        use_conv_shortcut=not bool(seanet.get("true_skip", True)), codebook_size=bins,
        # transformers derives the number of codebooks from the largest bandwidth: n_q * log2(bins) bits per frame
        target_bandwidths=[n_q * math.log2(bins) * frame_rate / 1000], chunk_length_s=None, overlap=None)


def lm_state(state: dict, num_layers: int) -> tuple[dict, dict]:
    """(MusicgenForCausalLM state, enc_to_dec_proj state) from audiocraft's LMModel state."""
    import torch

    decoder: dict = {}
    projection = {"weight": state["condition_provider.conditioners.description.output_proj.weight"],
                  "bias": state["condition_provider.conditioners.description.output_proj.bias"]}
    used = {"condition_provider.conditioners.description.output_proj.weight",
            "condition_provider.conditioners.description.output_proj.bias"}
    renames = {"self_attn.out_proj": "self_attn.out_proj", "cross_attention.out_proj": "encoder_attn.out_proj",
               "linear1": "fc1", "linear2": "fc2", "norm1": "self_attn_layer_norm",
               "norm_cross": "encoder_attn_layer_norm", "norm2": "final_layer_norm"}
    for layer in range(num_layers):
        source, target = f"transformer.layers.{layer}.", f"model.decoder.layers.{layer}."
        for attention, renamed in (("self_attn", "self_attn"), ("cross_attention", "encoder_attn")):
            # audiocraft packs query, key and value in one matrix
            key = f"{source}{attention}.in_proj_weight"
            query, key_, value = torch.chunk(state[key], 3, dim=0)
            decoder.update({f"{target}{renamed}.q_proj.weight": query, f"{target}{renamed}.k_proj.weight": key_,
                            f"{target}{renamed}.v_proj.weight": value})
            used.add(key)
        for old, new in renames.items():
            for kind in ("weight", "bias"):
                key = f"{source}{old}.{kind}"
                if key in state:
                    decoder[f"{target}{new}.{kind}"] = state[key]
                    used.add(key)
    for key, value in state.items():
        match = re.fullmatch(r"emb\.(\d+)\.weight", key) or re.fullmatch(r"linears\.(\d+)\.weight", key)
        if match:
            name = "model.decoder.embed_tokens" if key.startswith("emb.") else "lm_heads"
            decoder[f"{name}.{match.group(1)}.weight"] = value
            used.add(key)
        elif key.startswith("out_norm."):
            decoder[f"model.decoder.layer_norm.{key.split('.')[-1]}"] = value
            used.add(key)
    unused = sorted(set(state) - used)
    if unused:
        raise ConfigError(f"{LM_FILE}: weights the transformers port has no place for: {', '.join(unused[:4])}"
                          f"{' ...' if len(unused) > 4 else ''}; run it with --setting backend=audiocraft")
    return decoder, projection


def compression_state(state: dict) -> dict:
    """EncodecModel state from audiocraft's EncodecModel state (SEANet layers keep their indices)."""
    converted = {}
    for key, value in state.items():
        new = re.sub(r"^(encoder|decoder)\.model\.", r"\1.layers.", key)
        new = new.replace(".conv.conv.", ".conv.").replace(".convtr.convtr.", ".conv.")
        new = new.replace(".weight_g", ".parametrizations.weight.original0")
        new = new.replace(".weight_v", ".parametrizations.weight.original1")
        new = re.sub(r"^quantizer\.vq\.layers\.(\d+)\._codebook\.", r"quantizer.layers.\1.codebook.", new)
        converted[new] = value
    return converted


def _load_exactly(module, state: dict, what: str) -> None:
    missing, unexpected = module.load_state_dict(state, strict=False)
    # the decoder's sinusoidal table is computed, not stored
    missing = [key for key in missing if "embed_positions" not in key]
    if missing or unexpected:
        raise ConfigError(f"{what}: converted weights do not fit the transformers model (missing "
                          f"{missing[:3]}, unexpected {unexpected[:3]}); run it with --setting backend=audiocraft")


def text_encoder_location(name: str) -> str:
    """A local folder (or hub id) for audiocraft's T5 name: 't5-large' lives on the hub as google-t5/t5-large."""
    from synthaudio.generators.checkpoints import resolve_checkpoint

    if Path(name).expanduser().is_dir() or "/" in name:
        return resolve_checkpoint(name)
    candidates = [f"google-t5/{name}", name] if name.startswith("t5-") else [f"google/{name}", name]
    from huggingface_hub import snapshot_download

    for candidate in candidates:
        try:
            return snapshot_download(candidate, local_files_only=True)
        except Exception:  # not cached under this name: try the next one, then the hub
            continue
    return resolve_checkpoint(candidates[0])


def convert(folder: Path, text_encoder: str | None = None):
    """(MusicgenForConditionalGeneration, MusicgenProcessor, AudioGenFacts) converted from an audiocraft folder."""
    from transformers import (
        AutoTokenizer,
        EncodecFeatureExtractor,
        EncodecModel,
        MusicgenConfig,
        MusicgenForConditionalGeneration,
        MusicgenProcessor,
        T5EncoderModel,
    )

    from synthaudio.generators.checkpoints import loading_errors

    lm_path, compression_path = checkpoint_files(folder)
    lm_cfg, lm_weights = read_package(lm_path)
    check_is_audiogen(lm_cfg, lm_path)
    compression_cfg, compression_weights = read_package(compression_path)
    decoder_cfg = decoder_config(lm_cfg, lm_path)
    audio_cfg = encodec_config(compression_cfg, compression_path)
    if int(compression_cfg.get("sample_rate", audio_cfg.sampling_rate)) != int(lm_cfg.get("sample_rate", 0)):
        raise CheckpointError(f"{compression_path} is a {audio_cfg.sampling_rate} Hz codec but {lm_path} was "
                              f"trained at {lm_cfg.get('sample_rate')} Hz; the two files come from different models")
    name = text_encoder_name(lm_cfg, lm_path)
    location = text_encoder or text_encoder_location(name)
    with loading_errors(name):
        t5 = T5EncoderModel.from_pretrained(location)
        tokenizer = AutoTokenizer.from_pretrained(location)
    decoder_weights, projection = lm_state(lm_weights, decoder_cfg.num_hidden_layers)
    if projection["weight"].shape[1] != t5.config.d_model:
        raise CheckpointError(f"{lm_path}: the text projection takes {projection['weight'].shape[1]}-d input but "
                              f"the text encoder {location} is {t5.config.d_model}-d; give the T5 the checkpoint was "
                              f"trained with ({name})")
    config = MusicgenConfig(text_encoder=t5.config.to_dict(), audio_encoder=audio_cfg.to_dict(),
                            decoder=decoder_cfg.to_dict())
    model = MusicgenForConditionalGeneration(config=config).eval()
    model.text_encoder.load_state_dict(t5.state_dict())
    _load_exactly(model.decoder, decoder_weights, str(lm_path))
    _load_exactly(model.audio_encoder, compression_state(compression_weights), str(compression_path))
    if not isinstance(model.audio_encoder, EncodecModel) or not hasattr(model, "enc_to_dec_proj"):
        raise ConfigError(f"{lm_path}: the text width equals the LM width, which this port does not expect")
    model.enc_to_dec_proj.load_state_dict(projection)
    generate_cfg = (lm_cfg.get("generate") or {}).get("lm") or {}
    facts = AudioGenFacts(
        segment_duration=float(_field(lm_cfg, "dataset.segment_duration", lm_path)),
        guidance_scale=float(_field(lm_cfg, "classifier_free_guidance.inference_coef", lm_path)),
        top_k=int(generate_cfg.get("top_k", 250)), text_encoder=name)
    model.generation_config.decoder_start_token_id = decoder_cfg.bos_token_id
    model.generation_config.pad_token_id = decoder_cfg.pad_token_id
    model.generation_config.guidance_scale = facts.guidance_scale
    model.generation_config.top_k = facts.top_k
    model.generation_config.do_sample = True
    processor = MusicgenProcessor(feature_extractor=EncodecFeatureExtractor(feature_size=1,
                                                                            sampling_rate=audio_cfg.sampling_rate),
                                  tokenizer=tokenizer)
    return model, processor, facts


def cache_key(folder: Path, text_encoder: str | None, cache_dir: Path) -> str:
    lm_path, compression_path = checkpoint_files(folder)
    memo = cache_dir / "source_hashes.json"
    parts = [str(CONVERSION_VERSION), source_sha256(lm_path, memo), source_sha256(compression_path, memo),
             text_encoder or ""]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def load_converted(folder: Path | str, text_encoder: str | None = None, cache_dir: Path | None = None,
                   torch_dtype=None):
    """(model, processor, facts) for an audiocraft AudioGen folder: from the cache, else converted and cached."""
    from transformers import AutoProcessor, MusicgenForConditionalGeneration

    folder, cache_dir = Path(folder), cache_dir or default_cache_dir()
    cached = cache_dir / cache_key(folder, text_encoder, cache_dir)
    if not (cached / FACTS_FILE).is_file():
        model, processor, facts = convert(folder, text_encoder)
        staging = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        model.save_pretrained(staging, safe_serialization=True)
        processor.save_pretrained(staging)
        # written last: its presence marks a complete entry
        (staging / FACTS_FILE).write_text(json.dumps(asdict(facts), indent=1))
        cached.parent.mkdir(parents=True, exist_ok=True)
        try:
            staging.rename(cached)
        except OSError:  # another process cached the same checkpoint first: theirs is as good as ours
            shutil.rmtree(staging, ignore_errors=True)
    model = MusicgenForConditionalGeneration.from_pretrained(cached, torch_dtype=torch_dtype)
    processor = AutoProcessor.from_pretrained(cached)
    facts = AudioGenFacts(**json.loads((cached / FACTS_FILE).read_text()))
    return model.eval(), processor, facts
