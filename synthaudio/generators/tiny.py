"""Tiny, randomly initialised models of the REAL generator architectures, built in code without any download.

They run the same diffusers/transformers/audiocraft code paths as the published checkpoints, so tests, demos and
benchmarks exercise real generation end to end. Their weights are random: the audio is structured noise, and
clips made with them are marked `random_weights: true` in the manifest. Never report accuracy from them.

Tokenizers are built from vocabularies written here (byte-level BPE without merges for CLAP's RoBERTa,
character-level unigram for T5), so any text tokenises without out-of-vocabulary failures.
"""

import contextlib
import string
import warnings
from collections.abc import Iterator

from synthaudio.generators.checkpoints import TINY_RANDOM

WEIGHTS_SEED = 0


@contextlib.contextmanager
def fixed_initialisation(seed: int = WEIGHTS_SEED) -> Iterator[None]:
    """Initialise weights from a fixed seed without touching the caller's random state, so that every build of a
    tiny model has the same weights and its clips are reproducible across runs."""
    import torch

    with torch.random.fork_rng(devices=[]):  # tiny models are built on the CPU: only its generator is used
        torch.default_generator.manual_seed(seed)
        yield


def byte_level_roberta_tokenizer(max_length: int = 77):
    """A RoBERTa tokenizer whose vocabulary is the 256 byte-level symbols plus the special tokens."""
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import RobertaTokenizer

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    vocab = {token: index for index, token in enumerate(specials)}
    for symbol in sorted(ByteLevel.alphabet()):
        vocab.setdefault(symbol, len(vocab))
    return RobertaTokenizer(vocab=vocab, merges=[], model_max_length=max_length)


def character_t5_tokenizer(max_length: int = 77):
    """A T5 (unigram) tokenizer over single printable characters, with and without the word-start marker."""
    from transformers import T5Tokenizer

    characters = string.ascii_letters + string.digits + string.punctuation
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(char, -5.0) for char in characters]
    pieces += [("\u2581" + char, -4.0) for char in characters]
    return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=max_length)


def _tiny_t5_encoder(vocab_size: int = 256, d_model: int = 32):
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(T5Config(vocab_size=vocab_size, d_model=d_model, d_ff=37, d_kv=8, num_heads=2,
                                   num_layers=2))


