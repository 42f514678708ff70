"""The failures a new user hit, each reproduced as they saw it: the command, the message, the files left."""

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest
import soundfile
from typer.testing import CliRunner

from synthaudio.cli import app
from synthaudio.manifest import Clip, write_manifest
from synthaudio.report.tables import markdown
from synthaudio.study.cache import begin_stage
from tests.faults.fault_helpers import run_main, tree
from tests.fixtures.generation import generate_clips, label_prompts, make_prompt_file, manifest_rows, wav_digests
from tests.recognition.conftest import tone_manifest

TINY = {"generator": "audioldm2", "checkpoint": "tiny-random", "duration": 0.5, "batch_size": 2,
        "settings": {"steps": 2}, "progress": False}
TINY_OPTIONS = ["--generator", "audioldm2", "--checkpoint", "tiny-random", "--duration", "0.5", "--batch-size", "2",
                "--steps", "2", "--no-progress"]


def write_noise(path, seconds=0.2, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = np.random.default_rng(seed).standard_normal(int(16000 * seconds)).astype(np.float32) * 0.1
    soundfile.write(str(path), samples, 16000)
    return path


def test_a_file_name_that_is_not_utf8_is_named_safely_and_skipped(tmp_path):
    for index in range(3):
        write_noise(tmp_path / "ds" / "cafe" / f"ok{index}.wav", seed=index)
    write_noise(tmp_path / "ds" / "cafe" / "tmp.wav", seed=9)
    os.rename(os.fsencode(str(tmp_path / "ds" / "cafe" / "tmp.wav")),
              os.fsencode(str(tmp_path / "ds" / "cafe")) + b"/caf\xe9 \xff.wav")
    shown = f"{tmp_path}/ds/cafe/caf\\xe9 \\xff.wav: file name is not valid UTF-8; rename it"

    code, out, err = run_main("prepare", "folder", "--root", str(tmp_path / "ds"), "--out", str(tmp_path / "m.jsonl"),
                              "--all-split", "train")
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith(f"error: {shown}")
    assert "--on-error skip" in err and not (tmp_path / "m.jsonl").exists()

    code, out, err = run_main("prepare", "folder", "--root", str(tmp_path / "ds"), "--out", str(tmp_path / "m.jsonl"),
                              "--all-split", "train", "--on-error", "skip")
    assert code == 0, err
    assert "skipped 1 unusable file(s):" in out and f"  {shown}" in out
    assert len((tmp_path / "m.jsonl").read_text(encoding="utf-8").splitlines()) == 3


def test_generate_removes_only_its_own_temporary_files(tmp_path):
    prompts = make_prompt_file(tmp_path, label_prompts(["rain"], 2))
    out = tmp_path / "ex"
    user_files = [out / "project" / "sub" / ".draft.tmp", out / ".notes.tmp", out / "rain" / ".mine.tmp"]
    for path in user_files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("the user's work")
    stale = out / "rain" / ".synthaudio-rain-00001.wav.x1y2.tmp"  # what a killed run of ours leaves
    stale.write_bytes(b"half a wav")
    summary = generate_clips(prompts, out, **TINY)
    assert summary.written == 2
    assert all(path.read_text() == "the user's work" for path in user_files)
    assert not stale.exists()


def test_generate_refuses_a_folder_holding_a_manifest_it_did_not_write(tmp_path):
    data = tmp_path / "realdata"
    clips = [Clip(id=f"real-{index}", path=str(write_noise(data / "dog" / f"{index}.wav", seed=index)), label="dog",
                  split="train", fold=None, source="real", duration=0.2, sample_rate=16000) for index in range(3)]
    clips.append(Clip(id="gone", path=str(data / "dog" / "gone.wav"), label="dog", split="train", fold=None,
                      source="real", duration=0.2, sample_rate=16000))
    write_manifest(data / "manifest.jsonl", clips)
    before = tree(data)
    prompts = make_prompt_file(tmp_path, label_prompts(["dog"], 2))

    code, out, err = run_main("generate", "--prompts", str(prompts), "--out", str(data), *TINY_OPTIONS)
    assert code == 2 and err.splitlines() == [
        f"error: {data / 'manifest.jsonl'}: holds real clips (line 1, 'real-0'), not one written by `synthaudio "
        f"generate`; choose another --out, nothing was changed"]
    assert tree(data) == before  # no row dropped, no clip added, no lock file

    ours = tmp_path / "synth"
    generate_clips(prompts, ours, **TINY)
    before = tree(ours)
    other = make_prompt_file(tmp_path, label_prompts(["cat"], 2), name="other.json")
    code, out, err = run_main("generate", "--prompts", str(other), "--out", str(ours), *TINY_OPTIONS)
    assert code == 2 and "holds clip 'dog-00000' (line 1) of label 'dog', which this prompt file does not have: it " \
                         "was written by another generation run; choose another --out" in err
    assert tree(ours) == before


def test_a_failed_training_does_not_block_the_corrected_rerun(tmp_path):
    tones = tone_manifest(tmp_path / "tones", {"train": 3, "val": 2})
    noise = tmp_path / "noise"
    silent = noise / "silent.wav"
    silent.parent.mkdir(parents=True)
    soundfile.write(str(silent), np.zeros(16000, dtype=np.float32), 16000)
    write_manifest(noise / "noise.jsonl", [Clip(id="silent", path=str(silent), label="noise", split="train",
                                                fold=None, source="real", duration=1.0, sample_rate=16000)])
    command = ["train", "--train", str(tones), "--val", str(tones), "--out", str(tmp_path / "run"), "--epochs", "1",
               "--batch-size", "4", "--target-frames", "50", "--cache-dir", str(tmp_path / "cache"),
               "--augment-noise", str(noise / "noise.jsonl")]
    code, out, err = run_main(*command)
    assert code == 2 and "noise clip 'silent'" in err and "is silent" in err
    write_noise(silent, seconds=1.0)  # the user replaces the silent file
    code, out, err = run_main(*command)
    assert code == 0, err
    assert "already holds a run" not in err and (tmp_path / "run" / "metrics.json").is_file()
    assert not (tmp_path / "run" / ".lock").exists()
    code, out, err = run_main(*command)  # a finished run is still protected
    assert code == 2 and "already holds a run" in err and "--overwrite" in err


def test_an_interrupted_training_is_replaced_by_the_rerun(tmp_path):
    from synthaudio.recognition.training import TrainSettings, train_run

    tones = tone_manifest(tmp_path / "tones", {"train": 3, "val": 2})
    settings = TrainSettings(epochs=2, batch_size=4, features={"target_frames": 50})

    def interrupt(row):
        if "epoch" in row:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_run(settings, [tones], tones, tmp_path / "run", cache_dir=tmp_path / "cache", progress=interrupt)
    assert (tmp_path / "run" / "config.json").is_file() and not (tmp_path / "run" / "metrics.json").exists()
    result = train_run(settings, [tones], tones, tmp_path / "run", cache_dir=tmp_path / "cache")
    assert result.best_epoch in (1, 2) and (tmp_path / "run" / "metrics.json").is_file()


@pytest.mark.parametrize("command, target, kept", [
    (["generate", "--prompts", "p.json", "--generator", "audioldm2", "--out", "synth"],
     "synthaudio.generation.run_generation", "every finished clip is kept in synth (listed in its manifest.jsonl); run "
                                         "the same command again to generate only the rest"),
    (["train", "--train", "m.jsonl", "--out", "run"], "synthaudio.recognition.training.train_run",
     "the unfinished run in run is replaced when you run the same command again"),
    (["prompts", "--labels", "a,b", "--domain", "sound", "--clips-per-class", "2", "--out", "p.json"],
     "synthaudio.prompts.build.make_prompt_set", "p.json was not written; nothing was written"),
])
def test_ctrl_c_says_what_was_kept_and_how_to_resume(monkeypatch, command, target, kept):
    module, name = target.rsplit(".", 1)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(f"{module}.{name}", interrupted)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 130
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: ") and kept in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_ctrl_c_in_a_study_points_at_its_stages(monkeypatch, tmp_path):
    from tests.study.test_plan_errors import study
    from tests.study.test_plan_errors import tone_manifest as study_tones

    path = study(tmp_path, {"zs": {"kind": "zero_shot", "dataset": "d", "generators": ["g"], "prompts": ["label"],
                                   "clips_per_class": 2}},
                 datasets={"d": {"manifest": str(study_tones(tmp_path, "d", {"test": 1})), "domain": "sound"}})

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("synthaudio.study.runner.run_study", interrupted)
    result = CliRunner().invoke(app, ["study", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 130
    assert result.stderr.strip() == (f"interrupted: 0 stage(s) finished in this run are kept in {tmp_path / 'out'}"
                                     f"/stages; run the same command again to resume")


def test_llm_timeout_is_suggested_only_after_timeouts():
    from synthaudio.llm.base import RetryPolicy, Transient, call_with_retries

    def fails():
        raise RuntimeError("HTTP 500")

    for reason, timed_out in (("HTTP 500", False), ("rate limited (HTTP 429)", False), ("no answer", True)):
        with pytest.raises(Exception) as error:
            call_with_retries(fails, policy=RetryPolicy(attempts=2, initial_backoff_s=0), where="openai at h",
                              hint="check that the server is up",
                              classify=lambda _, reason=reason, timed_out=timed_out: Transient(reason,
                                                                                               timed_out=timed_out))
        assert ("raise --llm-timeout" in str(error.value)) == timed_out, str(error.value)


def test_outputs_honour_the_umask(tmp_path):
    prompts = make_prompt_file(tmp_path, label_prompts(["rain"], 1))
    previous = os.umask(0o002)  # a group that shares the data
    try:
        generate_clips(prompts, tmp_path / "synth", **TINY)
        begin_stage(tmp_path / "stage", "pool", "k" * 64, {"labels": ["rain"]})
    finally:
        os.umask(previous)
    written = [tmp_path / "synth" / "manifest.jsonl", tmp_path / "synth" / "metadata.csv",
               *(tmp_path / "synth").rglob("*.wav"), tmp_path / "stage" / "inputs.json"]
    assert len(written) == 4
    assert {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in written} == {
        path.name: "0o664" for path in written}
    assert wav_digests(tmp_path / "synth") and manifest_rows(tmp_path / "synth")


def test_a_label_with_a_line_break_stays_in_its_table_row():
    text = markdown(pd.DataFrame([{"label": "dog\nbark", "accuracy": 0.5}, {"label": "cat\r\nmeow|purr",
                                                                           "accuracy": 0.25}]))
    assert text.splitlines() == ["| label | accuracy |", "|---|---|", "| dog<br>bark | 0.500 |",
                                 "| cat<br>meow\\|purr | 0.250 |"]


def test_a_stage_record_is_json_with_no_credentials(tmp_path):
    begin_stage(tmp_path / "s", "prompts", "k" * 64,
                {"llm": {"base_url": "http://user:sk-PLANTED-123456789@127.0.0.1:1/v1?key=PLANTED2&x=1"}})
    record = json.loads((tmp_path / "s" / "inputs.json").read_text())
    assert record["inputs"]["llm"]["base_url"] == "http://127.0.0.1:1/v1?x=1"


@pytest.mark.slow
def test_a_real_ctrl_c_in_generate_is_one_line_and_status_130(tmp_path):
    import signal
    import subprocess
    import time

    from tests.fixtures.generation import cli_command

    prompts = make_prompt_file(tmp_path, label_prompts(["rain", "wind"], 20))
    out = tmp_path / "out"
    # A user's Ctrl-C reaches a foreground process whose SIGINT has the default disposition. A shell runs background
    # jobs (e.g. `nohup .ci/run &`) with SIGINT ignored, which the child would inherit, and Python then never turns
    # SIGINT into KeyboardInterrupt: the run would finish and exit 0.
    process = subprocess.Popen(cli_command("generate", "--prompts", str(prompts), "--out", str(out), *TINY_OPTIONS),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    manifest = out / "manifest.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (manifest.exists() and manifest.stat().st_size > 0):
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in err
    assert f"interrupted: every finished clip is kept in {out} (listed in its manifest.jsonl); run the same command " \
           f"again to generate only the rest" in err.splitlines()
    assert 0 < len(manifest_rows(out)) < 40 and not list(out.rglob("*.tmp"))
