"""study.yaml errors: each names the file, the line and the field, and says what is allowed."""

import copy
import re

import pytest
import yaml

from synthaudio.errors import ConfigError
from synthaudio.study.schema import load_study, parse_study

BASE = {
    "name": "t",
    "label_sets": {"noise": {"labels": ["rain", "wind"], "domain": "sound"}},
    "datasets": {"tones": {"recipe": "esc50", "root": "data/ESC-50-master", "options": {"test_fold": 1}},
                 "speech": {"recipe": "speechcommands", "root": "data/speech"}},
    "prompts": {"label": {"strategy": "label"}},
    "generators": {"tiny": {"generator": "audioldm2", "checkpoint": "tiny-random", "duration": 1.0}},
    "training": {"model": "cnn", "epochs": 2},
    "experiments": {
        "zs": {"kind": "zero_shot", "dataset": "tones", "generators": ["tiny"], "prompts": ["label"],
               "clips_per_class": 4},
        "mix": {"kind": "mixed", "dataset": "tones", "generators": ["tiny"], "prompts": ["label"],
                "clips_per_class": [4], "real_fractions": [0.5, 1.0]},
        "noise": {"kind": "speech_augment", "dataset": "speech",
                  "noise": {"synthetic": {"synthetic": {"labels": "noise", "generator": "tiny", "prompts": "label",
                                                        "clips_per_class": 2}}},
                  "test_noise": {"dataset": "speech", "extra": "noise"}},
    },
}


def study_error(tmp_path, change) -> str:
    data = copy.deepcopy(BASE)
    change(data)
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError) as error:
        load_study(path)
    message = str(error.value)
    assert message.startswith(f"{path}:"), message
    return message


def test_the_base_study_is_valid(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(BASE))
    config = load_study(path)
    assert config.datasets["tones"].root == (tmp_path / "data/ESC-50-master").resolve()  # relative to the file
    assert config.datasets["tones"].domain == "sound"  # from the recipe
    assert config.experiments["zs"].counts == [4]
    assert config.training_settings("zs").epochs == 2


def test_unknown_top_level_key(tmp_path):
    message = study_error(tmp_path, lambda d: d.update(seed=3))
    assert "seed: unknown key" in message and "allowed here:" in message and "seeds" in message


def test_unknown_key_inside_an_experiment_names_its_path(tmp_path):
    def change(data):
        data["experiments"]["zs"]["clip_per_class"] = 4
    message = study_error(tmp_path, change)
    assert "experiments.zs.clip_per_class: unknown key" in message
    assert "clips_per_class" in message  # the allowed keys, so the typo is obvious


def test_unknown_experiment_kind(tmp_path):
    def change(data):
        data["experiments"]["zs"]["kind"] = "zero-shot"
    message = study_error(tmp_path, change)
    assert "experiments.zs.kind: unknown experiment kind 'zero-shot'" in message
    assert "zero_shot, quantity, mixed, filtered, speech_augment, adaptive" in message


def test_an_experiment_kind_that_is_not_a_name(tmp_path):
    def change(data):
        data["experiments"]["zs"]["kind"] = ["zero_shot"]
    message = study_error(tmp_path, change)
    assert "experiments.zs.kind: 'kind' is one name (one of zero_shot, quantity, mixed, filtered, speech_augment, " \
           "adaptive), got ['zero_shot']" in message


def test_missing_experiment_kind(tmp_path):
    message = study_error(tmp_path, lambda d: d["experiments"]["zs"].pop("kind"))
    assert "experiments.zs: missing 'kind'" in message


@pytest.mark.parametrize("fraction", [0, 1.5, -0.25, "nan"])
def test_fraction_outside_zero_one(tmp_path, fraction):
    def change(data):
        data["experiments"]["mix"]["real_fractions"] = [0.5, float(fraction)]
    message = study_error(tmp_path, change)
    assert "experiments.mix.real_fractions[1]: a fraction must be in (0, 1]" in message


