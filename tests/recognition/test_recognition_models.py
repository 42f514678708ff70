import math

import pytest
import torch

from synthaudio.errors import CheckpointError, ConfigError
from synthaudio.features import FeatureSettings
from synthaudio.models import build_model, feature_settings_for
from synthaudio.models.ast import adapt_position_embeddings

TINY_AST = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 96}
TINY_WHISPER = {"d_model": 32, "encoder_layers": 2, "encoder_attention_heads": 2, "encoder_ffn_dim": 64,
                "num_mel_bins": 80, "max_source_positions": 50, "head_size": 32}


def learns(model, inputs, valid=None, steps=15):
    """A few Adam steps on one fixed batch lower the loss: gradients reach the trainable weights."""
    torch.manual_seed(0)
    targets = torch.arange(inputs.shape[0]) % 3
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    model.train()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs, valid), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses[-1] < losses[0]


def test_cnn_shapes_and_learning():
    torch.manual_seed(0)
    model = build_model("cnn", 3, FeatureSettings(target_frames=50))
    inputs = torch.randn(6, 50, 128)
    assert model(inputs).shape == (6, 3)
    assert learns(model, inputs)
    assert sum(p.numel() for p in model.parameters()) < 200_000


def test_ast_has_ssast_shapes_and_mean_pools_patch_tokens():
    torch.manual_seed(0)
    model = build_model("ast", 3, FeatureSettings(), **TINY_AST)  # 128 x 512 input, as SSAST-Base
    config = model.ast.config
    assert (config.patch_size, config.frequency_stride, config.time_stride) == (16, 10, 10)
    positions = model.ast.audio_spectrogram_transformer.embeddings.position_embeddings
    assert positions.shape[1] == 2 + 12 * 50  # 12 x 50 patches, plus cls and distillation tokens
    model.eval()
    inputs = torch.randn(2, 512, 128)
    hidden = model.ast.audio_spectrogram_transformer(inputs).last_hidden_state
    expected = model.ast.classifier(hidden[:, 2:].mean(dim=1))
    torch.testing.assert_close(model(inputs), expected)
    transformers_pooling = model.ast.classifier((hidden[:, 0] + hidden[:, 1]) / 2)
    assert not torch.allclose(model(inputs), transformers_pooling)
    assert build_model("ast", 3, FeatureSettings(), pooling="cls", **TINY_AST) is not None


def test_ast_learns_on_tiny_inputs():
    torch.manual_seed(0)
    model = build_model("ast", 3, FeatureSettings(target_frames=50), **TINY_AST)
    assert learns(model, torch.randn(6, 50, 128))


