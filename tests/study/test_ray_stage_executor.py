"""`synthaudio study --executor ray`: the training and evaluation runs of a grid on Ray workers give the results of
a local study, also when a worker is killed in the middle of a run."""

import json
import re
from pathlib import Path

import pytest
import soundfile
import yaml

from synthaudio.errors import SynthaudioError
from synthaudio.manifest import Clip, write_manifest
from synthaudio.study.runner import run_study
from synthaudio.study.schema import load_study
from tests.conftest import tone
from tests.fixtures.ray_workers import WorkerKiller

pytest.importorskip("ray")

BUSY_WORKER = "ray::StudyWorker.run"


def distinct_tones(folder: Path) -> Path:
    """A 2-class real dataset whose every clip is a different tone (train, val and test must not share audio)."""
    clips = []
    for split_number, (split, count) in enumerate({"train": 4, "val": 2, "test": 2}.items()):
        for label_number, label in enumerate(("low", "high")):
            for number in range(count):
                path = folder / "real" / f"{label}_{split}_{number}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                frequency = 300 + 600 * label_number + 40 * split_number + 9 * number
                soundfile.write(str(path), tone(frequency, 0.3), 16000)
                clips.append(Clip(id=path.stem, path=str(path), label=label, split=split, fold=None, source="real",
                                  duration=0.3, sample_rate=16000))
    write_manifest(folder / "real.jsonl", clips)
    return folder / "real.jsonl"


def grid_study(folder: Path) -> Path:
    """A mixed-data grid: 2 real fractions x (real only, real + synthetic) x 2 seeds = 8 training runs."""
    study = {"name": "grid", "seeds": [0, 1],
             "datasets": {"real": {"manifest": str(distinct_tones(folder)), "domain": "sound"}},
             "prompts": {"label": {"strategy": "label"}},
             "generators": {"g": {"generator": "musicgen", "checkpoint": "tiny-random", "duration": 0.5,
                                  "batch_size": 4}},
             "training": {"epochs": 2, "batch_size": 4, "features": {"target_frames": 50}},
             "experiments": {"mixed": {"kind": "mixed", "dataset": "real", "generators": ["g"], "prompts": ["label"],
                                       "clips_per_class": [2], "real_fractions": [0.5, 1.0]}}}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study))
    return path


def by_title(out: Path, kind: str, name: str) -> dict[str, str]:
    """A file of every finished stage of `kind`, by the stage's title (stage keys include the output folder)."""
    found = {}
    for done in sorted((out / "stages" / kind).glob("*/done.json")):
        found[json.loads(done.read_text())["title"]] = (done.parent / name).read_text()
    return found


def metrics_by_title(out: Path) -> dict[str, dict]:
    return {title: json.loads(text)["metrics"] for title, text in by_title(out, "evaluate", "eval.json").items()}


@pytest.fixture(scope="module")
def local_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("local")
    study = grid_study(folder)
    run_study(load_study(study), folder / "out")
    return study, folder / "out"


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_grid_on_ray_workers_gives_the_results_of_a_local_study(ray_instance, local_study, tmp_path):
    study, local_out = local_study
    out = tmp_path / "out"
    with WorkerKiller(out, BUSY_WORKER) as killer:  # SIGKILL the first worker seen running a stage
        outcome = run_study(load_study(study), out, executor="ray")
    assert len(killer.kills) == 1, "no stage went to a Ray worker"
    trained = by_title(out, "train", "run/metrics.json")
    assert len(trained) == 8
    assert trained == by_title(local_out, "train", "run/metrics.json")  # byte for byte, losses included
    assert metrics_by_title(out) == metrics_by_title(local_out)
    rows = json.loads((out / "report" / "results.json").read_text())
    assert rows["executor"] == "ray" and len(rows["rows"]) == 8
    assert len(outcome.ran) == len(outcome.plan.stages)
    again = run_study(load_study(study), out, executor="ray")  # all cached: nothing runs, no worker starts
    assert again.ran == []


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_run_that_keeps_killing_its_worker_ends_the_study_with_one_message(ray_instance, tmp_path):
    study = grid_study(tmp_path)
    with WorkerKiller(tmp_path / "out", BUSY_WORKER, repeat=True) as killer, \
            pytest.raises(SynthaudioError) as failure:
        run_study(load_study(study), tmp_path / "out", executor="ray")
    message = str(failure.value)
    # the generation pool and the real-only runs are independent: whichever kills its workers first ends the study
    assert re.match(r"ray workers died 3 times running (pool stage 'generate real by g/label'|train stage 'mixed: "
                    r"real [0-9.]+ real only seed [01]') \(", message), message
    assert "lower the batch_size of its training or generator section in the study file" in message
    assert message.endswith("finished work is kept: rerun the same command to resume") and "\n" not in message
    assert len(killer.kills) >= 3
    assert not (tmp_path / "out" / "report").exists()


def test_ray_options_of_the_study_command_are_checked_before_anything_runs(tmp_path):
    from typer.testing import CliRunner

    from synthaudio.cli import app

    study = grid_study(tmp_path)
    local = CliRunner().invoke(app, ["study", str(study), "--out", str(tmp_path / "out"), "--workers", "2"])
    assert "--workers: options of --executor ray; add --executor ray or leave them out" in str(local.exception)
    bad = CliRunner().invoke(app, ["study", str(study), "--out", str(tmp_path / "out"), "--executor", "ray",
                                   "--workers", "0"])
    assert "--workers 0: must be at least 1" in str(bad.exception)
    assert not (tmp_path / "out" / "stages").exists()
