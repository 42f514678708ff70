"""`synthaudio generate --generator audiogen` on the transformers port, as a user runs it, with audiocraft blocked."""

import pytest
import torch

from tests.fixtures.generation import label_prompts, make_prompt_file, manifest_rows, run_cli, wav_digests

BLOCKER = "raise ImportError('audiocraft is blocked in this test: the default AudioGen backend must not need it')\n"


def without_audiocraft(tmp_path) -> dict:
    """Environment in which `import audiocraft` fails, whether or not it is installed."""
    blocker = tmp_path / "blocker"
    (blocker / "audiocraft").mkdir(parents=True, exist_ok=True)
    (blocker / "audiocraft" / "__init__.py").write_text(BLOCKER)
    import os

    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(blocker), os.environ.get("PYTHONPATH")]))}


def generate(tmp_path, prompts, out, *options):
    return run_cli("generate", "--prompts", str(prompts), "--out", str(tmp_path / out), "--generator", "audiogen",
                   "--checkpoint", "tiny-random", "--duration", "1", "--seed", "7", "--no-progress", *options,
                   env=without_audiocraft(tmp_path))


@pytest.mark.slow
def test_tiny_random_audiogen_runs_without_audiocraft_and_clips_follow_their_seeds(tmp_path):
    prompts = make_prompt_file(tmp_path, label_prompts(["dog", "siren"], 2))
    first = generate(tmp_path, prompts, "first", "--batch-size", "4")
    assert first.returncode == 0, first.stderr
    assert "4 clips written" in first.stdout
    again = generate(tmp_path, prompts, "again", "--batch-size", "4")
    one_by_one = generate(tmp_path, prompts, "one", "--batch-size", "1")
    assert again.returncode == 0 and one_by_one.returncode == 0, again.stderr + one_by_one.stderr
    digests = wav_digests(tmp_path / "first")
    assert len(digests) == 4 and len(set(digests.values())) == 4  # four different clips
    assert wav_digests(tmp_path / "again") == digests  # two runs: the same bytes
    assert wav_digests(tmp_path / "one") == digests  # batch of 1 or 4: the same bytes
    row = manifest_rows(tmp_path / "first")[0]
    assert row["generator"] == "audiogen" and row["random_weights"] is True
    assert row["meta"]["settings"]["backend"] == "transformers" and row["meta"]["seeding"] == "per clip"
    assert row["sample_rate"] == 16000


@pytest.mark.slow
def test_bad_audiogen_input_is_one_line_naming_the_file_or_setting_and_the_fix(tmp_path):
    prompts = make_prompt_file(tmp_path, label_prompts(["dog"], 1))
    half = tmp_path / "half"
    half.mkdir()
    torch.save({"xp.cfg": {"solver": "audiogen"}, "best_state": {}}, half / "state_dict.bin")
    musicgen = tmp_path / "musicgen"
    musicgen.mkdir()
    torch.save({"xp.cfg": {"solver": "musicgen", "sample_rate": 32000}, "best_state": {}}, musicgen / "state_dict.bin")
    torch.save({"xp.cfg": {"solver": "compression"}, "best_state": {}}, musicgen / "compression_state_dict.bin")
    for options, message in [
        (["--checkpoint", str(half)],
         f"{half / 'compression_state_dict.bin'} is missing: AudioGen needs its EnCodec weights next to "
         "state_dict.bin; download both files of facebook/audiogen-medium"),
        (["--checkpoint", str(musicgen)],
         f"{musicgen / 'state_dict.bin'} is a musicgen checkpoint (xp.cfg solver: 'musicgen', 32000 Hz), not "
         "AudioGen; use --generator musicgen"),
        (["--checkpoint", "tiny-random", "--duration", "12"],
         "--duration 12: tiny-random was trained on 10-s clips and the transformers port has no windowed "
         "continuation; use --duration 10 or less"),
    ]:
        arguments = ["generate", "--prompts", str(prompts), "--out", str(tmp_path / "out"), "--generator",
                     "audiogen", "--duration", "1", "--no-progress", *options]
        failed = run_cli(*arguments, env=without_audiocraft(tmp_path))
        assert failed.returncode == 2, (options, failed.stderr)
        assert message in failed.stderr and "Traceback" not in failed.stderr, failed.stderr
        # transformers' own config warnings (MusicGen's special tokens sit one past the codebook) are not ours
        ours = [line for line in failed.stderr.strip().splitlines() if not line.startswith("[transformers]")]
        assert len(ours) == 1, failed.stderr


def test_full_size_random_audiogen_has_the_published_shape():
    """What the GPU benchmark builds, on the meta device in float16 (no memory, no time)."""
    from synthaudio.generators import get_generator

    generator = get_generator("audiogen", checkpoint="random-weights:facebook/audiogen-medium", device="meta",
                              dtype="float16")
    model = generator.port.model
    decoder = model.config.decoder
    assert (decoder.hidden_size, decoder.num_hidden_layers, decoder.num_attention_heads) == (1536, 48, 24)
    assert (decoder.num_codebooks, decoder.vocab_size) == (4, 2048)
    assert (model.enc_to_dec_proj.in_features, model.enc_to_dec_proj.out_features) == (1024, 1536)  # t5-large
    assert model.text_encoder.dtype == torch.float32 and model.decoder.dtype == torch.float16
    audio = model.config.audio_encoder
    assert (audio.sampling_rate, audio.frame_rate, audio.upsampling_ratios, audio.pad_mode) == (
        16000, 50, [8, 5, 4, 2], "constant")
    assert generator.port.facts.segment_duration == 10.0 and generator.native_sample_rate == 16000
