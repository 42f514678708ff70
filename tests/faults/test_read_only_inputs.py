"""Read-only inputs: a dataset on a read-only path is prepared, trained on and evaluated, and nothing is ever
written beside it (no lock, cache, temporary or manifest in the user's folder)."""

import os
import stat

import numpy as np
import pytest
import soundfile

from tests.faults.fault_helpers import run_main, tmpfs, tree

FREQUENCIES = {"low": 300.0, "high": 2500.0}


def make_dataset(root, clips_per_class=6):
    for label, frequency in FREQUENCIES.items():
        for index in range(clips_per_class):
            generator = np.random.default_rng([index, int(frequency)])
            t = np.arange(8000) / 16000
            samples = 0.3 * np.sin(2 * np.pi * frequency * (1 + 0.02 * index) * t) \
                + 0.02 * generator.standard_normal(len(t))
            path = root / label / f"{label}_{index}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(str(path), samples.astype(np.float32), 16000)


def make_read_only(root):
    for directory, _, files in os.walk(root):
        for name in files:
            os.chmod(os.path.join(directory, name), stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.chmod(directory, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


def make_writable(root):
    for directory, _, files in os.walk(root):
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o644)


@pytest.fixture
def read_only_dataset(tmp_path):
    root = tmp_path / "shared" / "dataset"
    make_dataset(root)
    make_read_only(tmp_path / "shared")
    yield root
    make_writable(tmp_path / "shared")


def test_a_dataset_on_a_read_only_path_is_used_and_left_as_it_was(read_only_dataset, tmp_path):
    shared = read_only_dataset.parent
    before = tree(shared)
    work = tmp_path / "work"
    code, out, err = run_main("prepare", "folder", "--root", str(read_only_dataset), "--out",
                              str(work / "real.jsonl"), "--fractions", "0.5,0.17,0.33")
    assert code == 0, err
    code, out, err = run_main("train", "--train", str(work / "real.jsonl"), "--val", str(work / "real.jsonl"),
                              "--out", str(work / "run"), "--epochs", "1", "--batch-size", "4", "--target-frames",
                              "50", "--cache-dir", str(work / "cache"))
    assert code == 0, err
    code, out, err = run_main("evaluate", "--run", str(work / "run"), "--test", str(work / "real.jsonl"),
                              "--cache-dir", str(work / "cache"))
    assert code == 0, err
    assert tree(shared) == before  # nothing written beside the user's dataset
    assert (work / "run" / "eval").is_dir() and (work / "run" / "metrics.json").is_file()


def test_a_read_only_output_folder_is_one_error_line(read_only_dataset, tmp_path):
    from tests.fixtures.generation import label_prompts, make_prompt_file

    prompts = make_prompt_file(tmp_path, label_prompts(["rain"], 1))
    with tmpfs(tmp_path / "read-only", "ro") as place:  # file modes do not stop root: a read-only mount does
        code, out, err = run_main("prepare", "folder", "--root", str(read_only_dataset), "--out",
                                  str(place / "manifest.jsonl"))
        assert code == 2 and err.splitlines() == [
            f"error: {place / 'manifest.jsonl'}: cannot write (Read-only file system); choose a writable --out (or "
            f"fix the folder's permissions)"]
        code, out, err = run_main("generate", "--prompts", str(prompts), "--out", str(place / "synth"), "--generator",
                                  "audioldm2", "--checkpoint", "tiny-random", "--duration", "0.5", "--no-progress")
        assert code == 2 and err.splitlines() == [
            f"error: {place / 'synth'}: cannot write (Read-only file system); choose a writable --out (or fix the "
            f"folder's permissions)"]
