"""speech_augment with synthetic training speech (`speech:`): the noise robustness of a zero-shot model when the
real set is test only. Config errors name the field; the plan trains on the synthetic subset, selects on its
hold-out, tests every variant on the real test split, and marks the rows as zero-shot."""

import pytest
import yaml

from synthaudio.errors import ConfigError
from synthaudio.study.runner import run_study
from synthaudio.study.schema import load_study
from tests.study.test_plan_errors import tone_manifest


def write_study(tmp_path, change=None, **experiment):
    digits = tone_manifest(tmp_path, "digits", {"test": 1}, labels=("yes", "no"))
    noise = tone_manifest(tmp_path, "noise", {"train": 1, "test": 1}, labels=("hum",), seconds=1.0)
    study = {"name": "t", "seeds": [0],
             "label_sets": {"babble": {"labels": ["hello there"], "domain": "speech"}},
             "datasets": {"digits": {"manifest": str(digits), "domain": "speech"},
                          "noise": {"manifest": str(noise), "domain": "sound"}},
             "prompts": {"label": {"strategy": "label"}},
             "generators": {"g": {"generator": "audioldm2", "checkpoint": "tiny-random", "duration": 0.5}},
             "training": {"epochs": 1},
             "experiments": {"robust": {"kind": "speech_augment", "dataset": "digits",
                                        "speech": {"generator": "g", "prompts": "label", "clips_per_class": 3},
                                        "validation": "synthetic_holdout",
                                        "noise": {"real": {"dataset": "noise", "split": "train"},
                                                  "synthetic": {"synthetic": {"labels": "babble", "generator": "g",
                                                                              "prompts": "label",
                                                                              "clips_per_class": 1}}},
                                        "test_noise": {"dataset": "noise", "split": "test"},
                                        "test_snr_db": [5, 0], **experiment}}}
    if change:
        change(study["experiments"]["robust"])
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


def error_of(path) -> str:
    with pytest.raises(ConfigError) as error:
        load_study(path)
    return str(error.value)


def test_synthetic_holdout_needs_synthetic_speech(tmp_path):
    message = error_of(write_study(tmp_path, lambda e: e.pop("speech")))
    assert message.startswith(f"{tmp_path / 'study.yaml'}:")
    assert "experiments.robust: validation: synthetic_holdout needs synthetic training speech: give `speech`" \
        in message


def test_real_fraction_with_synthetic_speech_is_refused(tmp_path):
    message = error_of(write_study(tmp_path, real_fraction=0.5))
    assert "real_fraction takes part of the real training split; with synthetic `speech` no real clip is trained " \
           "on: remove real_fraction" in message


def test_undefined_speech_generator(tmp_path):
    message = error_of(write_study(tmp_path, lambda e: e["speech"].update(generator="tts")))
    assert "experiments.robust.speech.generator: generator 'tts' is not defined (defined generators: g)" in message


def test_real_validation_needs_real_val_rows(tmp_path):
    path = write_study(tmp_path, lambda e: e.pop("validation"))
    with pytest.raises(ConfigError, match=r"experiments\.robust\.validation: dataset 'digits' has no val rows "
                                          r"\(test 2\); or set validation: synthetic_holdout"):
        run_study(load_study(path), tmp_path / "out", dry_run=False)


def test_the_plan_trains_on_synthetic_speech_only(tmp_path):
    path = write_study(tmp_path)
    outcome = run_study(load_study(path), tmp_path / "out", dry_run=True)  # prepares nothing, plans everything
    plan = outcome.plan
    trainings = [stage for stage in plan.stages.values() if stage.kind == "train"]
    assert len(trainings) == 3  # none, real, synthetic
    for stage in trainings:
        train = [str(data.path) for data in stage.spec.train]
        assert len(train) == 1 and train[0].endswith("train.jsonl")
        assert "/stages/subset/" in train[0]  # the synthetic subset, not a real split
        assert str(stage.spec.val.path).endswith("val.jsonl")  # its synthetic hold-out
    conditions = [spec.condition for spec in plan.results]
    assert len(conditions) == 3 * 3  # 3 variants x (clean, 0 dB, 5 dB)
    assert {(c.generator, c.prompts, c.clips_per_class, c.real_fraction, c.validation)
            for c in conditions} == {("g", "label", 3, 0.0, "synthetic_holdout")}
    speech_pool = next(s.key for s in plan.stages.values() if s.kind == "pool"
                       and s.spec.labels != ["hello there"])
    assert all(speech_pool in spec.pools for spec in plan.results)  # random-weight marking sees the speech pool
