"""studies/demo.yaml, the offline demo: a valid study with the experiments a user relies on; its commented block for
one's own recordings is valid too; and a reduced copy (fixture voice folders, one seed, one epoch, a descriptor
file instead of the LLM) runs end to end through scripts/demo.py, whose printed model `synthaudio evaluate` can
reuse on another manifest."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from synthaudio.study.schema import SpeechAugment, ZeroShot, load_study, parse_study
from tests.fixtures.asterisk import make_asterisk_voice

REPOSITORY = Path(__file__).resolve().parents[2]
DEMO = REPOSITORY / "studies" / "demo.yaml"
DIGITS = ["eight", "five", "four", "nine", "one", "seven", "six", "three", "two", "zero"]


@pytest.fixture(scope="module")
def demo():
    return load_study(DEMO)


def test_real_data_comes_through_the_asterisk_recipe(demo):
    digits, babble = demo.datasets["digits"], demo.datasets["babble"]
    assert (digits.recipe, digits.options, digits.domain) == ("asterisk", {"kind": "digits"}, "speech")
    assert (babble.recipe, babble.options) == ("asterisk", {"kind": "babble"})
    assert digits.root.name == "en_US_f_Allison" and babble.root.name == "es_MX_f_Allison"


def test_zero_shot_compares_both_strategies_on_wide_and_telephone_band(demo):
    experiment = demo.experiments["zero_shot"]
    assert isinstance(experiment, ZeroShot) and experiment.validation == "synthetic_holdout"
    assert {demo.prompts[name].strategy for name in experiment.prompts} == {"label", "llm"}
    llm = next(demo.prompts[name] for name in experiment.prompts if demo.prompts[name].strategy == "llm")
    assert llm.llm == {"backend": "smollm2"} and llm.descriptors is None  # the offline LLM writes the descriptors
    generators = [demo.generators[name] for name in experiment.generators]
    assert {g.generator for g in generators} == {"tts"}
    espeak = [g for g in generators if g.settings.get("engine", "espeak") == "espeak"]
    bands = sorted(g.postprocess.band_limit_hz if g.postprocess else 0 for g in espeak)
    assert bands == [0, 4000]  # wide band (0: no limit) and telephone band, from the same generated clips
    # piper "where installed" (the project's tts extra installs it): alone and mixed with espeak-ng, telephone band
    others = {g.settings["engine"]: g.postprocess.band_limit_hz for g in generators if g not in espeak}
    assert others == {"piper": 4000, "all": 4000}
    assert len(demo.experiments["quantity"].counts) >= 3
    assert demo.training_settings("zero_shot").features.pad == "silence"


def test_noise_robustness_tests_real_babble_at_20_10_5_0_db(demo):
    experiment = demo.experiments["noise_robustness"]
    assert isinstance(experiment, SpeechAugment)
    assert experiment.test_snr_db == [0.0, 5.0, 10.0, 20.0]
    assert experiment.speech is not None and experiment.validation == "synthetic_holdout"
    assert (experiment.test_noise.dataset, experiment.test_noise.split) == ("babble", "test")
    synthetic = experiment.noise["synthetic_babble"].synthetic
    assert demo.generators[synthetic.generator].generator == "tts"  # generated noise, not a recording
    assert demo.label_sets[synthetic.labels].domain == "speech"
    keywords = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "to", "too", "for",
                "won", "ate"}
    for phrase in demo.label_sets[synthetic.labels].labels:
        assert not set(phrase.split()) & keywords, phrase  # the babble never says a keyword
    real = experiment.noise["real_babble"]
    assert (real.dataset, real.split) == ("babble", "train")  # the other half than the test noise


def test_random_weight_pipelines_are_driven(demo):
    used = {name for experiment in demo.experiments.values() if isinstance(experiment, ZeroShot)
            for name in experiment.generators}
    tiny = {demo.generators[name].generator for name in used if demo.generators[name].checkpoint == "tiny-random"}
    assert tiny == {"audioldm2", "musicgen", "audiogen"}


def test_the_commented_block_for_your_own_recordings_is_valid():
    text = DEMO.read_text(encoding="utf-8")
    block = re.search(r"^#   my_digits:\n(?:#     .*\n)+", text, flags=re.MULTILINE).group(0)
    entry = yaml.safe_load("\n".join(line[4:] for line in block.splitlines()))
    data = yaml.safe_load(text)
    data["datasets"].update(entry)
    data["experiments"]["zero_shot"]["dataset"] = "my_digits"
    config = parse_study(yaml.safe_dump(data), DEMO)
    mine = config.datasets["my_digits"]
    assert (mine.recipe, mine.options, mine.domain) == ("folder", {"all_split": "test"}, "speech")


def reduced_demo(folder: Path) -> Path:
    """A copy of demo.yaml over fixture voice folders, one seed, one epoch, a descriptor file instead of the LLM
    (the smollm2 stage alone takes minutes) and fewer clips; everything else as the demo."""
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["seeds"] = [0]
    data["datasets"]["digits"]["root"] = str(make_asterisk_voice(folder, "en_US_f_Allison"))
    data["datasets"]["babble"]["root"] = str(make_asterisk_voice(folder, "es_MX_f_Allison"))
    styles = ["fast", "slow", "deep", "high", "whispered", "loud", "soft", "british", "scottish", "calm"]
    (folder / "descriptors.json").write_text(json.dumps({label: styles for label in DIGITS}))
    data["prompts"]["llm"] = {"strategy": "llm", "descriptors": "descriptors.json"}
    data["training"]["epochs"] = 1
    experiments = data["experiments"]
    for experiment in experiments.values():
        experiment.pop("training", None)
    experiments["zero_shot"]["clips_per_class"] = 4
    experiments["quantity"]["clips_per_class"] = [3, 4]
    experiments["noise_robustness"]["speech"]["clips_per_class"] = 4
    experiments["noise_robustness"]["noise"]["synthetic_babble"]["synthetic"]["clips_per_class"] = 1
    path = folder / "demo.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (sudo apt-get install "
                                                              "espeak-ng): the demo's speech generator")
def test_reduced_demo_end_to_end(tmp_path):
    study = reduced_demo(tmp_path)
    out = tmp_path / "out"
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, str(REPOSITORY / "scripts" / "demo.py"), str(study), str(out)],
                         capture_output=True, text=True, env=environment, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    printed = run.stdout
    # the terminal summary never hides how small the real test set is
    assert "note: digits has only 10 real test clips (chance 0.100)" in printed
    assert printed.count("digits: accuracy on 10 real test clips (one clip = 0.100); chance 0.100") == 3
    assert ("WARNING: clips from RANDOM-WEIGHT generators (audiogen (tiny-random), audioldm2 (tiny-random), "
            "musicgen (tiny-random)) are noise") in printed
    for generator, prompts in (("tts_phone", "llm"), ("tts", "label"), ("tts_piper_phone", "label"),
                               ("tts_mixed_phone", "llm")):
        # zero-shot: wide band and telephone band, espeak-ng, piper and both mixed, both strategies
        assert re.search(rf"^zero_shot\s+digits\s+{generator}\s+{prompts}\s+4\s", printed, flags=re.MULTILINE)
    for condition in ("0 dB", "5 dB", "10 dB", "20 dB", "clean"):
        assert re.search(rf"synthetic_babble\s+{condition}\s+\d", printed)
    report = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert ("RANDOM-WEIGHT GENERATORS: audiogen (tiny-random), audioldm2 (tiny-random), musicgen (tiny-random)"
            in report)
    assert "Prepared as noise only, never tested on: babble" in report
    for name in ("zero_shot_accuracy.png", "quantity.png", "snr.png", "speech_augment.csv", "domain_gap.png"):
        assert (out / "report" / name).is_file()
    # the page to listen to: real and synthetic clips of every digit
    page = (out / "report" / "index.html").read_text(encoding="utf-8")
    for digit in ("zero", "five", "nine"):
        assert f'data-class="{digit}" data-generator="real"' in page
        assert f'data-class="{digit}" data-generator="tts_phone"' in page
    # each digit's domain gap against its zero-shot precision, with the rank correlation and its interval
    assert "## Domain gap vs zero-shot precision" in report
    assert re.search(r"\| [+-]\d\.\d\d \[[+-]\d\.\d\d, [+-]\d\.\d\d\] \|", report)
    assert "clap embeddings (laion/clap-htsat-unfused): not in the Hugging Face cache" in report

    run_path = re.search(r"^main zero-shot model \(tts_phone/label, 4 synthetic clips per class, seed 0\): (\S+)$",
                         printed, flags=re.MULTILINE).group(1)
    assert re.search(r"its accuracy on the 10 real digits: [01]\.\d{3} \(chance 0\.100; one clip = 0\.100\)",
                     printed)
    # the printed model is usable on another manifest, e.g. a folder of one's own recordings
    mine = tmp_path / "my_digits"
    for word in ("seven", "two"):
        (mine / word).mkdir(parents=True)
    voice = Path(yaml.safe_load(study.read_text())["datasets"]["digits"]["root"])
    shutil.copyfile(voice / "digits" / "7.wav", mine / "seven" / "take1.wav")
    shutil.copyfile(voice / "digits" / "2.wav", mine / "two" / "take1.wav")
    synthaudio = str(Path(sys.executable).parent / "synthaudio")
    subprocess.run([synthaudio, "prepare", "folder", "--root", str(mine), "--all-split", "test", "--out",
                    str(tmp_path / "mine.jsonl")], check=True, capture_output=True, env=environment)
    evaluated = subprocess.run([synthaudio, "evaluate", "--run", run_path, "--test", str(tmp_path / "mine.jsonl")],
                               capture_output=True, text=True, env=environment)
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert list((Path(run_path) / "eval").glob("*.json"))

    again = subprocess.run([sys.executable, str(REPOSITORY / "scripts" / "demo.py"), str(study), str(out)],
                           capture_output=True, text=True, env=environment, timeout=300)
    assert again.returncode == 0 and re.search(r"^0 stage\(s\) run, \d+ reused from the cache", again.stdout,
                                               flags=re.MULTILINE)
