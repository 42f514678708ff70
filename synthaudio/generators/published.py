"""Full-size architectures of the published checkpoints, built from their config.json values with RANDOM weights.

For measuring speed and memory of the real model sizes where the weights cannot be downloaded (no hub access):
`--checkpoint random-weights:cvssp/audioldm2-large` or `random-weights:facebook/musicgen-medium`. The values
below were read from the published config.json files (cvssp/audioldm2 and -large: unet, vae, vocoder,
text_encoder (CLAP), text_encoder_2 (Flan-T5-large), language_model (GPT-2), projection_model; the large
checkpoint's UNet has two transformer layers per block and a second self-attention transformer, as in the original
AudioLDM 2 "large" config (context_dim [768, 1024, None], transformer_depth 2): 718M parameters, which matches its
2.87 GB float32 weights file; facebook/musicgen-medium: T5-base text encoder, facebook/encodec_32khz, 48-layer
1536-wide decoder: 2.0B parameters, matching its 8.04 GB float32 pytorch_model.bin). Tokenizers are the project's
in-code ones (character/byte level), so token sequences are longer than with the real vocabularies. Random weights
make noise.
"""

import contextlib
from collections.abc import Callable, Iterator

from synthaudio.generators.tiny import byte_level_roberta_tokenizer, character_t5_tokenizer

RANDOM_WEIGHTS_PREFIX = "random-weights:"


@contextlib.contextmanager
def built_on(device: str, seed: int = 0) -> Iterator[None]:
    """Construct modules directly on `device` (no CPU copy of a billion parameters), weights from a fixed seed."""
    import torch

    cuda = device.startswith("cuda")
    with torch.random.fork_rng(devices=[torch.device(device).index or 0] if cuda else []), torch.device(device):
        torch.default_generator.manual_seed(seed)
        if cuda:
            torch.cuda.manual_seed(seed)
        yield


def audioldm2_large_pipeline(device: str = "cpu"):
    """AudioLDM2Pipeline with cvssp/audioldm2-large's architecture (UNet 750M, total 1.5B parameters)."""
    from diffusers import (
        AudioLDM2Pipeline,
        AudioLDM2ProjectionModel,
        AudioLDM2UNet2DConditionModel,
        AutoencoderKL,
        DDIMScheduler,
    )
    from transformers import (
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        GPT2Config,
        GPT2LMHeadModel,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
        T5Config,
        T5EncoderModel,
    )

    with built_on(device):
        unet = AudioLDM2UNet2DConditionModel(
            sample_size=256, in_channels=8, out_channels=8, block_out_channels=(128, 256, 384, 640),
            layers_per_block=2, transformer_layers_per_block=2, attention_head_dim=8, norm_num_groups=32,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=[[None, 768, 1024, None]] * 4)
        vae = AutoencoderKL(in_channels=1, out_channels=1, latent_channels=8, block_out_channels=[128, 256, 512],
                            layers_per_block=2, down_block_types=["DownEncoderBlock2D"] * 3,
                            up_block_types=["UpDecoderBlock2D"] * 3, sample_size=1024,
                            scaling_factor=0.4110932946205139)
        vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(
            model_in_dim=64, sampling_rate=16000, upsample_initial_channel=1024, upsample_rates=[5, 4, 2, 2, 2],
            upsample_kernel_sizes=[16, 16, 8, 4, 4], resblock_kernel_sizes=[3, 7, 11],
            resblock_dilation_sizes=[[1, 3, 5]] * 3, normalize_before=False))
        clap = ClapModel(ClapConfig(
            text_config={"fusion_hidden_size": 768, "fusion_num_hidden_layers": 2, "projection_hidden_size": 768},
            audio_config={"depths": [2, 2, 12, 2], "fusion_num_hidden_layers": 2, "hidden_size": 1024,
                          "patch_embeds_hidden_size": 128, "projection_hidden_size": 768},
            projection_dim=512, projection_hidden_act="relu", logit_scale_init_value=14.285714285714285))
        flan_t5 = T5EncoderModel(T5Config(vocab_size=32128, d_model=1024, d_ff=2816, d_kv=64, num_heads=16,
                                          num_layers=24, feed_forward_proj="gated-gelu", dense_act_fn="gelu_new",
                                          is_gated_act=True, tie_word_embeddings=False))
        gpt2 = GPT2LMHeadModel(GPT2Config(n_embd=768, n_head=12, n_layer=12, n_positions=1024, n_ctx=1024,
                                          vocab_size=50257, activation_function="gelu_new"))
        gpt2.config.max_new_tokens = 8
        projection = AudioLDM2ProjectionModel(text_encoder_dim=512, text_encoder_1_dim=1024, langauge_model_dim=768)
    scheduler = DDIMScheduler(num_train_timesteps=1000, beta_start=0.0015, beta_end=0.0195,
                              beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False,
                              steps_offset=1)
    return AudioLDM2Pipeline(vae=vae, unet=unet, text_encoder=clap, text_encoder_2=flan_t5, projection_model=projection,
                             language_model=gpt2, tokenizer=byte_level_roberta_tokenizer(max_length=512),
                             tokenizer_2=character_t5_tokenizer(max_length=512),
                             feature_extractor=ClapFeatureExtractor(), scheduler=scheduler, vocoder=vocoder)