def ssast_reference_pooled(state, inputs, heads, stride):
    """SSAST's `finetuningavgtok` written against the timm key layout: what the converted model must compute."""
    v = {key.removeprefix("module.v."): value for key, value in state.items() if key.startswith("module.v.")}
    images = inputs.transpose(1, 2).unsqueeze(1)
    patches = torch.nn.functional.conv2d(images, v["patch_embed.proj.weight"], v["patch_embed.proj.bias"],
                                         stride=stride).flatten(2).transpose(1, 2)
    batch, hidden = inputs.shape[0], patches.shape[-1]
    x = torch.cat([v["cls_token"].expand(batch, -1, -1), v["dist_token"].expand(batch, -1, -1), patches], dim=1)
    x = x + v["pos_embed"]
    layers = len({key.split(".")[1] for key in v if key.startswith("blocks.")})
    for layer in range(layers):
        p = {key.removeprefix(f"blocks.{layer}."): value for key, value in v.items()
             if key.startswith(f"blocks.{layer}.")}
        h = torch.nn.functional.layer_norm(x, (hidden,), p["norm1.weight"], p["norm1.bias"], eps=1e-6)
        qkv = (h @ p["attn.qkv.weight"].T + p["attn.qkv.bias"]).reshape(batch, -1, 3, heads, hidden // heads)
        q, k, val = qkv.permute(2, 0, 3, 1, 4)
        attention = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(hidden // heads), dim=-1)
        out = (attention @ val).transpose(1, 2).reshape(batch, -1, hidden)
        x = x + out @ p["attn.proj.weight"].T + p["attn.proj.bias"]
        h = torch.nn.functional.layer_norm(x, (hidden,), p["norm2.weight"], p["norm2.bias"], eps=1e-6)
        h = torch.nn.functional.gelu(h @ p["mlp.fc1.weight"].T + p["mlp.fc1.bias"])
        x = x + h @ p["mlp.fc2.weight"].T + p["mlp.fc2.bias"]
    x = torch.nn.functional.layer_norm(x, (hidden,), v["norm.weight"], v["norm.bias"], eps=1e-6)
    return x[:, 2:].mean(dim=1)


def test_ssast_checkpoint_converts_to_the_same_network(tmp_path, ssast_state_dict):
    state = ssast_state_dict()
    path = tmp_path / "SSAST-Tiny-Patch.pth"
    torch.save(state, path)
    # same grid as pre-training (stride 16 over 128 x 256): the converted network must compute SSAST's function
    model = build_model("ast", 3, FeatureSettings(target_frames=256), checkpoint=str(path), num_attention_heads=2,
                        frequency_stride=16, time_stride=16).eval()
    inputs = torch.randn(2, 256, 128)
    ours = model.ast.audio_spectrogram_transformer(inputs).last_hidden_state[:, 2:].mean(dim=1)
    torch.testing.assert_close(ours, ssast_reference_pooled(state, inputs, heads=2, stride=16), rtol=1e-4,
                               atol=1e-5)
    # heads inferred from DeiT's 64-dim heads when not given: 64 -> 1 head
    assert build_model("ast", 3, FeatureSettings(target_frames=256), checkpoint=str(path)).ast.config \
        .num_attention_heads == 1


def test_ssast_positions_follow_ssast_fine_tuning(tmp_path, ssast_state_dict):
    state = ssast_state_dict(input_tdim=1024)  # pre-trained grid 8 x 64, as SSAST-Base-Patch-400
    path = tmp_path / "ssast.pth"
    torch.save(state, path)
    model = build_model("ast", 3, FeatureSettings(), checkpoint=str(path), num_attention_heads=2)
    positions = model.ast.audio_spectrogram_transformer.embeddings.position_embeddings.detach()
    assert positions.shape == (1, 2 + 12 * 50, 64)
    source = state["module.v.pos_embed"]
    torch.testing.assert_close(positions[:, :2], source[:, :2])  # cls and distillation positions kept
    grid = source[:, 2:].transpose(1, 2).reshape(1, 64, 8, 64)
    # time: the middle 50 of 64 columns (SSAST: int(64/2) - int(50/2) = 7); frequency: 8 -> 12 bilinear
    expected = torch.nn.functional.interpolate(grid[:, :, :, 7:57], size=(12, 50), mode="bilinear")
    torch.testing.assert_close(positions[:, 2:], expected.reshape(1, 64, -1).transpose(1, 2))
    weight = model.ast.audio_spectrogram_transformer.embeddings.patch_embeddings.projection.weight
    torch.testing.assert_close(weight, state["module.v.patch_embed.proj.weight"])
    query = model.ast.audio_spectrogram_transformer.layers[1].attention.q_proj.weight
    torch.testing.assert_close(query, state["module.v.blocks.1.attn.qkv.weight"][:64])


def test_bad_ssast_checkpoints_are_named(tmp_path, ssast_state_dict):
    frame_based = ssast_state_dict()
    frame_based["module.v.patch_embed.proj.weight"] = torch.zeros(64, 1, 128, 2)
    path = tmp_path / "frame.pth"
    torch.save(frame_based, path)
    with pytest.raises(CheckpointError, match="frame-based"):
        build_model("ast", 3, FeatureSettings(), checkpoint=str(path))
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pth: cannot read"):
        build_model("ast", 3, FeatureSettings(), checkpoint=str(junk))
    torch.save({"weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="not an SSAST pre-trained checkpoint"):
        build_model("ast", 3, FeatureSettings(), checkpoint=str(tmp_path / "other.pth"))


def test_ast_from_a_transformers_folder(tmp_path):
    from transformers import ASTConfig, ASTForAudioClassification

    torch.manual_seed(1)
    source = ASTForAudioClassification(ASTConfig(max_length=200, num_labels=5, layer_norm_eps=1e-6, **TINY_AST))
    source.save_pretrained(tmp_path / "ast")
    model = build_model("ast", 3, FeatureSettings(target_frames=100), checkpoint=str(tmp_path / "ast"))
    ours, theirs = model.ast.audio_spectrogram_transformer, source.audio_spectrogram_transformer
    torch.testing.assert_close(ours.layers[0].attention.k_proj.weight, theirs.layers[0].attention.k_proj.weight)
    # 12 x 19 patches -> 12 x 9: the middle 9 time columns (from 19 // 2 - 9 // 2 = 5)
    grid = theirs.embeddings.position_embeddings[:, 2:].detach().transpose(1, 2).reshape(1, 64, 12, 19)
    torch.testing.assert_close(ours.embeddings.position_embeddings[:, 2:],
                               grid[:, :, :, 5:14].reshape(1, 64, -1).transpose(1, 2))
    assert model(torch.randn(2, 100, 128)).shape == (2, 3)


def test_adapting_positions_to_the_same_grid_changes_nothing():
    positions = torch.randn(1, 2 + 6 * 7, 8)
    torch.testing.assert_close(adapt_position_embeddings(positions, (6, 7), (6, 7)), positions)


def test_missing_hub_checkpoint_is_one_clear_error():
    with pytest.raises(CheckpointError, match="MIT/ast-finetuned-audioset-10-10-0.4593.*huggingface-cli download"):
        build_model("ast", 3, FeatureSettings(), checkpoint="MIT/ast-finetuned-audioset-10-10-0.4593")
    with pytest.raises(CheckpointError, match="openai/whisper-base"):
        build_model("whisper", 3, FeatureSettings(), checkpoint="openai/whisper-base")


def test_whisper_tiny_learns_with_masked_pooling():
    torch.manual_seed(0)
    features = feature_settings_for("whisper", FeatureSettings(), **TINY_WHISPER)
    assert (features.kind, features.num_mel_bins, features.target_frames) == ("whisper_logmel", 80, 100)
    model = build_model("whisper", 3, FeatureSettings(), **TINY_WHISPER)
    inputs, valid = torch.randn(6, 80, 100), torch.tensor([100, 60, 30, 100, 10, 50])
    frozen_before = model.encoder.layers[0].fc1.weight.clone()
    assert learns(model, inputs, valid)
    torch.testing.assert_close(model.encoder.layers[0].fc1.weight, frozen_before)  # frozen, as in the study
    model.eval()
    full = torch.full((6,), 100)
    torch.testing.assert_close(model(inputs, full), model(inputs, None))  # all frames valid: a plain mean
    assert not torch.allclose(model(inputs, valid), model(inputs, None))  # padding frames left out of the mean
    trainable = build_model("whisper", 3, FeatureSettings(), freeze_encoder=False, **TINY_WHISPER)
    assert all(p.requires_grad for p in trainable.encoder.layers.parameters())


def test_whisper_from_a_local_folder_with_a_shorter_window(tmp_path):
    from transformers import WhisperConfig, WhisperModel

    torch.manual_seed(2)
    config = WhisperConfig(d_model=32, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=64,
                           decoder_layers=1, decoder_attention_heads=2, decoder_ffn_dim=64, num_mel_bins=80,
                           max_source_positions=150)
    source = WhisperModel(config)
    source.save_pretrained(tmp_path / "whisper")
    options = {"checkpoint": str(tmp_path / "whisper"), "window_seconds": 1.0}
    assert feature_settings_for("whisper", FeatureSettings(), **options).target_frames == 100
    model = build_model("whisper", 4, FeatureSettings(), **options)
    torch.testing.assert_close(model.encoder.embed_positions.weight, source.encoder.embed_positions.weight[:50])
    torch.testing.assert_close(model.encoder.layers[1].fc2.weight, source.encoder.layers[1].fc2.weight)
    assert model(torch.randn(2, 80, 100), torch.tensor([100, 50])).shape == (2, 4)
    full = feature_settings_for("whisper", FeatureSettings(), checkpoint=str(tmp_path / "whisper"))
    assert full.target_frames == 300  # the checkpoint's whole window: 2 x 150
    with pytest.raises(ConfigError, match="exceeds"):
        feature_settings_for("whisper", FeatureSettings(), checkpoint=str(tmp_path / "whisper"), window_seconds=5)


def test_unknown_model_and_option_are_named():
    with pytest.raises(ConfigError, match="unknown model 'resnet'; known models: cnn, ast, whisper"):
        build_model("resnet", 3)
    with pytest.raises(ConfigError, match="model 'cnn': unknown option 'channelz'"):
        build_model("cnn", 3, channelz=[1, 2, 3, 4])
