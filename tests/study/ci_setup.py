"""Build the data of studies/ci.yaml beside a copy of it: `python -m tests.study.ci_setup FOLDER`."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import soundfile

from synthaudio.seeding import rng
from tests.fixtures.datasets import make_esc50, make_speechcommands

REPOSITORY = Path(__file__).resolve().parents[2]
CI_STUDY = REPOSITORY / "studies" / "ci.yaml"
DESCRIPTORS = {"dog": ["barking", "loud", "furry", "playful", "canine", "yapping", "howling", "growling",
                       "friendly", "alert"],
               "rooster": ["crowing", "dawn", "farm", "shrill", "feathered", "loud", "morning", "proud", "rural",
                           "strident"],
               "car_horn": ["blaring", "honking", "traffic", "loud", "urgent", "street", "beeping", "warning",
                            "brassy", "piercing"]}


def add_noise_floor(folder: Path, level: float = 0.05) -> None:
    """Give every WAV below `folder` its own seeded noise floor: the fixture builders write one identical tone per
    class, which the recognition stage rightly refuses as the same audio in training and test data."""
    for path in sorted(folder.rglob("*.wav")):
        samples, rate = soundfile.read(str(path), dtype="float32")
        noise = rng("ci-noise-floor", path.relative_to(folder).as_posix()).standard_normal(len(samples))
        soundfile.write(str(path), (samples + level * noise).astype(np.float32), rate)


def build_ci_study(folder: Path | str) -> Path:
    """FOLDER/ci.yaml and FOLDER/data/ (ESC-50 and Speech Commands fixtures, descriptor file); returns the YAML."""
    folder = Path(folder)
    data = folder / "data"
    make_esc50(data, categories=("dog", "rooster", "car_horn"), clips_per_class_per_fold=4, seconds=1.0,
               sample_rate=16000)
    # two test speakers: the report's intervals and paired comparisons resample speakers (one would leave none)
    make_speechcommands(data, words=("yes", "no", "up"), utterances_per_speaker=2, noise_seconds=3.0, test_speakers=2)
    add_noise_floor(data)
    (data / "descriptors.json").write_text(json.dumps(DESCRIPTORS, indent=1))
    shutil.copyfile(CI_STUDY, folder / "ci.yaml")
    return folder / "ci.yaml"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.study.ci_setup FOLDER")
    print(build_ci_study(sys.argv[1]))