def test_fraction_of_speech_augment(tmp_path):
    message = study_error(tmp_path, lambda d: d["experiments"]["noise"].update(real_fraction=2))
    assert "experiments.noise.real_fraction: a fraction must be in (0, 1], got 2" in message


def test_undefined_dataset(tmp_path):
    message = study_error(tmp_path, lambda d: d["experiments"]["zs"].update(dataset="esc"))
    assert "experiments.zs.dataset: dataset 'esc' is not defined (defined datasets: tones, speech)" in message


def test_undefined_generator_and_prompts(tmp_path):
    message = study_error(tmp_path, lambda d: d["experiments"]["mix"].update(generators=["tiny", "huge"]))
    assert "experiments.mix.generators[1]: generator 'huge' is not defined (defined generators: tiny)" in message
    message = study_error(tmp_path, lambda d: d["experiments"]["zs"].update(prompts=["llm"]))
    assert "experiments.zs.prompts[0]: prompts 'llm' is not defined" in message


def test_undefined_label_set(tmp_path):
    message = study_error(tmp_path, lambda d: d["datasets"]["tones"].update(labels="esc10"))
    assert "datasets.tones.labels: label set 'esc10' is not defined (defined label sets: noise)" in message
    noise = lambda d: d["experiments"]["noise"]["noise"]["synthetic"]["synthetic"].update(labels="sounds")  # noqa
    message = study_error(tmp_path, noise)
    assert "experiments.noise.noise.synthetic.synthetic.labels: 'sounds' is neither a dataset nor a label set" \
        in message


def test_unknown_generator_recipe_and_scorer(tmp_path):
    message = study_error(tmp_path, lambda d: d["generators"]["tiny"].update(generator="audioldm3"))
    assert "generators.tiny.generator: unknown generator 'audioldm3'" in message
    message = study_error(tmp_path, lambda d: d["datasets"]["tones"].update(recipe="esc-50"))
    assert "datasets.tones: unknown recipe 'esc-50'" in message

    def filtered(data):
        data["experiments"]["f"] = {**data["experiments"]["mix"], "kind": "filtered",
                                    "clip_filter": {"scorer": "clip-model"}}
    message = study_error(tmp_path, filtered)
    assert "experiments.f.clip_filter.scorer: unknown scorer 'clip-model'; known scorers: real_model, clap" in message


def test_training_typo_and_study_owned_settings(tmp_path):
    message = study_error(tmp_path, lambda d: d["training"].update(epoch=3))
    assert "training.epoch: unknown key" in message and "epochs" in message
    message = study_error(tmp_path, lambda d: d["experiments"]["zs"].update(training={"lr": "fast"}))
    assert "experiments.zs.training.lr:" in message
    message = study_error(tmp_path, lambda d: d["training"].update(seed=1))
    assert "training.seed: 'seed' is set by the study" in message


def test_dataset_needs_one_source(tmp_path):
    message = study_error(tmp_path, lambda d: d["datasets"]["tones"].pop("root"))
    assert "datasets.tones: give either recipe + root" in message


def test_line_numbers_point_at_the_field():
    text = ("name: t\n"
            "datasets:\n"
            "  tones: {recipe: esc50, root: data}\n"
            "experiments:\n"
            "  mix:\n"
            "    kind: mixed\n"
            "    dataset: tones\n"
            "    generators: [g]\n"
            "    prompts: [p]\n"
            "    clips_per_class: [4]\n"
            "    real_fractions: [0.5, 1.5]\n")
    with pytest.raises(ConfigError, match=r"^study.yaml:11: experiments\.mix\.real_fractions\[1\]: "):
        parse_study(text, "study.yaml")


def test_duplicate_keys_and_bad_yaml():
    with pytest.raises(ConfigError, match=r"^s.yaml:3: key 'name' appears twice in this mapping \(first on line 1\)"):
        parse_study("name: a\ndatasets: {}\nname: b\n", "s.yaml")
    with pytest.raises(ConfigError, match=r"^s.yaml:2: not valid YAML"):
        parse_study("name: a\n  - b: [\n", "s.yaml")
    with pytest.raises(ConfigError, match=r"^s.yaml: a study is a YAML mapping"):
        parse_study("- a\n- b\n", "s.yaml")