def musicgen_medium(device: str = "cpu"):
    """(MusicgenForConditionalGeneration, MusicgenProcessor) with facebook/musicgen-medium's architecture (1.5B)."""
    from transformers import (
        EncodecConfig,
        EncodecFeatureExtractor,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenProcessor,
        T5Config,
    )

    text_config = T5Config(vocab_size=32128, d_model=768, d_ff=3072, d_kv=64, num_heads=12, num_layers=12,
                           feed_forward_proj="relu")
    audio_config = EncodecConfig(sampling_rate=32000, audio_channels=1, codebook_size=2048, codebook_dim=128,
                                 hidden_size=128, num_filters=64, num_residual_layers=1, num_lstm_layers=2,
                                 upsampling_ratios=[8, 5, 4, 4], target_bandwidths=[2.2], kernel_size=7,
                                 last_kernel_size=7, residual_kernel_size=3, dilation_growth_rate=2, compress=2,
                                 norm_type="weight_norm", normalize=False, use_causal_conv=False, pad_mode="reflect",
                                 trim_right_ratio=1.0, use_conv_shortcut=False)
    decoder_config = MusicgenDecoderConfig(vocab_size=2048, num_codebooks=4, hidden_size=1536, num_hidden_layers=48,
                                           num_attention_heads=24, ffn_dim=6144, max_position_embeddings=2048,
                                           activation_function="gelu", pad_token_id=2048, bos_token_id=2048,
                                           scale_embedding=False, tie_word_embeddings=False)
    with built_on(device):
        model = MusicgenForConditionalGeneration(
            MusicgenConfig(text_encoder=text_config, audio_encoder=audio_config, decoder=decoder_config)).eval()
        for layer in model.audio_encoder.quantizer.layers:  # learnt codebooks, zeros until trained
            layer.codebook.embed.normal_()
    model.generation_config.decoder_start_token_id = 2048
    model.generation_config.pad_token_id = 2048
    processor = MusicgenProcessor(feature_extractor=EncodecFeatureExtractor(sampling_rate=32000),
                                  tokenizer=character_t5_tokenizer(max_length=512))
    return model, processor


def audiogen_medium(device: str = "cpu"):
    """(MusicgenForConditionalGeneration, MusicgenProcessor, AudioGenFacts) shaped like facebook/audiogen-medium:
    t5-large (1024-d) projected to a 48-layer 1536-wide decoder with 24 heads over 4 codebooks of 2048, 16 kHz
    EnCodec (SEANet [8, 5, 4, 2], 64 filters, 128-d latent). These sizes are the published xp.cfg values as we read
    them; a real checkpoint is converted from its own xp.cfg, not from these."""
    from transformers import T5Config

    from synthaudio.generators.audiogen_port import build_from_xp_configs
    from synthaudio.generators.tiny import tiny_audiogen_xp_configs

    language_model, compression = tiny_audiogen_xp_configs("t5-large")
    language_model["transformer_lm"].update(dim=1536, num_heads=24, num_layers=48, card=2048)
    compression["seanet"].update(dimension=128, n_filters=64)
    compression["rvq"].update(bins=2048)
    text_config = T5Config(vocab_size=32128, d_model=1024, d_ff=4096, d_kv=64, num_heads=16, num_layers=24,
                           feed_forward_proj="relu")
    with built_on(device):
        return build_from_xp_configs(language_model, compression, text_config,
                                     character_t5_tokenizer(max_length=512), "random-weights:facebook/audiogen-medium")


BUILDERS: dict[str, Callable] = {"cvssp/audioldm2-large": audioldm2_large_pipeline,
                                 "facebook/musicgen-medium": musicgen_medium,
                                 "facebook/audiogen-medium": audiogen_medium}


def published_random_builder(checkpoint: str) -> Callable | None:
    """The builder for 'random-weights:<published id>', None for any other checkpoint."""
    from synthaudio.errors import CheckpointError

    if not checkpoint.startswith(RANDOM_WEIGHTS_PREFIX):
        return None
    published = checkpoint.removeprefix(RANDOM_WEIGHTS_PREFIX)
    if published not in BUILDERS:
        raise CheckpointError(f"--checkpoint {checkpoint}: random full-size builds exist for "
                              f"{', '.join(RANDOM_WEIGHTS_PREFIX + name for name in BUILDERS)}")
    return BUILDERS[published]
