"""The prepare stage of a study is keyed on the dataset's files (size and modification time of each), so a file
replaced under the same path is noticed without reading any audio; the prepared manifest's content keys the rest."""

import os

import numpy as np
import soundfile
import yaml

from synthaudio.study.plan import Planner
from synthaudio.study.real import dataset_fingerprint, plan_preparation
from synthaudio.study.schema import load_study


def make_folder_dataset(root):
    for label in ("dog", "cat"):
        for index in range(2):
            path = root / label / f"{label}{index}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(path, np.full(1600, 0.1 * (index + 1), dtype=np.float32), 16000)


def prepare_key(tmp_path) -> str:
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({
        "name": "k", "datasets": {"pets": {"recipe": "folder", "root": "data", "domain": "sound"}},
        "generators": {"g": {"generator": "tts", "duration": 1.0}}, "prompts": {"label": {"strategy": "label"}},
        "experiments": {"zs": {"kind": "zero_shot", "dataset": "pets", "generators": ["g"], "prompts": ["label"],
                               "clips_per_class": 2}}}))
    planner = Planner(tmp_path / "out")
    return plan_preparation(load_study(study), planner)["pets"].key


def test_a_replaced_dataset_file_changes_the_prepare_key(tmp_path):
    make_folder_dataset(tmp_path / "data")
    first = prepare_key(tmp_path)
    assert prepare_key(tmp_path) == first  # nothing changed: the same stage, reused
    replaced = tmp_path / "data" / "dog" / "dog1.wav"
    stat = replaced.stat()
    soundfile.write(replaced, np.full(1600, 0.7, dtype=np.float32), 16000)  # same size, new content
    os.utime(replaced, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert prepare_key(tmp_path) != first
    (tmp_path / "data" / "cat" / "cat2.wav").write_bytes(replaced.read_bytes())  # a file added
    assert len({first, prepare_key(tmp_path)}) == 2


def test_the_fingerprint_follows_names_sizes_and_times_not_contents(tmp_path):
    make_folder_dataset(tmp_path)
    before = dataset_fingerprint(tmp_path)
    path = tmp_path / "dog" / "dog0.wav"
    stat = path.stat()
    path.write_bytes(bytes(len(path.read_bytes())))  # other bytes, same size and (restored) time: not read
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert dataset_fingerprint(tmp_path) == before
    path.rename(tmp_path / "dog" / "dog9.wav")
    assert dataset_fingerprint(tmp_path) != before
