"""The generation engine: plan, seeds, shards, determinism, resume, provenance, audiofolder metadata, names."""

import json
import os

import numpy as np
import pytest
import soundfile

from synthaudio.errors import AudioError, ConfigError
from synthaudio.generation import (
    RunSettings,
    Waveform,
    batches_of,
    parse_shard,
    plan_jobs,
    shard_batches,
)
from synthaudio.generation.jobs import ClipJob
from synthaudio.generation.work import postprocess, write_clip
from synthaudio.manifest import read_manifest
from synthaudio.prompts.promptfile import read_prompts
from synthaudio.seeding import derive_seed
from tests.fixtures.generation import generate_clips, label_prompts, make_prompt_file, manifest_rows, wav_digests

TINY_AUDIOLDM2 = {"generator": "audioldm2", "checkpoint": "tiny-random", "duration": 0.5, "batch_size": 2,
                  "settings": {"steps": 2}, "progress": False}


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """An uninterrupted run of 2 labels x 3 clips that other tests compare against."""
    folder = tmp_path_factory.mktemp("reference")
    prompts = make_prompt_file(folder, label_prompts(["dog", "rain"], 3))
    summary = generate_clips(prompts, folder / "out", **TINY_AUDIOLDM2)
    return prompts, folder / "out", summary


def rows_by_id(folder):
    return {row["id"]: row for row in manifest_rows(folder)}


def test_every_clip_gets_its_seed_from_seed_label_and_index(tmp_path):
    prompt_set = read_prompts(make_prompt_file(tmp_path, label_prompts(["dog", "rain"], 3)))
    jobs = plan_jobs(prompt_set, tmp_path / "out", seed=42)
    assert [job.id for job in jobs] == ["dog-00000", "dog-00001", "dog-00002", "rain-00000", "rain-00001",
                                        "rain-00002"]
    assert [job.seed for job in jobs] == [derive_seed(42, job.label, job.index) for job in jobs]
    assert len({job.seed for job in jobs}) == 6
    assert jobs[4].relpath == "rain/rain-00001.wav"


@pytest.mark.parametrize(("clips", "batch_size", "shards"), [(10, 3, 3), (7, 8, 2), (16, 4, 5), (1, 1, 3)])
def test_shards_partition_the_plan(tmp_path, clips, batch_size, shards):
    prompt_set = read_prompts(make_prompt_file(tmp_path, {"a": ["x"] * clips, "b": ["y"] * clips}))
    jobs = plan_jobs(prompt_set, tmp_path, seed=0)
    batches = batches_of(jobs, batch_size)
    parts = [[job.id for batch in shard_batches(batches, index, shards) for job in batch] for index in range(shards)]
    flat = [identifier for part in parts for identifier in part]
    assert sorted(flat) == sorted(job.id for job in jobs) and len(flat) == len(set(flat))


def test_bad_shard_and_batch_size_are_clear_errors():
    assert parse_shard("1/4") == (1, 4) and parse_shard(None) == (0, 1)
    for text in ("4/4", "1-4", "-1/2", "a/b"):
        with pytest.raises(ConfigError, match=f"--shard {text}: expected I/N with 0 <= I < N"):
            parse_shard(text)
    with pytest.raises(ConfigError, match="--batch-size 0: must be at least 1"):
        batches_of([], 0)


def test_rows_carry_full_provenance_and_wavs_are_mono_fixed_length_peaked(reference_run):
    _, out, summary = reference_run
    assert (summary.planned, summary.written, summary.skipped) == (6, 6, 0)
    clips = read_manifest(out / "manifest.jsonl")  # validates every row and that every file exists
    assert len(clips) == 6
    for clip in clips:
        assert (clip.generator, clip.checkpoint, clip.strategy) == ("audioldm2", "tiny-random", "label")
        assert clip.prompt == f"{clip.label} sound" and clip.source == "synthetic" and clip.split == "train"
        assert clip.seed == derive_seed(3, clip.label, clip.meta["index"])  # the prompt file's seed
        assert (clip.duration, clip.sample_rate, clip.random_weights) == (0.5, 16000, True)
        assert clip.meta["settings"] == {"steps": 2, "guidance_scale": 3.5}
        assert clip.meta["device"] == "cpu" and clip.meta["dtype"] == "float32"
        assert {"torch", "diffusers", "transformers"} <= set(clip.meta["versions"])
        samples, rate = soundfile.read(clip.path)
        assert rate == 16000 and samples.ndim == 1 and len(samples) == 8000
        assert np.max(np.abs(samples)) == pytest.approx(10 ** (-1 / 20), abs=1e-3)  # peak at -1 dBFS