@fixed_initialisation()
def tiny_audioldm2_pipeline():
    """AudioLDM2Pipeline (CLAP + Flan-T5 + GPT-2 + UNet + VAE + HiFi-GAN), a few hundred thousand parameters."""
    from diffusers import (
        AudioLDM2Pipeline,
        AudioLDM2ProjectionModel,
        AudioLDM2UNet2DConditionModel,
        AutoencoderKL,
        DDIMScheduler,
    )
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapTextConfig,
        GPT2Config,
        GPT2LMHeadModel,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
    )

    clap_dim, t5_dim, gpt_dim = 16, 32, 16
    # Proportions follow the published model where they decide the cost: 2 attention heads of 32 channels (the
    # published heads have 16-80), a VAE that downsamples the mel spectrogram by 4 in time and frequency.
    unet = AudioLDM2UNet2DConditionModel(
        sample_size=32, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=2,
        attention_head_dim=2, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=([None, gpt_dim, t5_dim], [None, gpt_dim, t5_dim]))
    vae = AutoencoderKL(in_channels=1, out_channels=1, latent_channels=4, block_out_channels=[32, 64, 64],
                        down_block_types=["DownEncoderBlock2D"] * 3, up_block_types=["UpDecoderBlock2D"] * 3)
    text_config = ClapTextConfig(vocab_size=1000, hidden_size=clap_dim, intermediate_size=37, num_attention_heads=2,
                                 num_hidden_layers=2, projection_dim=clap_dim, bos_token_id=0, pad_token_id=1,
                                 eos_token_id=2)
    audio_config = ClapAudioConfig(spec_size=64, window_size=4, num_mel_bins=64, intermediate_size=37, depths=[2, 2],
                                   num_attention_heads=[2, 2], num_hidden_layers=2, hidden_size=192,
                                   projection_dim=clap_dim, patch_size=2, patch_stride=2,
                                   patch_embed_input_channels=4)
    clap = ClapModel(ClapConfig(text_config=text_config.to_dict(), audio_config=audio_config.to_dict(),
                                projection_dim=clap_dim))
    language_model = GPT2LMHeadModel(GPT2Config(n_embd=gpt_dim, n_head=2, n_layer=2, vocab_size=1000, n_ctx=99,
                                                n_positions=99, bos_token_id=0, eos_token_id=0))
    language_model.config.max_new_tokens = 8  # the published checkpoints generate 8 "language of audio" tokens
    # Upsampling 8*4*5 = 160 samples per mel frame, as in the published 16 kHz vocoder: a vocoder with a small hop
    # would make every second of audio cost hundreds of mel frames.
    vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(
        model_in_dim=16, sampling_rate=16000, upsample_initial_channel=16, upsample_rates=[8, 4, 5],
        upsample_kernel_sizes=[16, 8, 10], resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3, 5]],
        normalize_before=False))
    scheduler = DDIMScheduler(beta_start=0.0015, beta_end=0.0195, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False)
    return AudioLDM2Pipeline(
        vae=vae, unet=unet, text_encoder=clap, text_encoder_2=_tiny_t5_encoder(d_model=t5_dim),
        projection_model=AudioLDM2ProjectionModel(text_encoder_dim=clap_dim, text_encoder_1_dim=t5_dim,
                                                  langauge_model_dim=gpt_dim),
        language_model=language_model, tokenizer=byte_level_roberta_tokenizer(),
        tokenizer_2=character_t5_tokenizer(), feature_extractor=ClapFeatureExtractor(hop_length=7900),
        scheduler=scheduler, vocoder=vocoder)


@fixed_initialisation()
def tiny_musicgen():
    """(MusicgenForConditionalGeneration, MusicgenProcessor): T5 text encoder, 4-codebook delayed decoder, 32 kHz
    EnCodec at 50 frames per second, like the published checkpoints but a few hundred thousand parameters."""
    from transformers import (
        EncodecConfig,
        EncodecFeatureExtractor,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenProcessor,
        T5Config,
    )

    codebook_size = 64
    text_config = T5Config(vocab_size=256, d_model=32, d_ff=37, d_kv=8, num_heads=2, num_layers=2)
    audio_config = EncodecConfig(sampling_rate=32000, upsampling_ratios=[8, 5, 4, 4], hidden_size=16, num_filters=4,
                                 num_residual_layers=1, num_lstm_layers=1, codebook_size=codebook_size,
                                 target_bandwidths=[1.2])  # 1.2 kbps at 50 Hz with 64-entry codebooks: 4 codebooks
    decoder_config = MusicgenDecoderConfig(vocab_size=codebook_size, num_codebooks=4, hidden_size=16,
                                           num_hidden_layers=2, num_attention_heads=2, ffn_dim=32,
                                           max_position_embeddings=1024, pad_token_id=codebook_size,
                                           bos_token_id=codebook_size)
    model = MusicgenForConditionalGeneration(
        MusicgenConfig(text_encoder=text_config, audio_encoder=audio_config, decoder=decoder_config)).eval()
    # EnCodec's codebooks start as zeros (they are learnt by k-means); random entries make each code decode to
    # different audio, so that different seeds give different clips.
    for layer in model.audio_encoder.quantizer.layers:
        layer.codebook.embed.normal_()
    # The published checkpoints ship these in generation_config.json; a model built in code must set them.
    model.generation_config.decoder_start_token_id = codebook_size
    model.generation_config.pad_token_id = codebook_size
    processor = MusicgenProcessor(feature_extractor=EncodecFeatureExtractor(sampling_rate=32000),
                                  tokenizer=character_t5_tokenizer())
    return model, processor


