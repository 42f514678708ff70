import json
import subprocess
import sys

from typer.testing import CliRunner

from synthaudio import __version__
from synthaudio.cli import app


def run_cli(*args, cwd=None):
    """The installed entry point as a user runs it (main() turns SynthaudioError into one line + exit 2)."""
    return subprocess.run([sys.executable, "-c", "from synthaudio.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_version_and_help():
    runner = CliRunner()
    assert runner.invoke(app, ["--version"]).output.strip() == f"synthaudio {__version__}"
    help_text = runner.invoke(app, ["--help"]).output
    assert "manifest" in help_text


def test_manifest_stats_counts_labels_splits_and_hours(tmp_path, write_tone):
    rows = []
    for index, (label, split) in enumerate([("dog", "train"), ("dog", "test"), ("rain", "train")]):
        write_tone(f"{index}.wav", seconds=1.8)
        rows.append({"id": str(index), "path": f"{index}.wav", "label": label, "split": split, "fold": None,
                     "source": "real", "duration": 1.8, "sample_rate": 16000})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(app, ["manifest", "stats", str(tmp_path / "m.jsonl")])
    assert result.exit_code == 0, result.output
    assert "3 clips, 2 labels, 0.002 hours" in result.output
    assert "real/train" in result.output and "real/test" in result.output


def test_bad_input_is_one_line_and_exit_status_2(tmp_path):
    (tmp_path / "m.jsonl").write_text('{"id": "x"}\n')
    result = run_cli("manifest", "stats", str(tmp_path / "m.jsonl"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith(f"error: {tmp_path / 'm.jsonl'}:1: missing field")
    assert "Traceback" not in result.stderr


def test_manifest_merge_rebases_paths_and_refuses_repeated_ids(tmp_path, write_tone):
    for shard in ("shard-0", "shard-1"):
        write_tone(f"{shard}/dog/{shard}.wav")
        row = {"id": shard, "path": f"dog/{shard}.wav", "label": "dog", "split": "train", "fold": None,
               "source": "real", "duration": 1.0, "sample_rate": 16000}
        (tmp_path / shard / "manifest.jsonl").write_text(json.dumps(row) + "\n")
    shards = [str(tmp_path / s / "manifest.jsonl") for s in ("shard-0", "shard-1")]
    result = CliRunner().invoke(app, ["manifest", "merge", "--out", str(tmp_path / "all.jsonl"), *shards])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert [r["path"] for r in rows] == ["shard-0/dog/shard-0.wav", "shard-1/dog/shard-1.wav"]

    duplicate = run_cli("manifest", "merge", "--out", str(tmp_path / "twice.jsonl"), shards[0], shards[0])
    assert duplicate.returncode == 2
    assert "id 'shard-0' is also in" in duplicate.stderr and "distinct ids" in duplicate.stderr
    assert not (tmp_path / "twice.jsonl").exists()