def test_generator_settings_are_checked_by_the_backend(tmp_path):
    message = study_error(tmp_path, lambda d: d["generators"]["tiny"].update(settings={"step": 2}))
    assert "generators.tiny.settings: generator 'audioldm2' has no setting 'step'" in message


def test_cli_prints_one_line_and_exits_2(tmp_path):
    import subprocess
    import sys

    data = copy.deepcopy(BASE)
    data["experiments"]["zs"]["kind"] = "zeroshot"
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    for extra in ([], ["--dry-run"]):
        result = subprocess.run([sys.executable, "-c", "from synthaudio.cli import main; main()", "study", str(path),
                                 *extra], capture_output=True, text=True, timeout=120)
        assert result.returncode == 2
        assert re.fullmatch(rf"error: {re.escape(str(path))}:\d+: experiments\.zs\.kind: unknown experiment kind "
                            r"'zeroshot'; known kinds: zero_shot, quantity, mixed, filtered, speech_augment, adaptive",
                            result.stderr.strip()), result.stderr


def test_unknown_executor(tmp_path):
    from typer.testing import CliRunner

    from synthaudio.cli import app

    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(BASE))
    result = CliRunner().invoke(app, ["study", str(path), "--executor", "slurm", "--dry-run"])
    assert isinstance(result.exception, ConfigError)
    assert "unknown executor 'slurm'; known executors: local" in str(result.exception)


def test_example_studies_are_valid():
    from pathlib import Path

    studies = Path(__file__).resolve().parents[2] / "studies"
    names = sorted(path.stem for path in studies.glob("*.yaml"))
    assert names == ["activitynet", "ci", "demo", "esc50", "gtzan", "iemocap", "speechcommands", "ucf101"]
    for name in names:
        config = load_study(studies / f"{name}.yaml")
        assert config.seeds and config.experiments
        if name in ("activitynet", "esc50", "gtzan", "ucf101"):  # the classification studies spend adaptively too
            assert "adaptive" in {experiment.kind for experiment in config.experiments.values()}, name


def test_prompt_settings(tmp_path):
    llm = {"strategy": "llm", "llm": {"backend": "openai", "api_key": "sk-secret"}}
    message = study_error(tmp_path, lambda d: d["prompts"].update(llm=llm))
    assert "prompts.llm.llm.api_key: API keys never go into a study file" in message
    assert "sk-secret" not in message
    message = study_error(tmp_path, lambda d: d["prompts"].update(
        llm={"strategy": "llm", "descriptors": "d.json", "llm": {"backend": "smollm2"}}))
    assert "prompts.llm.descriptors: a descriptor file replaces the LLM: give llm or descriptors, not both" in message
    message = study_error(tmp_path, lambda d: d["prompts"].update(
        llm={"strategy": "llm", "descriptors": "d.json", "options": {"per_prompt": 3}}))
    assert "prompts.llm.options.per_prompt: unknown prompt option (allowed: context, descriptors_per_prompt" \
        in message


def test_every_mistake_of_a_file_is_reported_at_once(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("name: t\n"
                    "sed: 3\n"  # an unknown key (seeds?)
                    "datasets: {}\n"  # no dataset at all
                    "experiments:\n"
                    "  zs:\n"
                    "    kind: zero_shot\n"
                    "    dataset: tones\n"
                    "    generators: [tiny]\n"
                    "    prompts: [label]\n"
                    "    clips_per_class: 0\n")  # not a count
    with pytest.raises(ConfigError) as error:
        load_study(path)
    lines = str(error.value).splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"{path}:2: sed: unknown key")
    assert lines[1].startswith(f"{path}:3: datasets: ")
    assert lines[2].startswith(f"{path}:10: experiments.zs.clips_per_class: ")