@fixed_initialisation()
def tiny_stable_audio_pipeline():
    """StableAudioPipeline (T5 + DiT + Oobleck VAE at 44.1 kHz stereo, hop 2048) with about 1.5 s of context."""
    from diffusers import (
        AutoencoderOobleck,
        CosineDPMSolverMultistepScheduler,
        StableAudioDiTModel,
        StableAudioPipeline,
        StableAudioProjectionModel,
    )

    latent_channels, t5_dim = 8, 32
    with warnings.catch_warnings():  # diffusers builds Oobleck with the deprecated torch weight_norm
        warnings.filterwarnings("ignore", message=".*weight_norm.*", category=FutureWarning)
        vae = AutoencoderOobleck(encoder_hidden_size=8, downsampling_ratios=[2, 4, 4, 8, 8],
                                 channel_multiples=[1, 1, 1, 1, 1], decoder_channels=8,
                                 decoder_input_channels=latent_channels, audio_channels=2, sampling_rate=44100)
    transformer = StableAudioDiTModel(sample_size=32, in_channels=latent_channels, out_channels=latent_channels,
                                      num_layers=2, attention_head_dim=8, num_attention_heads=2,
                                      num_key_value_attention_heads=1, cross_attention_dim=16, time_proj_dim=16,
                                      global_states_input_dim=32, cross_attention_input_dim=16)
    projection = StableAudioProjectionModel(text_encoder_dim=t5_dim, conditioning_dim=16, min_value=0, max_value=512)
    scheduler = CosineDPMSolverMultistepScheduler(solver_order=2, prediction_type="v_prediction", sigma_data=1.0,
                                                  sigma_schedule="exponential")
    return StableAudioPipeline(vae=vae, text_encoder=_tiny_t5_encoder(d_model=t5_dim), projection_model=projection,
                               tokenizer=character_t5_tokenizer(max_length=64), transformer=transformer,
                               scheduler=scheduler)


@fixed_initialisation()
def tiny_audiogen():
    """audiocraft AudioGen with a debug EnCodec and a 2-layer LM; needs audiocraft importable (see ASSETS.md).

    The conditioner is a lookup table with the 'noop' tokenizer: the published T5 conditioner downloads t5-large.
    """
    from audiocraft.models import AudioGen, LMModel
    from audiocraft.models.builders import get_debug_compression_model
    from audiocraft.modules.codebooks_patterns import DelayedPatternProvider
    from audiocraft.modules.conditioners import ConditionFuser, ConditioningProvider, LUTConditioner

    compression = get_debug_compression_model("cpu", sample_rate=16000)
    conditioner = ConditioningProvider(
        {"description": LUTConditioner(n_bins=128, dim=16, output_dim=16, tokenizer="noop")})
    fuser = ConditionFuser({"cross": ["description"], "prepend": [], "sum": [], "input_interpolate": []})
    language_model = LMModel(DelayedPatternProvider(n_q=4), conditioner, fuser, n_q=4, card=400, dim=16, num_heads=4,
                             num_layers=2, cross_attention=True, causal=True).eval()
    return AudioGen(TINY_RANDOM, compression, language_model, max_duration=10.0)


