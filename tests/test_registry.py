"""Registries and plugins: a package installed beside synthaudio adds a generator and a dataset recipe through
entry points, and the commands list and use them like built-in ones."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from synthaudio.errors import ConfigError
from synthaudio.registry import Registry

PLUGIN = Path(__file__).parent / "fixtures" / "plugin"
REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> Path:
    """The toy plugin installed (pip, entry points and all) into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("source") / "plugin"
    shutil.copytree(PLUGIN, source)  # setuptools builds in the source folder: keep the repository clean
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(source)], check=True, capture_output=True,
                   env={**os.environ, "PIP_NO_CACHE_DIR": "1"})
    assert list(target.glob("synthaudio_toy_plugin-*.dist-info/entry_points.txt"))
    return target


def synthaudio(plugin_path: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), str(REPOSITORY)])}
    return subprocess.run([sys.executable, "-c", "from synthaudio.cli import main; main()", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def test_a_plugin_generator_and_recipe_are_listed_and_used(plugin_path, tmp_path):
    listed = synthaudio(plugin_path, "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = dict(line.split(": ", 1) for line in listed.stdout.splitlines())
    assert lines["generators"].startswith("audioldm2, musicgen, audiogen, stable-audio, tts")
    assert "toy-tones (plugin: synthaudio-toy-plugin)" in lines["generators"]
    assert "toy-folder (plugin: synthaudio-toy-plugin)" in lines["datasets"]
    assert lines["allocation-rules"] == "uniform, f1_gap, confusion"

    prompts = tmp_path / "prompts.json"
    made = synthaudio(plugin_path, "prompts", "--labels", "beep,boop", "--domain", "sound", "--strategy", "label",
                      "--clips-per-class", "2", "--out", str(prompts), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    generated = synthaudio(plugin_path, "generate", "--prompts", str(prompts), "--generator", "toy-tones",
                           "--duration", "0.25", "--out", str(tmp_path / "synth"), "--no-progress", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    rows = [json.loads(line) for line in (tmp_path / "synth" / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and {row["generator"] for row in rows} == {"toy-tones"}
    audio, rate = soundfile.read(tmp_path / "synth" / rows[0]["path"])
    assert rate == 16000 and len(audio) == 4000 and np.abs(audio).max() > 0.1

    real = tmp_path / "real"
    real.mkdir()
    for name in ("beep_1", "beep_2", "boop_1"):
        soundfile.write(real / f"{name}.wav", np.zeros(800, dtype=np.float32) + 0.1, 8000)
    prepared = synthaudio(plugin_path, "prepare", "toy-folder", "--root", str(real), "--out",
                          str(tmp_path / "real.jsonl"), cwd=tmp_path)
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stdout.startswith("toy-folder: 3 clips, 2 labels (test 3)")

    without = subprocess.run([sys.executable, "-c", "from synthaudio.cli import main; main()", "generate",
                              "--prompts", str(prompts), "--generator", "toy-tones", "--out", str(tmp_path / "x")],
                             cwd=tmp_path, capture_output=True, text=True, env={**os.environ,
                                                                                "PYTHONPATH": str(REPOSITORY)})
    assert without.returncode == 2
    assert "error: unknown generator 'toy-tones'; known generators: audioldm2, musicgen" in without.stderr


def test_registry_loads_lazily_and_names_what_it_knows():
    registry = Registry("widget", None, {"json": "json:dumps", "missing": "no_such_module_here:thing"})
    assert registry.names() == ["json", "missing"] and "json" in registry and "yaml" not in registry
    assert registry.load("json") is json.dumps
    with pytest.raises(ConfigError, match="unknown widget 'yaml'; known widgets: json, missing"):
        registry.load("yaml")
    with pytest.raises(ModuleNotFoundError):  # a broken built-in entry is a bug, not a user error
        registry.load("missing")
