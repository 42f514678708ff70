import json
import subprocess
import sys

from typer.testing import CliRunner

from synthaudio.cli import app


def test_train_then_evaluate_from_the_command_line(tones, synthetic_tones, noise_manifest, cache_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "--train", str(tones), "--train", str(synthetic_tones), "--val", str(tones),
                                 "--out", str(out), "--epochs", "2", "--batch-size", "8", "--lr", "0.003",
                                 "--target-frames", "50", "--source-weights", "synthetic=0.5,real=0.5",
                                 "--augment-noise", str(noise_manifest), "--augment-snr-db", "3:30",
                                 "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    assert "epoch   2" in result.output and "UAR (macro recall)" in result.output
    config = json.loads((out / "config.json").read_text())
    assert config["settings"]["source_weights"] == {"synthetic": 0.5, "real": 0.5}
    assert config["settings"]["augment_noise"]["snr_db"] == [3.0, 30.0]
    result = runner.invoke(app, ["evaluate", "--run", str(out), "--test", str(tones), "--noise", str(noise_manifest),
                                 "--snr-db", "10", "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    assert "measured SNR of the mixtures" in result.output
    assert (out / "eval" / "manifest_noise-noise_snr10_seed0.json").is_file()


def test_paper_protocol_tables_are_marked_optimistic(tones, cache_dir, tmp_path):
    result = CliRunner().invoke(app, ["train", "--train", str(tones), "--test", str(tones), "--protocol", "paper",
                                      "--out", str(tmp_path / "paper"), "--epochs", "1", "--target-frames", "50",
                                      "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    assert "OPTIMISTIC" in result.output and "TEST acc" in result.output


def test_bad_input_is_one_line_and_exit_status_2(tmp_path, tones):
    completed = subprocess.run([sys.executable, "-c", "from synthaudio.cli import main; main()", "evaluate",
                                "--run", str(tmp_path / "nothing"), "--test", str(tones)],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nothing'}: no such run folder; train one with `synthaudio train --out "
        f"{tmp_path / 'nothing'}`"]