def test_every_broken_reference_is_reported_at_once(tmp_path):
    def change(data):
        data["experiments"]["zs"]["generators"] = ["nope"]
        data["experiments"]["mix"]["prompts"] = ["gone"]
        data["training"]["epochs"] = 0

    lines = study_error(tmp_path, change).splitlines()
    assert [line.split(": ", 2)[1] for line in lines] == [  # in the order of the file
        "training.epochs", "experiments.zs.generators[0]", "experiments.mix.prompts[0]"], lines
    assert lines[2].endswith("prompts 'gone' is not defined (defined prompts: label)")
    assert all(line.startswith(f"{tmp_path / 'study.yaml'}:") for line in lines)


def test_the_command_prints_one_error_line_per_mistake(tmp_path):
    from typer.testing import CliRunner

    from synthaudio.cli import main

    path = tmp_path / "study.yaml"
    path.write_text("name: t\nsed: 3\ndatasets: {}\nexperiments: {}\n")
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", "from synthaudio.cli import main; main()", "study", str(path),
                             "--dry-run"], capture_output=True, text=True)
    assert result.returncode == 2
    errors = result.stderr.splitlines()
    assert len(errors) == 3 and all(line.startswith(f"error: {path}:") for line in errors), errors
    assert CliRunner and main  # the in-process runner shows the same exception; the subprocess shows the lines


@pytest.mark.parametrize(("entry", "problems"), [
    ({"strategy": "llm", "llm": {"backend": "smollm2"}, "options": {"relevance_threshold": 2}},
     {"options.relevance_threshold": "a cosine similarity between -1 and 1 (default 0.12), got 2"}),
    ({"strategy": "llm", "llm": {"backend": "smollm2"}, "options": {"relevance_threshold": "high"}},
     {"options.relevance_threshold": "a cosine similarity between -1 and 1 (default 0.12), got 'high'"}),
    ({"strategy": "llm", "llm": {"backend": "smollm2"},
      "options": {"relevance": "no", "embedding_model": "", "relevance_threshold": 0.2}},
     {"options.relevance": "must be true or false (false: keep descriptors without the relevance check; the safety "
                           "filter always runs), got 'no'",
      "options.embedding_model": "a sentence-transformers model folder or cached Hugging Face id, e.g. "
                                 "sentence-transformers/all-MiniLM-L6-v2, got ''"}),
    ({"strategy": "llm", "llm": {"backend": "smollm2"}, "options": {"relevance": False, "relevance_threshold": 0.2}},
     {"options.relevance_threshold": "has no effect with relevance: false; remove one of them"}),
    ({"strategy": "label", "options": {"relevance_threshold": 0.2}},
     {"options.relevance_threshold": "the relevance screen checks the descriptors an LLM writes (strategy llm "
                                     "without a descriptor file); strategy 'label' has none: remove it"}),
    ({"strategy": "llm", "descriptors": "d.json", "options": {"relevance": False}},
     {"options.relevance": "the relevance screen checks the descriptors an LLM writes (strategy llm without a "
                           "descriptor file); a descriptor file has none: remove it"}),
])
def test_relevance_settings_get_one_line_per_bad_value(tmp_path, entry, problems):
    lines = study_error(tmp_path, lambda d: d["prompts"].update(llm=entry)).splitlines()
    found = {}
    for line in lines:
        assert re.match(rf"{re.escape(str(tmp_path / 'study.yaml'))}:\d+: prompts\.llm\.", line), line
        field, message = line.split(": ", 2)[1:]
        found[field.removeprefix("prompts.llm.")] = message
    assert found == problems


def test_relevance_settings_of_an_llm_entry_are_accepted(tmp_path):
    path = tmp_path / "study.yaml"
    data = copy.deepcopy(BASE)
    data["prompts"]["llm"] = {"strategy": "llm", "llm": {"backend": "smollm2"},
                              "options": {"relevance_threshold": 0.25, "embedding_model": "org/model"}}
    path.write_text(yaml.safe_dump(data))
    assert load_study(path).prompts["llm"].options == {"relevance_threshold": 0.25, "embedding_model": "org/model"}
