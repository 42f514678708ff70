"""`synthaudio prepare` through typer's CliRunner on the real app. A SynthaudioError leaves the app as
`result.exception` (the installed entry point, main(), prints it as one line and exits 2: checked once through
a real process at the end)."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from synthaudio.cli import app
from synthaudio.errors import ConfigError, DatasetError
from synthaudio.manifest import read_manifest
from tests.fixtures.datasets import make_esc50, make_folder, make_gtzan, make_speechcommands


def prepare(*args):
    return CliRunner().invoke(app, ["prepare", *map(str, args)])


@pytest.fixture(scope="module")
def esc50_root(tmp_path_factory):
    return make_esc50(tmp_path_factory.mktemp("esc50"), categories=("dog", "rain"), clips_per_class_per_fold=2)


def test_esc50(esc50_root, tmp_path):
    out = tmp_path / "real" / "esc50.jsonl"
    result = prepare("esc50", "--root", esc50_root, "--out", out, "--test-fold", 3, "--seed", 5)
    assert result.exit_code == 0, result.output
    assert result.output == f"esc50: 20 clips, 2 labels (train 12, val 4, test 4) -> {out}\n"
    clips = read_manifest(out)
    assert {c.fold for c in clips if c.split == "test"} == {3}


def test_folder_all_in_test(tmp_path):
    root = make_folder(tmp_path, classes={"alpha": 2, "bravo": 2})
    out = tmp_path / "m.jsonl"
    result = prepare("folder", "--root", root, "--out", out, "--all-split", "test")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("folder: 4 clips, 2 labels (test 4)")
    assert {c.split for c in read_manifest(out)} == {"test"}


def test_speechcommands_writes_the_noise_manifest_beside_the_output(tmp_path):
    root = make_speechcommands(tmp_path, words=("go",), speakers=("aa", "bb", "cc"))
    out = tmp_path / "sc.jsonl"
    result = prepare("speechcommands", "--root", root, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"noise manifest: 2 clips -> {tmp_path / 'sc.noise.jsonl'}" in result.output
    assert [c.label for c in read_manifest(tmp_path / "sc.noise.jsonl")] == ["running_tap", "white_noise"]


def test_skip_lists_bad_files_at_the_end(tmp_path):
    root = make_gtzan(tmp_path, genres=("jazz",), tracks_per_genre=10, sample_rate=2000)
    result = prepare("gtzan", "--root", root, "--out", tmp_path / "g.jsonl", "--on-error", "skip",
                     "--segment", "full")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"gtzan: 10 clips, 1 labels (train 8, val 1, test 1) -> {tmp_path / 'g.jsonl'}"
    assert lines[1:] == ["skipped 1 unusable file(s):",
                         f"  {root / 'genres/jazz/jazz.00054.wav'}: not a readable audio or video file "
                         "(InvalidDataError)"]
    assert all(c.offset == 0 and c.duration == 30.0 for c in read_manifest(tmp_path / "g.jsonl"))


@pytest.mark.parametrize("args, error, message", [
    (["esc-50"], DatasetError, "unknown dataset 'esc-50'; known datasets: esc50, gtzan, speechcommands, iemocap, "
                               "ucf101, activitynet, folder, asterisk, qabcs"),
    (["esc50", "--test-fold", "9"], ConfigError, "--test-fold 9 is out of range: this dataset has folds 1, 2, 3, 4, 5"),
    (["esc50", "--noise-out", "n.jsonl"], ConfigError, "--noise-out applies only to speechcommands, not to esc50"),
    (["esc50", "--segment", "full"], ConfigError, "--segment does not apply to esc50; its options: --test-fold, "
                                                  "--val-fraction, --seed, --on-error, --verify"),
    (["gtzan", "--segment", "ten:twenty"], ConfigError, "--segment must be START:END in seconds (e.g. 10:20) or "
                                                        "'full', got 'ten:twenty'"),
    (["folder", "--fractions", "0.9,0.2"], ConfigError, "--fractions must be three numbers train,val,test such as "
                                                        "0.8,0.1,0.1; got 0.9,0.2"),
])
def test_errors_are_one_line_and_nothing_is_written(esc50_root, tmp_path, args, error, message):
    out = tmp_path / "out.jsonl"
    result = prepare(*args[:1], "--root", esc50_root, "--out", out, *args[1:])
    assert isinstance(result.exception, error), result.output
    assert str(result.exception) == message
    assert not out.exists()


def test_entry_point_prints_the_error_and_exits_2_without_writing(tmp_path):
    root = make_gtzan(tmp_path, genres=("jazz",), tracks_per_genre=2, seconds=21, sample_rate=2000)
    out = tmp_path / "g.jsonl"
    result = subprocess.run([sys.executable, "-c", "from synthaudio.cli import main; main()", "prepare", "gtzan",
                             "--root", str(root), "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {root / 'genres/jazz/jazz.00054.wav'}: not a readable audio")
    assert "rerun with --on-error skip" in result.stderr
    assert not out.exists() and result.stdout == ""


def test_folder_group_options(tmp_path):
    root = make_folder(tmp_path / "data", classes={"dog": 4, "cat": 4}, nested=False)
    out = tmp_path / "m.jsonl"
    result = prepare("folder", "--root", str(root), "--out", str(out), "--all-split", "test",
                     "--group-pattern", r"^[a-z]+_(\d)")
    assert result.exit_code == 0, result.output
    assert {c.id.rsplit("/", 1)[1]: c.group for c in read_manifest(out)}["cat_3.wav"] == "folder/3"
    bad = prepare("folder", "--root", str(root), "--out", str(tmp_path / "bad.jsonl"), "--group-pattern", "[")
    assert isinstance(bad.exception, ConfigError)
    assert str(bad.exception).startswith("--group-pattern '[' is not a valid regular expression: ")
    assert not (tmp_path / "bad.jsonl").exists()
