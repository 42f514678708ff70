"""Merged generator pools (generators.<name>.merge): N clips per class are each member's share of N (largest
remainder) taken from the start of that member's own pool, so nothing is generated twice; the merged source is
compared with each member listed beside it at the same budget; the report says what a merge is made of; bad merges
are one located line each."""

import json
import math
import re
from collections import Counter
from fractions import Fraction

import pytest
import yaml

from synthaudio.errors import ConfigError
from synthaudio.generators import GENERATORS
from synthaudio.manifest import read_manifest
from synthaudio.study.runner import plan_lines, run_study
from synthaudio.study.schema import load_study
from synthaudio.study.synthetic import MERGED_VS_SINGLE, POOL_MANIFEST, merge_shares
from tests.study.test_config import study_error
from tests.study.test_plan_errors import tone_manifest

LABELS = ("high", "low")


@pytest.mark.parametrize(("weights", "total", "shares"), [
    ([1, 1], 32, [16, 16]),
    ([1, 1], 5, [3, 2]),  # a tie goes to the earlier member
    ([1, 1, 1], 2, [1, 1, 0]),
    ([1, 2, 1], 10, [3, 5, 2]),  # 2.5 / 5 / 2.5: the two halves tie, the first wins
    ([3, 1], 7, [5, 2]),  # 5.25 / 1.75: the larger remainder wins
    ([0.1, 0.2, 0.7], 10, [1, 2, 7]),  # exact arithmetic: 0.1 + 0.2 is no float tie-breaker
    ([2, 2], 1, [1, 0]),
])
def test_shares_by_largest_remainder(weights, total, shares):
    assert merge_shares(weights, total) == shares


@pytest.mark.parametrize("weights", [[1, 1], [1, 2, 3], [0.3, 0.3, 0.4], [5, 1, 1, 1]])
def test_shares_sum_to_the_total_and_stay_within_one_of_the_quota(weights):
    for total in range(0, 41):
        shares = merge_shares(weights, total)
        assert sum(shares) == total
        for weight, share in zip(weights, shares, strict=True):
            quota = total * Fraction(weight) / sum(map(Fraction, weights))
            assert math.floor(quota) <= share <= math.ceil(quota)


@pytest.fixture
def toy_tones(request):
    """The toy plugin's seeded-tone generator, registered in this process: generation in milliseconds."""
    GENERATORS.add("toy-tones", "tests.fixtures.plugin.synthaudio_toy_plugin:ToneGenerator", "tests")
    request.addfinalizer(lambda: GENERATORS.remove("toy-tones"))


def write_study(tmp_path, experiments=None, generators=None):
    """A zero-shot study on a two-label test-only tone set: two tone generators (different clip lengths, so two
    pools) and their merge."""
    real = tone_manifest(tmp_path, "real", {"test": 2}, labels=LABELS)
    zero_shot = {"kind": "zero_shot", "dataset": "real", "generators": ["tones_a", "tones_b", "both"],
                 "prompts": ["label"], "clips_per_class": 4, "validation": "synthetic_holdout",
                 "holdout_fraction": 0.25}
    study = {"name": "merge", "seeds": [0],
             "datasets": {"real": {"manifest": str(real), "domain": "sound"}},
             "prompts": {"label": {"strategy": "label"}},
             "generators": {"tones_a": {"generator": "toy-tones", "duration": 0.3},
                            "tones_b": {"generator": "toy-tones", "duration": 0.4},
                            "both": {"merge": ["tones_a", "tones_b"]}, **(generators or {})},
             "training": {"epochs": 1, "batch_size": 4},
             "experiments": experiments or {"zs": zero_shot}}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


def stages_of(outcome, kind):
    return [stage for stage in outcome.plan.stages.values() if stage.kind == kind]