def tiny_audiogen_xp_configs(text_encoder_name: str = "t5-small") -> tuple[dict, dict]:
    """audiocraft training configurations (`xp.cfg` of state_dict.bin and compression_state_dict.bin) with
    facebook/audiogen-medium's structure at a few thousand parameters: delay pattern over 4 codebooks, pre-norm
    without biases, sinusoidal positions, T5 cross-attention conditioning projected to the LM's width, 10-s
    segments, guidance 3 and top-k 250; 16 kHz SEANet [8, 5, 4, 2] (50 Hz) with 2 LSTM layers and constant padding."""
    codebook_size = 64
    language_model = {
        "solver": "audiogen", "sample_rate": 16000, "channels": 1, "device": "cpu", "dtype": "float32",
        "dataset": {"segment_duration": 10},
        "lm_model": "transformer_lm",
        "codebooks_pattern": {"modeling": "delay", "delay": {"delays": [0, 1, 2, 3], "flatten_first": 0,
                                                             "empty_initial": 0}},
        "transformer_lm": {
            "dim": 24, "num_heads": 2, "num_layers": 2, "hidden_scale": 4, "n_q": 4, "card": codebook_size,
            "dropout": 0.0, "emb_lr": None, "activation": "gelu", "norm_first": True, "bias_ff": False,
            "bias_attn": False, "bias_proj": False, "past_context": None, "causal": True, "custom": False,
            "memory_efficient": True, "attention_as_float32": False, "layer_scale": None,
            "positional_embedding": "sin", "xpos": False, "checkpointing": "none", "weight_init": "gaussian",
            "depthwise_init": "current", "zero_bias_init": True, "norm": "layer_norm", "cross_attention": False,
            "qk_layer_norm": False, "qk_layer_norm_cross": False, "attention_dropout": None, "kv_repeat": 1,
            "two_step_cfg": False},
        "classifier_free_guidance": {"training_dropout": 0.1, "inference_coef": 3.0},
        "attribute_dropout": {},
        "fuser": {"cross_attention_pos_emb": False, "cross_attention_pos_emb_scale": 1, "sum": [], "prepend": [],
                  "cross": ["description"], "input_interpolate": []},
        "conditioners": {"description": {"model": "t5", "t5": {"name": text_encoder_name, "finetune": False,
                                                                "word_dropout": 0.0, "normalize_text": False}}},
        "generate": {"lm": {"use_sampling": True, "top_k": 250, "top_p": 0.0}},
    }
    compression = {
        "solver": "compression", "sample_rate": 16000, "channels": 1, "device": "cpu", "compression_model": "encodec",
        "encodec": {"autoencoder": "seanet", "quantizer": "rvq", "sample_rate": 16000, "channels": 1,
                    "causal": False, "renormalize": False},
        "seanet": {"dimension": 16, "channels": 1, "causal": False, "n_filters": 4, "n_residual_layers": 1,
                   "ratios": [8, 5, 4, 2], "activation": "ELU", "activation_params": {"alpha": 1.0},
                   "norm": "weight_norm", "norm_params": {}, "kernel_size": 7, "residual_kernel_size": 3,
                   "last_kernel_size": 7, "dilation_base": 2, "pad_mode": "constant", "true_skip": True,
                   "compress": 2, "lstm": 2, "disable_norm_outer_blocks": 0,
                   "decoder": {"trim_right_ratio": 1.0, "final_activation": None, "final_activation_params": None},
                   "encoder": {}},
        "rvq": {"n_q": 4, "q_dropout": False, "bins": codebook_size, "decay": 0.99, "kmeans_init": True,
                "kmeans_iters": 50, "threshold_ema_dead_code": 2, "orthogonal_reg_weight": 0.0,
                "orthogonal_reg_active_codes_only": False},
    }
    return language_model, compression


@fixed_initialisation()
def tiny_audiogen_port():
    """(MusicgenForConditionalGeneration, MusicgenProcessor, AudioGenFacts): AudioGen on transformers' classes, shaped
    by `tiny_audiogen_xp_configs` through the same code that reads a published checkpoint's configuration; the
    32-d T5 is projected to the 24-d LM as t5-large is to audiogen-medium's 1536."""
    from transformers import T5Config

    from synthaudio.generators.audiogen_port import build_from_xp_configs

    language_model, compression = tiny_audiogen_xp_configs()
    text_config = T5Config(vocab_size=256, d_model=32, d_ff=37, d_kv=8, num_heads=2, num_layers=2)
    return build_from_xp_configs(language_model, compression, text_config, character_t5_tokenizer(), TINY_RANDOM)
