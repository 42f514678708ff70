"""Property-based bad input: random manifests, prompt files and study fragments give one `error:` line and exit
status 2 (a study that happens to be valid plans with status 0), never a traceback, and nothing is written outside
the output folder."""

import contextlib
import json
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults.fault_helpers import run_main, tree
from tests.study.test_plan_errors import tone_manifest

# small example counts: the whole suite runs on 2 cores in minutes
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=12), st.sampled_from(["", "train", "test", "val", "synthetic", "real", "../x",
                                                           "/etc/passwd", "a\nb", "é\u0000", "label"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                           max_leaves=6)
MANIFEST_FIELDS = ["id", "path", "label", "split", "fold", "source", "duration", "sample_rate", "offset", "generator",
                   "checkpoint", "prompt", "strategy", "seed", "meta", "random_weights", "extra"]
PROMPT_FIELDS = ["domain", "strategy", "seed", "clips_per_class", "prompts", "negative_prompt", "provenance",
                 "format", "labels"]


def rows(fields):
    plausible = st.dictionaries(st.sampled_from(fields), json_values, max_size=len(fields))
    return st.one_of(plausible, json_values)


def as_lines(items):
    return st.lists(st.one_of(items.map(lambda value: json.dumps(value).encode()), st.binary(max_size=20)),
                    max_size=4).map(lambda lines: b"\n".join(lines) + b"\n")


@contextlib.contextmanager
def workplace():
    """A fresh folder per example (Hypothesis reuses a test's tmp_path), the working directory inside it."""
    with tempfile.TemporaryDirectory() as folder:
        previous = os.getcwd()
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(previous)


def assert_error_lines_only(code, err, allowed=(2,)):
    """Exit 2 with `error:` lines only: one per problem (a study file reports all of its problems at once)."""
    assert "Traceback" not in err
    assert code in allowed, err
    if code == 2:
        errors = [line for line in err.splitlines() if line.strip()]
        assert errors and all(line.startswith("error: ") for line in errors), err


@FEW
@given(content=as_lines(rows(MANIFEST_FIELDS)))
def test_random_manifests(content):
    with workplace() as place:
        (place / "in").mkdir()
        (place / "in" / "m.jsonl").write_bytes(content)
        before = tree(place, skip=place / "out")
        code, out, err = run_main("manifest", "stats", "in/m.jsonl")
        assert_error_lines_only(code, err, allowed=(0, 2))
        code, out, err = run_main("train", "--train", "in/m.jsonl", "--val", "in/m.jsonl", "--out", "out/run",
                                  "--epochs", "1", "--cache-dir", "out/cache")
        assert_error_lines_only(code, err)
        assert tree(place, skip=place / "out") == before


@FEW
@given(content=st.one_of(rows(PROMPT_FIELDS).map(lambda value: json.dumps(value).encode()), st.binary(max_size=40),
                         st.fixed_dictionaries({"domain": st.sampled_from(["sound", "speech", "x"]),
                                                "strategy": st.sampled_from(["label", "llm"]),
                                                "seed": json_values, "clips_per_class": json_values,
                                                "prompts": st.dictionaries(st.text(max_size=5),
                                                                           st.lists(st.text(max_size=5), max_size=2),
                                                                           max_size=2)}
                                               ).map(lambda value: json.dumps(value).encode())))
def test_random_prompt_files(content):
    with workplace() as place:
        (place / "in").mkdir()
        (place / "in" / "prompts.json").write_bytes(content)
        before = tree(place, skip=place / "out")
        # --duration 0 keeps a prompt file that happens to be valid from generating: it ends in its own error
        code, out, err = run_main("generate", "--prompts", "in/prompts.json", "--out", "out/synth", "--generator",
                                  "audioldm2", "--checkpoint", "tiny-random", "--duration", "0", "--no-progress")
        assert_error_lines_only(code, err)
        assert tree(place, skip=place / "out") == before


def base_study(manifest: Path) -> dict:
    return {"name": "p", "seeds": [0],
            "datasets": {"d": {"manifest": str(manifest), "domain": "sound"}},
            "prompts": {"label": {"strategy": "label"}},
            "generators": {"g": {"generator": "audioldm2", "checkpoint": "tiny-random", "duration": 0.5}},
            "training": {"epochs": 1},
            "experiments": {"zs": {"kind": "zero_shot", "dataset": "d", "generators": ["g"], "prompts": ["label"],
                                   "clips_per_class": 2}}}


def paths_of(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_of(item, (*prefix, key))


def mutate(document: dict, path: tuple, action: str, value):
    if not path:
        return value if action == "replace" else document
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if action == "replace":
        parent[path[-1]] = value
    elif action == "delete":
        del parent[path[-1]]
    else:
        parent[f"{path[-1]}_extra"] = value
    return document


@FEW
@given(data=st.data())
def test_random_study_fragments(data):
    with workplace() as place:
        manifest = tone_manifest(place / "in", "d", {"val": 1, "test": 1})
        document = base_study(manifest)
        for _ in range(data.draw(st.integers(1, 3))):
            choices = list(paths_of(document)) if isinstance(document, dict) else [()]
            path = data.draw(st.sampled_from(choices))
            document = mutate(document, path, data.draw(st.sampled_from(["replace", "delete", "add"])),
                              data.draw(json_values))
            if not isinstance(document, dict):
                break
        text = yaml.safe_dump(document, allow_unicode=True) if data.draw(st.booleans()) else \
            data.draw(st.sampled_from(["{", "a: [", "- 1\n- 2", "name: p\nname: q\n", "\t x", ""]))
        (place / "in" / "study.yaml").write_text(text, encoding="utf-8")
        before = tree(place, skip=place / "out")
        code, out, err = run_main("study", "in/study.yaml", "--out", "out", "--dry-run")
        assert_error_lines_only(code, err, allowed=(0, 2))
        assert tree(place, skip=place / "out") == before
