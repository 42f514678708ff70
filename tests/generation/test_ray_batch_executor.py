"""`synthaudio generate --executor ray`: the same clips as a local run, on worker actors that may die."""

import json

import pytest

from synthaudio.errors import ConfigError, MissingDependencyError, SynthaudioError
from tests.fixtures.generation import (
    generate_clips,
    label_prompts,
    make_prompt_file,
    manifest_rows,
    run_cli,
    wav_digests,
)
from tests.fixtures.ray_workers import WorkerKiller

pytest.importorskip("ray")

# 2 labels x 6 clips in batches of 2: 6 batches of about 0.3 s each on one thread, long enough to be killed mid-run
TINY_MUSICGEN = {"generator": "musicgen", "checkpoint": "tiny-random", "duration": 2.0, "batch_size": 2,
                 "progress": False}
CLIPS = 12
BUSY_WORKER = "ray::GenerationWorker.run"


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The reference: the same clips made in this process by the local executor."""
    folder = tmp_path_factory.mktemp("local")
    prompts = make_prompt_file(folder, label_prompts(["dog", "rain"], CLIPS // 2))
    generate_clips(prompts, folder / "out", **TINY_MUSICGEN)
    return prompts, folder / "out"


def rows_by_id(folder):
    """Manifest rows by clip id (a Ray run appends them in completion order); exactly one row per clip."""
    rows = manifest_rows(folder)
    by_id = {row["id"]: row for row in rows}
    assert len(by_id) == len(rows), "a clip has two manifest rows"
    return by_id


def assert_same_clips(folder, reference):
    assert rows_by_id(folder) == rows_by_id(reference)  # paths are relative, provenance includes seeds
    assert wav_digests(folder) == wav_digests(reference)
    assert not list(folder.rglob(".*.tmp")), "a temporary WAV was left behind"


def run_on_ray(prompts, out, **options):
    return generate_clips(prompts, out, executor="ray", executor_options={"workers": 2, **options}, **TINY_MUSICGEN)


@pytest.mark.slow
def test_ray_run_writes_the_clips_and_rows_of_a_local_run(ray_instance, local_run, tmp_path):
    prompts, reference = local_run
    summary = run_on_ray(prompts, tmp_path / "out")
    assert (summary.planned, summary.written, summary.skipped) == (CLIPS, CLIPS, 0)
    assert_same_clips(tmp_path / "out", reference)
    again = run_on_ray(prompts, tmp_path / "out")  # resume semantics: nothing left to do, nothing started
    assert (again.written, again.skipped) == (0, CLIPS)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_killed_worker_loses_only_its_batch_which_a_fresh_worker_finishes(ray_instance, local_run, tmp_path):
    prompts, reference = local_run
    with WorkerKiller(tmp_path / "out", BUSY_WORKER, after_rows=2) as killer:
        summary = run_on_ray(prompts, tmp_path / "out")
    assert len(killer.kills) == 1 and killer.kills[0][1] < CLIPS  # SIGKILLed mid-run
    assert (summary.written, summary.skipped) == (CLIPS, 0)
    assert_same_clips(tmp_path / "out", reference)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_worker_that_keeps_dying_ends_the_run_with_one_message_and_a_rerun_completes(ray_instance, local_run,
                                                                                      tmp_path):
    prompts, reference = local_run
    out = tmp_path / "out"
    with WorkerKiller(out, BUSY_WORKER, after_rows=2, repeat=True) as killer, \
            pytest.raises(SynthaudioError) as failure:
        run_on_ray(prompts, out, max_attempts=2)
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith("ray workers died 2 times running batch ")
    assert "--batch-size 2" in message and "smaller --batch-size, fewer --workers" in message
    assert "rerun the same command to resume" in message
    assert len(killer.kills) >= 2
    finished = rows_by_id(out)  # what was finished before is kept, complete and right
    assert 2 <= len(finished) < CLIPS
    made, expected = wav_digests(out), wav_digests(reference)
    assert all(made[row["path"]] == expected[row["path"]] for row in finished.values())

    summary = run_on_ray(prompts, out)
    assert (summary.written, summary.skipped) == (CLIPS - len(finished), len(finished))
    assert_same_clips(out, reference)


@pytest.mark.timeout(120)
def test_a_worker_that_dies_while_loading_its_model_ends_the_run_with_one_message(ray_instance, local_run, tmp_path):
    prompts, _ = local_run
    with WorkerKiller(tmp_path / "out", "ray::GenerationWorker.__init__", repeat=True), \
            pytest.raises(SynthaudioError) as failure:
        run_on_ray(prompts, tmp_path / "out", workers=1, max_attempts=2)
    assert str(failure.value).startswith("ray worker 1 died 2 times while loading musicgen (tiny-random) (last: ")
    assert str(failure.value).endswith("try a smaller --batch-size, fewer --workers per node, or nodes with more "
                                       "memory")
    assert not (tmp_path / "out" / "manifest.jsonl").exists()


def test_a_bad_input_on_a_worker_is_the_same_error_as_in_a_local_run(ray_instance, local_run, tmp_path):
    prompts, _ = local_run
    missing = tmp_path / "no-such-model"
    with pytest.raises(SynthaudioError) as local_error:
        generate_clips(prompts, tmp_path / "local", **{**TINY_MUSICGEN, "checkpoint": str(missing)})
    with pytest.raises(SynthaudioError) as ray_error:
        generate_clips(prompts, tmp_path / "ray", executor="ray", executor_options={"workers": 1},
                       **{**TINY_MUSICGEN, "checkpoint": str(missing)})
    assert type(ray_error.value) is type(local_error.value)
    assert str(ray_error.value) == str(local_error.value)


def test_workers_the_cluster_cannot_place_fail_after_the_start_timeout(ray_instance, local_run, tmp_path):
    prompts, _ = local_run
    with pytest.raises(SynthaudioError, match=r"ray: 1 of 1 workers did not start within 2 s; each asks 1 CPU and "
                                              r"1 GPU, the cluster has 2 CPUs and 0 GPUs: lower --workers"):
        run_on_ray(prompts, tmp_path / "out", workers=1, gpus_per_worker=1, start_timeout_s=2)


@pytest.mark.parametrize(("options", "device", "message"), [
    ({"workers": 0}, None, "--workers 0: must be at least 1"),
    ({"gpus_per_worker": -1}, None, "--gpus-per-worker -1: must be 0 (CPU) or more"),
    ({}, "cuda:1", "--device cuda:1: with --executor ray each worker sees only its own GPUs; use --device cuda"),
    ({"gpus_per_worker": 0}, "cuda", "--device cuda with --gpus-per-worker 0: give each worker a GPU"),
])
def test_bad_ray_options_are_clear_errors_before_ray_starts(local_run, tmp_path, options, device, message):
    prompts, _ = local_run
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        generate_clips(prompts, tmp_path / "out", executor="ray", executor_options=options,
                       **{**TINY_MUSICGEN, "device": device})


def test_ray_options_without_the_ray_executor_are_refused(local_run, tmp_path):
    prompts, _ = local_run
    with pytest.raises(ConfigError, match="--gpus-per-worker, --workers: options of a distributed executor; add "
                                          "--executor ray"):
        generate_clips(prompts, tmp_path / "out", executor_options={"workers": 2, "gpus_per_worker": 1},
                       **TINY_MUSICGEN)


def test_missing_ray_names_the_install_command(monkeypatch, local_run, tmp_path):
    import sys

    prompts, _ = local_run
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    with pytest.raises(MissingDependencyError, match=r'--executor ray needs ray, which is not installed: pip install '
                                                     r'"synthaudio\[ray\]"'):
        generate_clips(prompts, tmp_path / "out", executor="ray", **TINY_MUSICGEN)


@pytest.mark.slow
def test_cli_starts_its_own_local_ray_and_matches_the_local_run(local_run, tmp_path, tmp_path_factory):
    """As a user runs it, without a cluster: a private local Ray, session files under RAY_TMPDIR, none at home."""
    prompts, reference = local_run
    home = tmp_path / "home"
    home.mkdir()
    # a short folder: Ray's socket paths under it must stay within the 107 bytes of a Unix socket name
    environment = {"RAY_TMPDIR": str(tmp_path_factory.mktemp("r")), "HOME": str(home)}
    arguments = ["generate", "--prompts", str(prompts), "--generator", "musicgen", "--checkpoint", "tiny-random",
                 "--duration", "2.0", "--batch-size", "2", "--no-progress", "--executor", "ray"]
    refused = run_cli(*arguments, "--out", str(tmp_path / "refused"), "--workers", "2", "--gpus-per-worker", "1",
                      env=environment)
    assert refused.returncode == 2
    assert "--workers 2 do not fit this machine: each asks 1 CPU and 1 GPU, the cluster has 2 CPUs and 0 GPUs" \
        in refused.stderr
    nobody = run_cli(*arguments, "--out", str(tmp_path / "nobody"), "--address", "127.0.0.1:9", env=environment)
    assert nobody.returncode == 2
    assert "--address 127.0.0.1:9: nothing answers there" in nobody.stderr  # at once, not after Ray's retries
    result = run_cli(*arguments, "--out", str(tmp_path / "out"), "--workers", "2", env=environment)
    assert result.returncode == 0, result.stderr
    assert f"{CLIPS} clips written, 0 already done, of {CLIPS} planned" in result.stdout
    assert_same_clips(tmp_path / "out", reference)
    assert json.loads((tmp_path / "out" / "manifest.jsonl").read_text().splitlines()[0])["generator"] == "musicgen"
    assert not (home / ".ray").exists()


def test_errors_keep_their_class_message_and_fields_across_a_process_boundary():
    """A worker's error reaches the driver pickled: errors whose constructors take other arguments than their
    message must survive that (an AudioError from a worker names the file like a local one)."""
    import pickle

    from synthaudio.errors import AudioError, NoAudioTrackError

    for error in (AudioError("/data/a.wav", "produced NaN samples"), NoAudioTrackError("/data/v.mp4"),
                  MissingDependencyError("ray", "--executor ray", "pip install ray"), ConfigError("x: bad")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error) and vars(copy) == vars(error)
    assert pickle.loads(pickle.dumps(AudioError("/data/a.wav", "bad"))).path == "/data/a.wav"