@pytest.mark.slow
def test_a_merged_source_takes_each_members_first_clips_and_is_compared_with_them(tmp_path, toy_tones):
    path = write_study(tmp_path)
    out = tmp_path / "out"
    outcome = run_study(load_study(path), out)

    pools = stages_of(outcome, "pool")
    assert len(pools) == 2  # one per member: the merge generated nothing of its own
    for pool in pools:  # and asked no member for more clips than its own runs use
        assert Counter(c.label for c in read_manifest(pool.folder / POOL_MANIFEST)) == {label: 4 for label in LABELS}
    [merged] = stages_of(outcome, "merged_subset")
    clips = read_manifest(merged.folder / "train.jsonl") + read_manifest(merged.folder / "val.jsonl")
    assert sorted(clip.id for clip in clips) == sorted(f"{member}/{label}-{index:05d}" for member in ("tones_a",
                                                       "tones_b") for label in LABELS for index in range(2))
    by_pool = {pool.spec.generation.duration: pool for pool in pools}
    for clip in clips:  # the members' own files, with their provenance
        member = clip.meta["merged_from"]
        pool = by_pool[0.3 if member == "tones_a" else 0.4]
        assert clip.path.startswith(str(pool.folder)) and clip.meta["index"] < 2
        assert (clip.generator, clip.checkpoint, clip.source) == ("toy-tones", "none", "synthetic")
    record = json.loads((merged.folder / "done.json").read_text())
    assert (record["train"], record["val"]) == (6, 2)  # a quarter of each label's 4 clips held out
    assert {name: counts["clips_per_class"] for name, counts in record["members"].items()} == \
        {"tones_a": 2, "tones_b": 2}
    assert sum(counts["train"] + counts["val"] for counts in record["members"].values()) == 8

    compared = {(pair.a["generator"], pair.b["generator"]) for pair in outcome.plan.comparisons
                if pair.question == MERGED_VS_SINGLE}
    assert compared == {("both", "tones_a"), ("both", "tones_b")}
    note = ("merged generator both at 4 clips/class = tones_a 2 + tones_b 2 (weights 1:1; the first clips per label "
            "of each member's own pool)")
    results = json.loads((out / "report" / "results.json").read_text())
    assert {row["generator"] for row in results["rows"]} == {"tones_a", "tones_b", "both"}
    assert note in results["notes"] and f"Note: {note}" in (out / "report" / "report.md").read_text()
    assert {(row["setting_a"]["generator"], row["setting_b"]["generator"]) for row in results["comparisons"]
            if row["question"] == MERGED_VS_SINGLE} == compared  # each in the report's paired comparisons
    gallery = next(d for d in results["gallery"]["datasets"] if d["dataset"] == "real")
    shown = Counter(clip["id"].split("/")[0] for clip in gallery["synthetic"] if clip["generator"] == "both")
    assert shown == {"tones_a": 8, "tones_b": 8}  # 5 + 5 per label wanted, 4 + 4 generated

    again = run_study(load_study(path), out)
    assert again.ran == []  # the merged subset, its member subsets and every run are cached



def test_the_dry_run_lists_the_merge_with_its_shares(tmp_path, toy_tones):
    outcome = run_study(load_study(write_study(tmp_path)), tmp_path / "out", dry_run=True)
    lines = plan_lines(outcome)
    assert any(re.match(r"run\s+merged_subset\s+4 clips/class of real by both/label = tones_a 2 \+ tones_b 2 ", line)
               for line in lines), lines
    assert "merged_subset: 1 run" in lines
    note = "note: merged generator both at 4 clips/class = tones_a 2 + tones_b 2"
    assert any(line.startswith(note) for line in lines), lines


def test_weights_decide_the_shares_and_a_zero_share_member_is_left_out(tmp_path, toy_tones):
    weighted = {"tones_c": {"generator": "toy-tones", "duration": 0.5},
                "both": {"merge": ["tones_a", "tones_b", "tones_c"], "weights": [6, 1, 1]}}
    experiment = {"kind": "quantity", "dataset": "real", "generators": ["both"], "prompts": ["label"],
                  "clips_per_class": [4, 8], "validation": "synthetic_holdout"}
    outcome = run_study(load_study(write_study(tmp_path, {"q": experiment}, weighted)), tmp_path / "out",
                        dry_run=True)
    titles = sorted(stage.title for stage in stages_of(outcome, "merged_subset"))
    # 4 x (6, 1, 1) / 8 = 3, 0.5, 0.5 -> 3, 1 (the tie goes to tones_b, listed first), 0; 8 clips: 6, 1, 1
    assert titles == ["4 clips/class of real by both/label = tones_a 3 + tones_b 1",
                      "8 clips/class of real by both/label = tones_a 6 + tones_b 1 + tones_c 1"]
    assert {stage.spec.generation.duration: stage.size for stage in stages_of(outcome, "pool")} == \
        {0.3: 6, 0.4: 1, 0.5: 1}  # each pool generated up to its largest share


