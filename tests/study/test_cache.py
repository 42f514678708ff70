"""Stage keys: canonical (order-free), sensitive to every input; done markers; growing stages."""

import json
from dataclasses import dataclass

import pytest

from synthaudio.errors import SynthaudioError
from synthaudio.study.cache import begin_stage, canonical_json, is_done, mark_done, read_done, stage_folder, stage_key
from synthaudio.study.plan import Planner
from synthaudio.study.stages import StageSpec


def test_key_ignores_mapping_order_but_not_values():
    first = stage_key("train", {"settings": {"lr": 0.001, "epochs": 3}, "train": ["a", "b"]})
    assert first == stage_key("train", {"train": ["a", "b"], "settings": {"epochs": 3, "lr": 0.001}})
    assert first != stage_key("train", {"settings": {"lr": 0.002, "epochs": 3}, "train": ["a", "b"]})
    assert first != stage_key("train", {"settings": {"lr": 0.001, "epochs": 3}, "train": ["b", "a"]})
    assert first != stage_key("evaluate", {"settings": {"lr": 0.001, "epochs": 3}, "train": ["a", "b"]})
    assert len(first) == 64


def test_canonical_json_is_stable_and_refuses_nan():
    assert canonical_json({"b": 1, "a": [1.5, None, "é"]}) == '{"a":[1.5,null,"é"],"b":1}'
    with pytest.raises(ValueError):
        canonical_json({"snr": float("nan")})


def test_done_marker_and_growing_stages(tmp_path):
    folder = stage_folder(tmp_path, "pool", "ab" * 32)
    assert folder == tmp_path / "stages" / "pool" / ("ab" * 8)
    begin_stage(folder, "pool", "ab" * 32, {"x": 1})
    assert not is_done(folder) and read_done(folder) is None
    mark_done(folder, {"size": 4})
    assert is_done(folder) and is_done(folder, 4) and not is_done(folder, 6)
    assert json.loads((folder / "inputs.json").read_text())["inputs"] == {"x": 1}
    with pytest.raises(SynthaudioError, match="holds stage"):
        begin_stage(folder, "pool", "ab" * 8 + "cd" * 24, {"x": 2})  # same 16-character prefix, other key


@dataclass(frozen=True)
class Grow(StageSpec):
    kind = "grow"
    rank = 1
    labels: list[str]

    def identity(self):
        return {"labels": self.labels}

    def run(self, where):
        return {}


@dataclass(frozen=True)
class Learn(StageSpec):
    kind = "learn"
    rank = 0
    distributable = True
    source: str
    note: str = ""  # runs with it, does not decide the output

    def identity(self):
        return {"source": self.source}

    def run(self, where):
        return {}


def test_planner_shares_stages_and_grows_pools(tmp_path):
    planner = Planner(tmp_path)
    small = planner.add(Grow(["a"]), (), "pool", size=2)
    large = planner.add(Grow(["a"]), (), "pool", size=6)
    assert small is large and large.size == 6
    assert planner.add(Grow(["a"]), (), "pool", size=4).size == 6
    train = planner.add(Learn(small.key), (small.key,), "train")
    assert planner.add(Learn(small.key, note="elsewhere"), (small.key,), "train") is train  # same identity
    # levels follow dependencies, not the kinds' display rank
    assert [[s.kind for s in level] for level in planner.plan.levels()] == [["grow"], ["learn"]]
    assert train.distributable is True and small.distributable is False
    assert train.key == stage_key("learn", {"source": small.key})
