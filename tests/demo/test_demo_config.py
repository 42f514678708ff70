"""studies/demo.yaml, the offline demo: a valid study with the experiments a user relies on (English digits,
letters on two speakers, digits in five languages, noise robustness); its commented block for one's own
recordings is valid too; and a reduced copy (fixture voice folders, one seed, one epoch, a descriptor file instead
of the LLM) runs end to end through scripts/demo.py, whose printed model `synthaudio evaluate` can reuse on another
manifest."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from synthaudio.study.schema import Adaptive, MergedGeneratorEntry, SpeechAugment, ZeroShot, load_study, parse_study
from tests.fixtures.asterisk import make_asterisk_voice, make_qabcs_letters
from tests.prompts.prompts_helpers import flagged_texts

REPOSITORY = Path(__file__).resolve().parents[2]
DEMO = REPOSITORY / "studies" / "demo.yaml"
DIGITS = ["eight", "five", "four", "nine", "one", "seven", "six", "three", "two", "zero"]


@pytest.fixture(scope="module")
def demo():
    return load_study(DEMO)


def test_real_data_comes_through_the_asterisk_and_qabcs_recipes(demo):
    digits = demo.datasets["digits"]
    assert (digits.recipe, digits.options, digits.domain) == ("asterisk", {"kind": "digits"}, "speech")
    assert digits.root.name == "en_US_f_Allison"
    letters, qabcs = demo.datasets["letters"], demo.datasets["letters_qabcs"]
    assert (letters.recipe, letters.options, letters.root.name) == ("asterisk", {"kind": "letters"},
                                                                    "en_US_f_Allison")
    assert (qabcs.recipe, qabcs.root.as_posix()) == ("qabcs", "/usr/share/qabcs/abcs/en/sounds/alpha")
    five = demo.datasets["digits5"]
    assert five.recipe == "asterisk" and five.options["kind"] == "digits"
    assert {voice[:2] for voice in five.options["voices"]} == {"en", "es", "fr", "it", "ru"}
    assert len(five.options["voices"]) == 8
    # the noise voices: neither is the test speech's speaker, and training and test noise are different speakers
    babble = {name: demo.datasets[name] for name in ("babble_train", "babble_test")}
    assert {(d.recipe, d.options["kind"]) for d in babble.values()} == {("asterisk", "babble")}
    assert len({d.root.name for d in babble.values()} | {"en_US_f_Allison", "es_MX_f_Allison"}) == 4


def test_three_tasks_on_synthetic_speech_only(demo):
    experiments = {name: e for name, e in demo.experiments.items() if isinstance(e, ZeroShot)}
    tested = {e.dataset for e in experiments.values()}
    assert {"digits", "letters", "letters_qabcs", "digits5"} <= tested
    assert all(e.validation == "synthetic_holdout" for e in experiments.values())  # no real clip selects a model
    five = demo.experiments["digits5"]
    generator = demo.generators[five.generators[0]]
    languages = generator.settings["languages"]
    assert set(languages) == {"en", "es", "fr", "it", "ru"} and generator.postprocess.band_limit_hz == 4000
    for language, spec in languages.items():
        assert set(spec.get("words", {})) in (set(), set(DIGITS)), language  # a word for every digit, or the label
    assert {demo.prompts[name].strategy for name in five.prompts} == {"label", "llm"}
    # the window covers the longest real digit (1.3 s): 130 frames, and clips as long
    assert demo.training_settings("digits5").features.target_frames == 130 and generator.duration == 1.3
    # the letter models are the same runs for both speakers (same generators, prompts and counts)
    first, second = demo.experiments["letters_allison"], demo.experiments["letters_qabcs"]
    assert (first.generators, first.prompts, first.counts) == (second.generators, second.prompts, second.counts)


def test_zero_shot_compares_both_strategies_on_wide_and_telephone_band(demo):
    experiment = demo.experiments["zero_shot"]
    assert isinstance(experiment, ZeroShot) and experiment.validation == "synthetic_holdout"
    strategies = demo.experiments["prompt_strategies"]  # label vs LLM prompts on the main generator
    assert strategies.generators == ["tts_phone"] and strategies.dataset == experiment.dataset
    assert {demo.prompts[name].strategy for name in strategies.prompts} == {"label", "llm"}
    assert set(experiment.prompts) < set(strategies.prompts)  # the label runs are shared
    llm = next(demo.prompts[name] for name in strategies.prompts if demo.prompts[name].strategy == "llm")
    assert llm.llm == {"backend": "smollm2"} and llm.descriptors is None  # the offline LLM writes the descriptors
    merged = {name: demo.generators[name] for name in experiment.generators
              if isinstance(demo.generators[name], MergedGeneratorEntry)}
    generators = [demo.generators[name] for name in experiment.generators if name not in merged]
    assert {g.generator for g in generators} == {"tts"}
    espeak = [g for g in generators if g.settings.get("engine", "espeak") == "espeak"]
    bands = sorted(g.postprocess.band_limit_hz if g.postprocess else 0 for g in espeak)
    assert bands == [0, 4000]  # wide band (0: no limit) and telephone band, from the same generated clips
    # piper "where installed" (the project's tts extra installs it): alone and mixed with espeak-ng, telephone band
    others = {g.settings["engine"]: g.postprocess.band_limit_hz for g in generators if g not in espeak}
    assert others == {"piper": 4000, "all": 4000}
    # and both telephone-band pools merged (half of each at the same total), compared with each of them
    assert {name: entry.merge for name, entry in merged.items()} == {"tts_merged_phone": ["tts_phone",
                                                                                         "tts_piper_phone"]}
    assert {"tts_phone", "tts_piper_phone"} <= set(experiment.generators) and merged["tts_merged_phone"].weights is None
    assert len(demo.experiments["quantity"].counts) >= 3
    assert demo.training_settings("zero_shot").features.pad == "silence"


def test_adaptive_allocation_validates_on_speakers_it_never_tests_on(demo):
    experiment = demo.experiments["adaptive_digits5"]
    assert isinstance(experiment, Adaptive) and experiment.rules and experiment.rewrite is not None
    dev = demo.datasets[experiment.dataset]
    held_out = set(dev.options["val_voices"])
    assert held_out and held_out < set(dev.options["voices"]) == set(demo.datasets["digits5"].options["voices"])
    assert experiment.generators == demo.experiments["digits5"].generators  # the same synthetic speech as task 3
    assert demo.training_settings("adaptive_digits5").features == demo.training_settings("digits5").features


def test_noise_robustness_tests_real_babble_at_20_10_5_0_db(demo):
    experiment = demo.experiments["noise_robustness"]
    assert isinstance(experiment, SpeechAugment)
    assert experiment.test_snr_db == [0.0, 5.0, 10.0, 20.0]
    assert experiment.speech is not None and experiment.validation == "synthetic_holdout"
    assert experiment.test_noise.dataset == "babble_test"
    synthetic = experiment.noise["synthetic_babble"].synthetic
    assert demo.generators[synthetic.generator].generator == "tts"  # generated noise, not a recording
    assert demo.label_sets[synthetic.labels].domain == "speech"
    keywords = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "to", "too", "for",
                "won", "ate"}
    for phrase in demo.label_sets[synthetic.labels].labels:
        assert not set(phrase.split()) & keywords, phrase  # the babble never says a keyword
    real = experiment.noise["real_babble"]
    assert real.dataset == "babble_train"  # another speaker than the test noise


def test_random_weight_pipelines_are_driven(demo):
    used = {name for experiment in demo.experiments.values() if isinstance(experiment, ZeroShot)
            for name in experiment.generators}
    tiny = {demo.generators[name].generator for name in used
            if not isinstance(demo.generators[name], MergedGeneratorEntry)
            and demo.generators[name].checkpoint == "tiny-random"}
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
    datasets = data["datasets"]
    sounds = folder / "sounds"
    english = make_asterisk_voice(sounds, "en_US_f_Allison", prompts=2, alphabet=True)
    for voice in datasets["digits5"]["options"]["voices"]:
        if voice != "en_US_f_Allison":  # Armelle's and the Colombian digits are GSM files, as in Debian
            make_asterisk_voice(sounds, voice, prompts=6, audio_format="gsm" if voice in ("fr", "es") else "wav")
    datasets["digits"]["root"] = datasets["letters"]["root"] = str(english)
    datasets["digits5"]["root"] = datasets["digits5_dev"]["root"] = str(sounds)
    datasets["letters_qabcs"]["root"] = str(make_qabcs_letters(folder / "qabcs"))
    for name in ("babble_train", "babble_test"):
        datasets[name]["root"] = str(sounds / Path(datasets[name]["root"]).name)
    styles = ["fast", "slow", "deep", "high", "whispered", "loud", "soft", "british", "scottish", "calm"]
    (folder / "descriptors.json").write_text(json.dumps({label: styles for label in DIGITS}))
    data["prompts"]["llm"] = {"strategy": "llm", "descriptors": "descriptors.json"}
    data["training"]["epochs"] = 1
    experiments = data["experiments"]
    for experiment in experiments.values():
        experiment.get("training", {}).pop("epochs", None)
        if experiment.get("kind") == "zero_shot" and experiment is not experiments["random_weight_pipelines"]:
            experiment["clips_per_class"] = 5 if experiment["dataset"] == "digits5" else 4
    experiments["quantity"]["clips_per_class"] = [3, 4]
    experiments["adaptive_digits5"]["budget"] = 4
    experiments["adaptive_digits5"].pop("rewrite")  # SmolLM2 again; the rewrites have their own tests
    experiments["noise_robustness"]["speech"]["clips_per_class"] = 4
    experiments["noise_robustness"]["noise"]["synthetic_babble"]["synthetic"]["clips_per_class"] = 1
    path = folder / "demo.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
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
    for generator in ("tts_phone", "tts", "tts_piper_phone", "tts_mixed_phone", "tts_merged_phone"):
        # zero-shot: wide band and telephone band, espeak-ng, piper, both mixed and both merged
        assert re.search(rf"^zero_shot\s+digits\s+{generator}\s+label\s+4\s", printed, flags=re.MULTILINE)
    for prompts in ("label", "llm"):  # both strategies on the main generator
        assert re.search(rf"^prompt_strategies\s+digits\s+tts_phone\s+{prompts}\s+4\s", printed,
                         flags=re.MULTILINE)
    for experiment, dataset, generator in (("letters_allison", "letters", "tts_phone"),
                                           ("letters_qabcs", "letters_qabcs", "tts_phone"),
                                           ("digits5", "digits5", "tts5_phone")):
        assert re.search(rf"^{experiment}\s+{dataset}\s+{generator}\s+label\s", printed, flags=re.MULTILINE)
    assert "letters: accuracy on 26 real test clips (one clip = 0.038); chance 0.038" in printed
    assert "digits5: accuracy on 80 real test clips (one clip = 0.013); chance 0.100" in printed
    for condition in ("0 dB", "5 dB", "10 dB", "20 dB", "clean"):
        assert re.search(rf"synthetic_babble\s+{condition}\s+\d", printed)
    report = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert ("RANDOM-WEIGHT GENERATORS: audiogen (tiny-random), audioldm2 (tiny-random), musicgen (tiny-random)"
            in report)
    assert re.search(r"Prepared as noise only, never tested on: babble_train \(\d+ clips\), babble_test \(\d+ clips\)",
                     report)
    # every real test clip counted once, with its speakers; the Spanish Allison is the English one
    assert "Note: real test data of all tested datasets together: 132 distinct clips from 8 speakers" in report
    # the datasets table: classes, real train/val/test clips, chance, majority, speakers
    assert "| digits5 | 10 | 0 | 0 | 80 | 0.100 | 0.100 | 7 |" in report
    assert "| letters_qabcs | 26 | 0 | 0 | 26 | 0.038 | 0.038 | 1 |" in report
    # per speaker and language, from each clip's prediction
    breakdown = (out / "report" / "digits5_by_speaker.csv").read_text(encoding="utf-8")
    assert "asterisk/en_US_f_Allison" in breakdown and "asterisk/fr" in breakdown
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
    assert "merged generator tts_merged_phone at 4 clips/class = tts_phone 2 + tts_piper_phone 2" in report
    # adaptive allocation on the held-out speakers, against uniform allocation of the same budget
    assert "| digits5_dev | 10 | 0 | 20 | 60 |" in report
    assert "## Adaptive vs uniform allocation" in report and "## Adaptive allocation per round" in report
    assert ("adaptive_digits5: adaptive (f1_gap) tts5_phone/label 4/class vs adaptive_digits5: uniform allocation "
            "tts5_phone/label 4/class") in report
    # what label and LLM-assisted prompts compared, per digit; and no word the safety filter flags in any prompt
    # file, descriptor cache, manifest or report file
    examples = (out / "report" / "prompt_examples.csv").read_text(encoding="utf-8")
    assert "digits,speech,seven,label,label," in examples and "digits,speech,seven,llm,llm," in examples
    assert flagged_texts(out) == []

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