def test_the_same_command_twice_gives_byte_identical_wavs(reference_run, tmp_path):
    prompts, out, _ = reference_run
    generate_clips(prompts, tmp_path / "again", **TINY_AUDIOLDM2)
    assert wav_digests(tmp_path / "again") == wav_digests(out)
    changed = generate_clips(prompts, tmp_path / "other-seed", seed=4, **TINY_AUDIOLDM2)
    assert changed.written == 6
    digests = wav_digests(tmp_path / "other-seed")
    assert all(digests[name] != digest for name, digest in wav_digests(out).items())


def test_limits_make_only_the_first_clips_of_a_label_and_the_same_bytes(reference_run, tmp_path):
    prompts, out, _ = reference_run
    limited = generate_clips(prompts, tmp_path / "limited", limits={"dog": 1, "rain": 0}, **TINY_AUDIOLDM2)
    assert (limited.planned, limited.written) == (1, 1)
    assert set(rows_by_id(tmp_path / "limited")) == {"dog-00000"}
    # batches are still cut from the whole plan: the clip has the same batch neighbours, hence the same bytes
    assert wav_digests(tmp_path / "limited").items() <= wav_digests(out).items()
    grown = generate_clips(prompts, tmp_path / "limited", limits={"dog": 3, "rain": 2}, **TINY_AUDIOLDM2)
    assert (grown.written, grown.skipped) == (4, 1)  # a larger allocation adds only the new clips
    assert set(rows_by_id(tmp_path / "limited")) == {"dog-00000", "dog-00001", "dog-00002", "rain-00000",
                                                     "rain-00001"}
    assert wav_digests(tmp_path / "limited").items() <= wav_digests(out).items()


def test_shards_one_after_another_in_one_folder_equal_the_whole_run(reference_run, tmp_path):
    prompts, out, _ = reference_run
    first = generate_clips(prompts, tmp_path / "shared", shard="0/2", **TINY_AUDIOLDM2)
    second = generate_clips(prompts, tmp_path / "shared", shard="1/2", **TINY_AUDIOLDM2)
    assert (first.planned, second.planned) == (2, 4)  # 3 batches of 2 clips: shards take whole batches
    assert rows_by_id(tmp_path / "shared") == rows_by_id(out)
    assert wav_digests(tmp_path / "shared") == wav_digests(out)  # same batches, hence the same bytes
    generate_clips(prompts, tmp_path / "apart-0", shard="0/2", **TINY_AUDIOLDM2)
    generate_clips(prompts, tmp_path / "apart-1", shard="1/2", **TINY_AUDIOLDM2)
    apart = {**rows_by_id(tmp_path / "apart-0"), **rows_by_id(tmp_path / "apart-1")}
    assert len(apart) == 6 and {key: row["seed"] for key, row in apart.items()} == {
        key: row["seed"] for key, row in rows_by_id(out).items()}
    assert {**wav_digests(tmp_path / "apart-0"), **wav_digests(tmp_path / "apart-1")} == wav_digests(out)