def test_a_merge_may_be_the_speech_and_the_noise_of_speech_augment(tmp_path, toy_tones):
    noise = tone_manifest(tmp_path, "babble", {"test": 1}, labels=("hum",), seconds=1.0)
    experiment = {"kind": "speech_augment", "dataset": "real",
                  "speech": {"generator": "both", "prompts": "label", "clips_per_class": 4},
                  "validation": "synthetic_holdout",
                  "noise": {"merged": {"synthetic": {"labels": "real", "generator": "both", "prompts": "label",
                                                     "clips_per_class": 2}}},
                  "test_noise": {"manifest": str(noise)}, "test_snr_db": [5]}
    outcome = run_study(load_study(write_study(tmp_path, {"aug": experiment})), tmp_path / "out", dry_run=True)
    assert len(stages_of(outcome, "merged_subset")) == 2  # the speech (2 + 2) and the noise (1 + 1)
    pools = {stage.key for stage in stages_of(outcome, "pool")}
    assert len(pools) == 2 and all(set(spec.pools) == pools for spec in outcome.plan.results if spec.pools)


def test_a_merge_of_one_generated_pool_twice_is_refused(tmp_path, toy_tones):
    generators = {"tones_a_band": {"generator": "toy-tones", "duration": 0.3, "postprocess": {"band_limit_hz": 1000}},
                  "both": {"merge": ["tones_a", "tones_a_band"]}}
    path = write_study(tmp_path, generators=generators)
    with pytest.raises(ConfigError) as error:
        run_study(load_study(path), tmp_path / "out", dry_run=True)
    assert re.fullmatch(rf"{re.escape(str(path))}:\d+: generators\.both\.merge: 'tones_a' and 'tones_a_band' are the "
                        r"same generated clips .*; merge generators that differ in what they generate",
                        str(error.value))


# ---------------------------------------------------------------- bad input in the study file

def with_merge(entry):
    def change(data):
        data["generators"]["other"] = {"generator": "audioldm2", "checkpoint": "tiny-random", "duration": 1.0}
        data["generators"]["merged"] = entry
    return change


def test_an_unknown_member(tmp_path):
    message = study_error(tmp_path, with_merge({"merge": ["tiny", "huge"]}))
    assert re.search(r":\d+: generators\.merged\.merge\[1\]: generator 'huge' is not defined \(defined generators: "
                     r"tiny, other\)$", message, flags=re.MULTILINE), message


def test_a_member_that_is_itself_merged(tmp_path):
    def change(data):
        with_merge({"merge": ["tiny", "other"]})(data)
        data["generators"]["twice"] = {"merge": ["merged", "tiny"]}
    message = study_error(tmp_path, change)
    assert "generators.twice.merge[0]: 'merged' is itself a merged generator; merge its members instead (tiny, " \
           "other)" in message


def test_weights_that_do_not_fit_the_members(tmp_path):
    message = study_error(tmp_path, with_merge({"merge": ["tiny", "other"], "weights": [1, 2, 3]}))
    assert "generators.merged.weights: 3 weight(s) for 2 members (tiny, other); give one per member" in message
    message = study_error(tmp_path, with_merge({"merge": ["tiny", "other"], "weights": [1, 0]}))
    assert "generators.merged.weights[1]: a weight must be a positive number, got 0.0" in message
    message = study_error(tmp_path, with_merge({"merge": ["tiny", "other"], "weights": [-1, 1]}))
    assert "generators.merged.weights[0]: a weight must be a positive number, got -1.0" in message


def test_a_merge_needs_two_distinct_members(tmp_path):
    message = study_error(tmp_path, with_merge({"merge": ["tiny"]}))
    assert re.search(r"generators\.merged\.merge: List should have at least 2 items", message), message
    message = study_error(tmp_path, with_merge({"merge": ["tiny", "tiny"]}))
    assert "generators.merged.merge: a merge lists distinct generators, got ['tiny', 'tiny']" in message


def test_mistakes_in_entries_name_the_field_as_written(tmp_path):
    # a plain entry reads as before the merge existed: no union member or tag in the field's name
    message = study_error(tmp_path, lambda d: d["generators"]["tiny"].pop("duration"))
    assert message.endswith(": generators.tiny.duration: missing (required)"), message
    message = study_error(tmp_path, lambda d: d["generators"]["tiny"].update(chekpoint="x"))
    assert "generators.tiny.chekpoint: unknown key (allowed here: generator, checkpoint, duration" in message
    message = study_error(tmp_path, with_merge({"merge": ["tiny", "other"], "weight": [1, 1]}))
    assert "generators.merged.weight: unknown key (allowed here: merge, weights)" in message
