"""The adaptive experiment end to end on espeak-ng speech and a tiny real set: rounds measured on the real
validation split only, allocations that add up to the budget, LLM rewrites told what a class is mistaken for, the
comparison with uniform allocation, a free rerun, and a changed rule that recomputes only what depends on it."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

import synthaudio.recognition.data as recognition_data
from synthaudio.errors import ConfigError
from synthaudio.manifest import read_manifest, write_manifest
from synthaudio.study.adaptive import ALLOCATION, AllocateStage
from synthaudio.study.recognition import EvaluateStage, TrainStage
from synthaudio.study.runner import plan_lines, run_study
from synthaudio.study.schema import load_study
from tests.prompts.prompts_helpers import answering_server, numbered
from tests.study.test_plan_errors import tone_manifest

STYLES = ["husky", "breathy", "mumbled", "quiet", "drawling"]  # speaking styles espeak-ng realises
LABELS = ("no", "up", "yes")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed "
                                 "(sudo apt-get install espeak-ng)")]


def real_words(folder: Path, splits: dict[str, int]) -> Path:
    """A tiny real set of tones labelled as words, each split with audio of its own (the feature cache is keyed by
    content, so a test clip identical to a val clip would never be opened)."""
    clips = []
    for number, (split, count) in enumerate(splits.items()):
        part = tone_manifest(folder, f"words_{split}", {split: count}, labels=LABELS, seconds=0.3 + 0.05 * number)
        clips += read_manifest(part)
    write_manifest(folder / "words.jsonl", clips)
    return folder / "words.jsonl"


def write_study(folder: Path, manifest: Path, rules=("f1_gap",), rewrite=None, protocol="validation",
                budget=4, rounds=2) -> Path:
    experiment = {"kind": "adaptive", "dataset": "words", "generators": ["tts"], "prompts": ["label"],
                  "budget": budget, "rounds": rounds, "rules": list(rules)}
    if rewrite is not None:
        experiment["rewrite"] = rewrite
    study = {"name": "adaptive", "seeds": [0], "protocol": protocol,
             "datasets": {"words": {"manifest": str(manifest), "domain": "speech"}},
             "prompts": {"label": {"strategy": "label"}},
             "generators": {"tts": {"generator": "tts", "duration": 0.6, "batch_size": 8}},
             "training": {"epochs": 1, "batch_size": 4, "features": {"target_frames": 60}},
             "experiments": {"adapt": experiment}}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


class SplitSpy:
    """Records every audio file the recognition code opens, with the stage (kind, split) running at the time."""

    def __init__(self, monkeypatch):
        self.current: tuple[str, str | None] | None = None
        self.opened: list[tuple[tuple[str, str | None] | None, str]] = []
        original = recognition_data.load_audio

        def spying_load(path, *args, **kwargs):
            self.opened.append((self.current, str(Path(path).resolve())))
            return original(path, *args, **kwargs)

        monkeypatch.setattr(recognition_data, "load_audio", spying_load)
        for stage_class in (TrainStage, EvaluateStage, AllocateStage):
            monkeypatch.setattr(stage_class, "run", self._wrap(stage_class.run))

    def _wrap(self, run):
        spy = self

        def wrapped(stage, where):
            spy.current = (stage.kind, getattr(stage, "split", None))
            try:
                return run(stage, where)
            finally:
                spy.current = None
        return wrapped


@pytest.fixture
def llm_server():
    yield from answering_server(numbered(STYLES))


def stages_of(outcome, kind):
    return [stage for stage in outcome.plan.stages.values() if stage.kind == kind]


def test_adaptive_rounds_never_open_the_test_split_and_are_compared_with_uniform(tmp_path, monkeypatch, llm_server):
    manifest = real_words(tmp_path, {"val": 2, "test": 2})
    rewrite = {"classes": 1, "llm": {"backend": "openai", "base_url": llm_server.url, "model": "test-model"},
               "options": {"num_descriptors": 5, "retries": 1}}
    path = write_study(tmp_path, manifest, rewrite=rewrite)
    spy = SplitSpy(monkeypatch)
    outcome = run_study(load_study(path), tmp_path / "out")

    # 1. the test split was opened by the final evaluations only, never by a round's training, measurement or
    # allocation (the spy sees the test clips there, so it is watching)
    test_clips = {str(Path(clip.path).resolve()) for clip in read_manifest(manifest) if clip.split == "test"}
    test_opened_by = {stage for stage, path in spy.opened if path in test_clips}
    assert test_opened_by == {("evaluate", "test")}
    val_clips = {str(Path(clip.path).resolve()) for clip in read_manifest(manifest) if clip.split == "val"}
    # the rounds' models are selected and measured on the real val split (opened once, then cached)
    assert {stage for stage, path in spy.opened if path in val_clips} & {("train", None), ("evaluate", "val")}

    # 2. the budget: 4 clips per class x 3 classes in 2 rounds of 6; round 1 uniform, round 2 by the rule
    allocations = [json.loads((stage.folder / ALLOCATION).read_text()) for stage in stages_of(outcome, "allocate")]
    by_rule = {(record["rule"], record["round"]): record for record in allocations}
    assert by_rule[("uniform", 0)]["added"] == {"no": 2, "up": 2, "yes": 2}
    adaptive = by_rule[("f1_gap", 1)]
    assert sum(adaptive["added"].values()) == 6 and sum(adaptive["clips"].values()) == 12
    assert adaptive["measured_on"] == "val" and set(adaptive["f1"]) == set(LABELS)
    assert by_rule[("uniform", 1)]["clips"] == {"no": 4, "up": 4, "yes": 4}
    weakest = min(LABELS, key=lambda label: (adaptive["f1"][label], label))
    gap = {label: 1 - adaptive["f1"][label] for label in LABELS}
    assert max(adaptive["added"], key=lambda label: (adaptive["added"][label], -LABELS.index(label))) == \
        max(gap, key=lambda label: (gap[label], -LABELS.index(label)))  # most clips where F1 is lowest

    # 3. the weakest class's prompts were rewritten, the LLM told what the class is mistaken for
    [rewrite_record] = adaptive["rewrites"]
    assert rewrite_record["label"] == weakest and rewrite_record["failed"] is None
    assert rewrite_record["descriptors"] == STYLES and rewrite_record["confused_with"]
    question = llm_server.requests[-1]["json"]["messages"][-1]["content"]
    assert f"mistakes '{weakest}' for '{rewrite_record['confused_with'][0]}'" in question
    round_pool = next(stage for stage in stages_of(outcome, "round_pool")
                      if stage.spec.allocation.key == next(s.key for s in stages_of(outcome, "allocate")
                                                           if s.spec.rule == "f1_gap"))
    prompts = json.loads((round_pool.folder / "prompts.json").read_text())
    assert prompts["provenance"]["rewritten"] == {weakest: STYLES}
    assert all(set(prompt.split(", ")[1:]) <= set(STYLES) and len(prompt.split(", ")) == 4
               for prompt in prompts["prompts"][weakest])
    assert all(prompt == f"{label}" or prompt.startswith(label) for label in LABELS if label != weakest
               for prompt in prompts["prompts"][label])
    clips = read_manifest(round_pool.folder / "clips" / "manifest.jsonl")
    assert {label: sum(c.label == label for c in clips) for label in LABELS} == adaptive["added"]

    # 4. the report: both conditions with the same budget, the paired comparison, the allocation table
    results = json.loads((tmp_path / "out" / "report" / "results.json").read_text())
    rows = {row["variant"]: row for row in results["rows"]}
    assert set(rows) == {"uniform allocation", "adaptive (f1_gap)"}
    assert {row["synthetic_clips"] for row in rows.values()} == {12} and {r["test_clips"] for r in rows.values()} == {6}
    assert [(c["question"], c["setting_a"]["variant"], c["setting_b"]["variant"]) for c in results["comparisons"]
            if c["metric"] == "accuracy"] == [("adaptive vs uniform allocation at the same budget",
                                               "adaptive (f1_gap)", "uniform allocation")]
    report = (tmp_path / "out" / "report" / "report.md").read_text()
    assert "## Adaptive allocation per round" in report and "## Prompt rewrites" in report
    allocation_csv = (tmp_path / "out" / "report" / "allocation.csv").read_text()
    assert "f1_gap" in allocation_csv and weakest in allocation_csv
    assert "Adaptive allocation per round" in (tmp_path / "out" / "report" / "index.html").read_text()

    # 5. a rerun does no work
    again = run_study(load_study(path), tmp_path / "out", report=False)
    assert again.ran == []


def test_a_changed_rule_recomputes_only_what_depends_on_it(tmp_path):
    manifest = real_words(tmp_path, {"val": 2, "test": 2})
    first = run_study(load_study(write_study(tmp_path, manifest)), tmp_path / "out", report=False)
    second = run_study(load_study(write_study(tmp_path, manifest, rules=("confusion",))), tmp_path / "out",
                       report=False)
    ran = [second.plan.stages[key] for key in second.ran]
    # round 1 (uniform for every rule), the uniform baseline and the model measured after round 1 are reused
    assert {stage.kind for stage in ran} == {"allocate", "round_pool", "train", "evaluate"}
    assert all(stage.spec.rule == "confusion" for stage in ran if stage.kind == "allocate")
    reused = set(first.plan.stages) & set(second.plan.stages)
    assert {second.plan.stages[key].kind for key in reused} >= {"allocate", "round_pool", "train", "evaluate"}
    assert len([key for key in second.ran if second.plan.stages[key].kind == "train"]) == 1  # the final model


def test_dry_run_lists_the_rounds(tmp_path):
    manifest = real_words(tmp_path, {"val": 1, "test": 1})
    path = write_study(tmp_path, manifest, rounds=3, budget=6)
    outcome = run_study(load_study(path), tmp_path / "out", dry_run=True)
    lines = "\n".join(plan_lines(outcome))
    for round_number in (1, 2, 3):
        assert f"allocate round {round_number} of 3" in lines
    assert "generate round 3 (f1_gap)" in lines and "generate round 3 (uniform)" in lines


def test_paper_protocol_measures_rounds_on_test_and_says_so(tmp_path):
    manifest = real_words(tmp_path, {"test": 2})  # no val split: allowed under paper
    outcome = run_study(load_study(write_study(tmp_path, manifest, protocol="paper")), tmp_path / "out")
    measured = {json.loads((stage.folder / ALLOCATION).read_text())["measured_on"]
                for stage in stages_of(outcome, "allocate") if stage.spec.rule == "f1_gap"}
    assert measured == {"test"}
    report = (tmp_path / "out" / "report" / "report.md").read_text()
    assert "the TEST split: OPTIMISTIC" in report


# ---------------------------------------------------------------- bad input, before anything is generated

def config_error(tmp_path, manifest, match, **changes) -> str:
    path = write_study(tmp_path, manifest, **changes)
    with pytest.raises(ConfigError) as error:
        run_study(load_study(path), tmp_path / "out")
    assert not list((tmp_path / "out" / "stages").glob("*pool/*")), "nothing may be generated"
    message = str(error.value)
    assert message.startswith(f"{path}:"), message
    assert match in message, message
    return message


def test_a_budget_below_one_clip_per_class_per_round(tmp_path):
    manifest = real_words(tmp_path, {"val": 1, "test": 1})
    config_error(tmp_path, manifest, "budget: 2 clips per class over 3 rounds is less than one clip per class per "
                                     "round; give budget >= 3, or fewer rounds", budget=2, rounds=3)


def test_an_unknown_rule_and_uniform_as_a_rule(tmp_path):
    manifest = real_words(tmp_path, {"val": 1, "test": 1})
    message = config_error(tmp_path, manifest, "unknown allocation rule 'greedy'; known rules: uniform, f1_gap, "
                                               "confusion", rules=("greedy",))
    assert "experiments.adapt.rules" in message
    config_error(tmp_path, manifest, "'uniform' is the baseline every adaptive run is compared with",
                 rules=("uniform",))


def test_no_real_validation_split_outside_the_paper_protocol(tmp_path):
    manifest = real_words(tmp_path, {"test": 1})
    config_error(tmp_path, manifest, "experiments.adapt.dataset: dataset 'words' has no val rows (test 3); adaptive "
                                     "allocation measures every round on the real validation split, never on the "
                                     "test split")


def test_an_unknown_rewrite_option(tmp_path):
    manifest = real_words(tmp_path, {"val": 1, "test": 1})
    config_error(tmp_path, manifest, "experiments.adapt.rewrite.options.temperature: unknown rewrite option",
                 rewrite={"options": {"temperature": 0.3}})


def test_a_merged_generator_and_an_api_key_are_refused(tmp_path):
    manifest = real_words(tmp_path, {"val": 1, "test": 1})
    path = write_study(tmp_path, manifest)
    study = yaml.safe_load(path.read_text())
    study["generators"]["tts_gb"] = {**study["generators"]["tts"], "settings": {"voices": ["en-gb"]}}
    study["generators"]["both"] = {"merge": ["tts", "tts_gb"]}
    study["experiments"]["adapt"]["generators"] = ["both"]
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    with pytest.raises(ConfigError) as error:
        run_study(load_study(path), tmp_path / "out")
    assert str(error.value).startswith(f"{path}:")
    assert ("experiments.adapt.generators[0]: 'both' is not a single generator; an adaptive experiment generates "
            "each round itself, so name one generator entry per run") in str(error.value)
    study["experiments"]["adapt"]["generators"] = ["tts"]
    study["experiments"]["adapt"]["rewrite"] = {"llm": {"backend": "openai", "api_key": "sk-secret"}}
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    with pytest.raises(ConfigError) as error:
        load_study(path)
    assert "experiments.adapt.rewrite.llm.api_key: API keys never go into a study file" in str(error.value)
    assert "sk-secret" not in str(error.value)
