"""`synthaudio generate` as a user runs it: SIGKILL mid-run and resume, a concurrent run refused, bad options."""

import json
import os
import signal
import subprocess
import time

import pytest
import soundfile

from tests.fixtures.generation import cli_command, label_prompts, make_prompt_file, manifest_rows, run_cli, wav_digests

# 3 labels x 8 clips, batches of 2: 12 model calls, long enough to be killed in the middle.
OPTIONS = ["--generator", "audioldm2", "--checkpoint", "tiny-random", "--duration", "1", "--steps", "4",
           "--batch-size", "2", "--seed", "5"]


def rows_without_order(folder):
    return sorted(manifest_rows(folder), key=lambda row: row["id"])


def wait_for_rows(folder, count, process, timeout=120.0):
    manifest = folder / "manifest.jsonl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if manifest.exists() and manifest.read_bytes().count(b"\n") >= count:
            return
        if process.poll() is not None:
            raise AssertionError(f"generation ended before {count} rows: {process.stderr.read()}")
        time.sleep(0.05)
    raise AssertionError(f"no {count} manifest rows after {timeout} s")


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_gives_the_uninterrupted_result(tmp_path):
    # enough clips that the run is still writing when a second command has started (imports take seconds)
    clips = 3 * 20
    prompts = make_prompt_file(tmp_path, label_prompts(["dog", "rain", "siren"], clips // 3))
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    uninterrupted = run_cli("generate", "--prompts", str(prompts), "--out", str(whole), *OPTIONS)
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    assert f"{clips} clips written, 0 already done, of {clips} planned" in uninterrupted.stdout

    process = subprocess.Popen(cli_command("generate", "--prompts", str(prompts), "--out", str(killed), *OPTIONS),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_rows(killed, 5, process)
        # while it runs, a second run on the same folder is refused with a clear message
        second = run_cli("generate", "--prompts", str(prompts), "--out", str(killed), *OPTIONS)
        assert second.returncode == 2
        assert "another synthaudio generate is writing to this folder" in second.stderr
        assert "Traceback" not in second.stderr
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    rows = manifest_rows(killed)
    assert 5 <= len(rows) < clips, "the run should have been killed in the middle"
    for row in rows:  # a row never points at a missing or partial file
        info = soundfile.info(str(killed / row["path"]))
        assert (info.frames, info.samplerate) == (16000, 16000)

    rerun = run_cli("generate", "--prompts", str(prompts), "--out", str(killed), *OPTIONS)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{clips - len(rows)} clips written, {len(rows)} already done, of {clips} planned" in rerun.stdout
    assert not list(killed.rglob("*.tmp"))  # no partial file left
    assert rows_without_order(killed) == rows_without_order(whole)  # same manifest, modulo order
    assert wav_digests(killed) == wav_digests(whole)  # and the same bytes
    assert (killed / "metadata.csv").read_text() == (whole / "metadata.csv").read_text()


def test_cli_summary_and_one_line_errors(tmp_path):
    prompts = make_prompt_file(tmp_path, {"seven": ["seven", "seven, fast"]}, domain="speech")
    result = run_cli("generate", "--prompts", str(prompts), "--generator", "tts", "--out", str(tmp_path / "out"),
                     "--duration", "1", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "2 clips written, 0 already done, of 2 planned" in result.stdout and "clips/s" in result.stdout
    for options, message in [
        (["--generator", "tts", "--steps", "10"],
         "generator 'tts' has no setting 'steps' (its settings: voices, languages, engine, piper_voices)"),
        (["--generator", "tts", "--setting", "engine"], "--setting 'engine': expected KEY=VALUE"),
        (["--generator", "tts", "--setting", "engine=all", "--setting", "engine=piper"],
         "--setting engine is given twice; give it once"),
        (["--generator", "tts", "--steps", "10", "--setting", "steps=20"],
         "--setting steps is also given as --steps; give it once"),
        (["--generator", "tts", "--setting", "engine=loud"],
         "generator 'tts': setting 'engine': Input should be 'espeak', 'piper' or 'all'"),
        (["--generator", "tts", "--shard", "2/2"], "--shard 2/2: expected I/N with 0 <= I < N"),
        (["--generator", "nope"], "unknown generator 'nope'; known generators: audioldm2, musicgen"),
        (["--generator", "tts", "--duration", "0"], "--duration 0.0 and --sample-rate 16000 must both be positive"),
    ]:
        failed = run_cli("generate", "--prompts", str(prompts), "--out", str(tmp_path / "bad"), *options)
        assert failed.returncode == 2, (options, failed.stderr)
        assert message in failed.stderr and "Traceback" not in failed.stderr
    chosen = run_cli("generate", "--prompts", str(prompts), "--generator", "tts", "--out", str(tmp_path / "en_us"),
                     "--duration", "1", "--no-progress", "--setting", 'voices=["en-us"]')
    assert chosen.returncode == 0, chosen.stderr
    rows = [json.loads(line) for line in (tmp_path / "en_us" / "manifest.jsonl").read_text().splitlines()]
    assert {row["meta"]["settings"]["voices"][0] for row in rows} == {"en-us"}
    assert {row["meta"]["controls"]["voice"] for row in rows} == {"en-us"}
    missing = run_cli("generate", "--prompts", str(tmp_path / "none.json"), "--generator", "tts", "--out",
                      str(tmp_path / "bad"))
    assert missing.returncode == 2 and "prompts file not found" in missing.stderr