def test_resume_cleans_up_and_redoes_exactly_the_unfinished_clips(reference_run, tmp_path):
    prompts, out, _ = reference_run
    folder = tmp_path / "resumed"
    generate_clips(prompts, folder, **TINY_AUDIOLDM2)
    manifest = folder / "manifest.jsonl"
    lines = manifest.read_text().splitlines(keepends=True)
    # a WAV whose row was never appended, a row whose WAV was deleted, a torn last line, a stale temporary
    dropped_row = json.loads(lines[1])["id"]
    (folder / json.loads(lines[4])["path"]).unlink()
    manifest.write_text("".join(lines[:1] + lines[2:5]) + lines[5][: len(lines[5]) // 2])
    (folder / "rain" / ".synthaudio-rain-00002.wav.abc.tmp").write_bytes(b"half a wav")
    summary = generate_clips(prompts, folder, **TINY_AUDIOLDM2)
    assert summary.skipped == 3 and summary.written == 3  # row 1 (no row), row 4 (no file), row 5 (torn)
    assert dropped_row in rows_by_id(folder)
    assert rows_by_id(folder) == rows_by_id(out) and wav_digests(folder) == wav_digests(out)
    assert not list(folder.rglob("*.tmp"))
    nothing = generate_clips(prompts, folder, **TINY_AUDIOLDM2)
    assert (nothing.written, nothing.skipped) == (0, 6)


def test_a_folder_made_with_other_settings_is_not_mixed_into(reference_run, tmp_path):
    prompts, out, _ = reference_run
    folder = tmp_path / "mixed"
    generate_clips(prompts, folder, **TINY_AUDIOLDM2)
    with pytest.raises(ConfigError, match="clip 'dog-00000' was made with settings=.*'steps': 2.*this run asks "
                                          "settings=.*'steps': 3"):
        generate_clips(prompts, folder, **{**TINY_AUDIOLDM2, "settings": {"steps": 3}})
    with pytest.raises(ConfigError, match="was made with seed="):
        generate_clips(prompts, folder, **{**TINY_AUDIOLDM2, "seed": 99})


def test_metadata_csv_reads_back_with_the_datasets_csv_loader(reference_run):
    """load_dataset("audiofolder") needs torchcodec (no CPU-torch wheel here); the CSV loader reads the same file."""
    from datasets import Audio, load_dataset

    _, out, _ = reference_run
    table = load_dataset("csv", data_files=str(out / "metadata.csv"), split="train")
    table = table.map(lambda row: {"audio": str(out / row["file_name"])}).cast_column("audio", Audio(decode=False))
    rows = rows_by_id(out)
    assert sorted(table["id"]) == sorted(rows)
    for record in table:
        row = rows[record["id"]]
        assert record["file_name"] == row["path"] and os.path.isfile(record["audio"]["path"])
        assert (record["label"], record["prompt"], record["seed"]) == (row["label"], row["prompt"], row["seed"])
        assert (record["generator"], record["checkpoint"], record["strategy"]) == ("audioldm2", "tiny-random", "label")
        assert json.loads(record["settings"]) == {"steps": 2, "guidance_scale": 3.5}


def test_any_label_becomes_files_inside_the_output_folder(tmp_path):
    labels = ["../x", "a/b", "..", ".", " ", "x" * 300, "日本語", "Café", "a\\b", "/etc/passwd"]
    prompts = make_prompt_file(tmp_path, {label: ["tone"] for label in labels})
    out = tmp_path / "out"
    summary = generate_clips(prompts, out, generator="tts", duration=0.5, progress=False)
    assert summary.written == len(labels)
    wavs = list(tmp_path.rglob("*.wav"))
    assert len(wavs) == len(labels)
    assert all(wav.resolve().is_relative_to(out.resolve()) for wav in wavs)
    assert all(len(part.removesuffix(".wav")) <= 80 for wav in wavs for part in wav.relative_to(out).parts)
    assert sorted(clip.label for clip in read_manifest(out / "manifest.jsonl")) == sorted(labels)
    empty = make_prompt_file(tmp_path, {"": ["tone"]}, name="empty.json")
    with pytest.raises(ConfigError, match="a label is empty"):
        generate_clips(empty, tmp_path / "empty", generator="tts", progress=False)


def test_tts_rows_record_the_voice_controls_and_are_resampled(tmp_path):
    prompts = make_prompt_file(tmp_path, {"seven": ["seven", "seven, fast, deep, whispered"]}, strategy="llm",
                               domain="speech")
    out = tmp_path / "out"
    generate_clips(prompts, out, generator="tts", duration=1.0, sample_rate=16000, progress=False)
    plain, styled = sorted(read_manifest(out / "manifest.jsonl"), key=lambda clip: clip.id)
    assert (plain.checkpoint, plain.strategy, plain.random_weights) == ("espeak-ng", "llm", False)
    assert plain.meta["native_sample_rate"] == 22050 and soundfile.info(plain.path).samplerate == 16000
    assert soundfile.info(plain.path).frames == 16000
    controls = styled.meta["controls"]
    assert controls["text"] == "seven" and controls["variant"] in ("whisper", "whisperf")
    assert controls["descriptors_used"] == ["fast", "deep", "whispered"]
    assert {"voice", "rate", "pitch", "amplitude", "offset_s"} <= set(plain.meta["controls"])


def test_negative_prompts_go_only_to_generators_that_take_them(tmp_path):
    prompts = make_prompt_file(tmp_path, label_prompts(["dog"], 1), negative_prompt="low quality")
    with pytest.raises(ConfigError, match="generator 'musicgen' takes no negative prompt"):
        generate_clips(prompts, tmp_path / "a", generator="musicgen", checkpoint="tiny-random",
                       negative_prompt="noise", progress=False)
    summary = generate_clips(prompts, tmp_path / "b", generator="musicgen", checkpoint="tiny-random", duration=0.5,
                             progress=False)
    assert summary.notes == ["the prompt file's negative prompt is not used: musicgen takes none"]
    assert read_manifest(tmp_path / "b" / "manifest.jsonl")[0].meta["negative_prompt"] is None
    generate_clips(prompts, tmp_path / "c", **TINY_AUDIOLDM2)
    assert read_manifest(tmp_path / "c" / "manifest.jsonl")[0].meta["negative_prompt"] == "low quality"


def test_the_per_batch_functions_work_alone_as_a_remote_worker_would_call_them(tmp_path):
    """The seam for a distributed executor: rebuild the generator from picklable settings, run one batch, write."""
    import pickle

    prompts = make_prompt_file(tmp_path, {"seven": ["seven", "seven, slow"]}, domain="speech")
    engine_out = tmp_path / "engine"
    generate_clips(prompts, engine_out, generator="tts", duration=1.0, batch_size=2, progress=False)
    settings = RunSettings(generator="tts", checkpoint="espeak-ng", duration=1.0, sample_rate=16000, batch_size=2,
                           seed=3, strategy="label")
    settings = pickle.loads(pickle.dumps(settings))
    from synthaudio.generation import generate_batch, make_generator

    jobs = plan_jobs(read_prompts(prompts), tmp_path / "worker", seed=settings.seed)
    clips = [write_clip(tmp_path / "worker", job, waveform, settings)
             for job, waveform in generate_batch(make_generator(settings), jobs, settings)]
    assert [clip.id for clip in clips] == ["seven-00000", "seven-00001"]
    assert wav_digests(tmp_path / "worker") == wav_digests(engine_out)
    engine_rows = {clip.id: clip for clip in read_manifest(engine_out / "manifest.jsonl")}
    assert all(clip.model_dump(exclude={"path"}) == engine_rows[clip.id].model_dump(exclude={"path"})
               for clip in clips)


def test_postprocess_resamples_cuts_pads_peaks_and_band_limits():
    settings = RunSettings(generator="tts", checkpoint=None, duration=0.5, sample_rate=16000, batch_size=1, seed=0,
                           strategy="label")
    rate = 32000
    time_axis = np.arange(int(0.8 * rate)) / rate
    tone = (0.1 * np.sin(2 * np.pi * 300 * time_axis) + 0.1 * np.sin(2 * np.pi * 6000 * time_axis)).astype(np.float32)
    out = postprocess(tone, rate, settings)
    assert out.shape == (8000,) and np.max(np.abs(out)) == pytest.approx(10 ** (-1 / 20))
    assert postprocess(tone[: rate // 10], rate, settings).shape == (8000,)  # short audio is zero-padded
    narrow = postprocess(tone, rate, RunSettings(**{**settings.__dict__, "band_limit_hz": 4000}))
    spectrum, narrow_spectrum = np.abs(np.fft.rfft(out)), np.abs(np.fft.rfft(narrow))
    high = int(6000 / 16000 * 8000)  # rfft bin of 6 kHz
    assert narrow_spectrum[high - 5: high + 5].max() < 0.01 * spectrum[high - 5: high + 5].max()


def test_nan_audio_is_refused_with_the_dtype_hint(tmp_path):
    settings = RunSettings(generator="audioldm2", checkpoint="x", duration=0.1, sample_rate=16000, batch_size=1,
                           seed=0, strategy="label")
    job = ClipJob(id="dog-00000", label="dog", index=0, prompt="dog", seed=1, relpath="dog/dog-00000.wav")
    waveform = Waveform(np.full(1600, np.nan, dtype=np.float32), 16000, {},
                        {"dtype": "float16", "settings": {}, "device": "cuda", "versions": {}, "checkpoint": "x",
                         "random_weights": False})
    with pytest.raises(AudioError, match="produced NaN/Inf samples for clip 'dog-00000' \\(dtype float16\\); rerun "
                                         "with --dtype float32"):
        write_clip(tmp_path, job, waveform, settings)
    assert not list(tmp_path.rglob("*.wav"))
