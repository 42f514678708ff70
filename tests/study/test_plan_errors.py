"""Problems found once the data is prepared: each a ConfigError naming the study file, line and field, raised
before any generation or training."""

import pytest
import soundfile
import yaml

from synthaudio.errors import ConfigError
from synthaudio.manifest import Clip, read_manifest, write_manifest
from synthaudio.study.runner import run_study
from synthaudio.study.schema import load_study
from tests.conftest import tone


def tone_manifest(folder, name, splits, labels=("low", "high"), seconds=0.3):
    """folder/<name>.jsonl with one distinct tone file per row; splits: split -> clips per label."""
    clips = []
    for split, count in splits.items():
        for index, label in enumerate(labels):
            for number in range(count):
                path = folder / name / f"{label}_{split}_{number}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                soundfile.write(str(path), tone(300 + 500 * index + 7 * number, seconds), 16000)
                clips.append(Clip(id=f"{name}/{path.stem}", path=str(path), label=label, split=split, fold=None,
                                  source="real", duration=seconds, sample_rate=16000))
    write_manifest(folder / f"{name}.jsonl", clips)
    return folder / f"{name}.jsonl"


def study(tmp_path, experiments, datasets=None, **extra):
    data = {"name": "t", "datasets": datasets, "prompts": {"label": {"strategy": "label"}},
            "generators": {"g": {"generator": "audioldm2", "checkpoint": "tiny-random", "duration": 0.5}},
            "training": {"epochs": 1}, "experiments": experiments, **extra}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def fails(path, match):
    with pytest.raises(ConfigError, match=match) as error:
        run_study(load_study(path), path.parent / "out")
    assert not list((path.parent / "out" / "stages").glob("pool/*")), "nothing may be generated"
    return str(error.value)


ZERO_SHOT = {"kind": "zero_shot", "dataset": "real", "generators": ["g"], "prompts": ["label"], "clips_per_class": 2}


def test_a_label_the_dataset_does_not_have(tmp_path):
    manifest = tone_manifest(tmp_path, "real", {"train": 1, "val": 1, "test": 1})
    path = study(tmp_path, {"zs": ZERO_SHOT},
                 {"real": {"manifest": str(manifest), "domain": "sound", "labels": ["low", "middle"]}})
    message = fails(path, r"datasets\.real\.labels: 'middle' not a label of dataset 'real' \(its labels: high, low\)")
    assert message.startswith(f"{path}:")


def test_real_validation_without_val_rows(tmp_path):
    manifest = tone_manifest(tmp_path, "real", {"test": 2})
    path = study(tmp_path, {"zs": ZERO_SHOT}, {"real": {"manifest": str(manifest), "domain": "sound"}})
    message = fails(path, r"experiments\.zs\.validation: dataset 'real' has no val rows \(test 4\); or set "
                          r"validation: synthetic_holdout")
    assert message.startswith(f"{path}:")


def test_test_noise_that_is_also_training_noise(tmp_path):
    speech = tone_manifest(tmp_path, "speech", {"train": 1, "val": 1, "test": 1})
    noise = tone_manifest(tmp_path, "noise", {"train": 2}, labels=("hum",))
    experiment = {"kind": "speech_augment", "dataset": "speech", "noise": {"real": {"manifest": str(noise)}},
                  "test_noise": {"dataset": "noise"}}
    path = study(tmp_path, {"aug": experiment}, {"speech": {"manifest": str(speech)},
                                                 "noise": {"manifest": str(noise)}})
    fails(path, r"experiments\.aug\.test_noise: shares 2 file\(s\) with the training noise 'real' .*test noise must "
                r"be disjoint from training noise")


def test_prompts_need_a_domain(tmp_path):
    manifest = tone_manifest(tmp_path, "real", {"train": 1, "val": 1, "test": 1})
    path = study(tmp_path, {"zs": ZERO_SHOT}, {"real": {"manifest": str(manifest)}})
    fails(path, r"datasets\.real\.domain: needed to write prompts")


def test_unknown_recipe_option_and_missing_manifest(tmp_path):
    path = study(tmp_path, {"zs": ZERO_SHOT}, {"real": {"recipe": "esc50", "root": "esc", "options": {"folds": 2}}})
    fails(path, r"datasets\.real\.options\.folds: the esc50 recipe has no option 'folds' \(its options: test_fold")
    path = study(tmp_path, {"zs": ZERO_SHOT}, {"real": {"manifest": "missing.jsonl", "domain": "sound"}})
    fails(path, r"datasets\.real\.manifest: manifest not found: .*missing\.jsonl")


def grouped(manifest, group):
    """The manifest with every row's group set to `group` (a speaker)."""
    write_manifest(manifest, [clip.model_copy(update={"group": group}) for clip in read_manifest(manifest)])
    return manifest


def test_test_noise_that_is_test_speech(tmp_path):
    speech = tone_manifest(tmp_path, "speech", {"train": 1, "val": 1, "test": 1})
    experiment = {"kind": "speech_augment", "dataset": "speech", "noise": {"tones": {"synthetic": {
        "labels": "speech", "generator": "g", "prompts": "label", "clips_per_class": 1}}},
                  "test_noise": {"dataset": "speech", "split": "test"}}
    path = study(tmp_path, {"aug": experiment}, {"speech": {"manifest": str(speech), "domain": "sound"}})
    fails(path, r"experiments\.aug\.test_noise: shares 2 file\(s\) with the test speech of 'speech' .*test noise must "
                r"be other recordings")


def test_noise_sharing_a_speaker_is_noted(tmp_path):
    speech = grouped(tone_manifest(tmp_path, "speech", {"test": 1}), "alice")
    same_voice = grouped(tone_manifest(tmp_path, "prompts", {"train": 2}, labels=("hum",), seconds=0.4), "alice")
    other_voice = grouped(tone_manifest(tmp_path, "others", {"train": 2}, labels=("buzz",), seconds=0.5), "bob")
    experiment = {"kind": "speech_augment", "dataset": "speech", "speech": {"generator": "g", "prompts": "label",
                                                                            "clips_per_class": 2},
                  "validation": "synthetic_holdout", "noise": {"real": {"dataset": "others"}},
                  "test_noise": {"dataset": "prompts"}}
    datasets = {"speech": {"manifest": str(speech), "domain": "sound"}, "prompts": {"manifest": str(same_voice)},
                "others": {"manifest": str(other_voice)}}
    # a first run prepares the datasets and stops at the (later) faulty experiment, before anything is generated
    fails(study(tmp_path, {"aug": experiment, "bad": {**ZERO_SHOT, "dataset": "others"}}, datasets),
          r"experiments\.bad\.validation: dataset 'others' has no val rows")
    plan = run_study(load_study(study(tmp_path, {"aug": experiment}, datasets)), tmp_path / "out", dry_run=True).plan
    assert plan.notes == ["aug: the test speech and the test noise share speaker(s) alice (other recordings, the "
                          "same voice)"]
