"""A study over a real set that is test-only (like the offline demo's ten recorded digits): zero-shot with a
synthetic hold-out for model selection, a band-limited derived pool that reuses the generated clips, speaking-style
descriptors from an LLM served over real HTTP on 127.0.0.1 (the prompts stage), and every job crossing a pickle
boundary as a distributed executor would send it."""

import json
import pickle
import shutil

import numpy as np
import pytest
import yaml

from synthaudio.audio import load_audio
from synthaudio.manifest import read_manifest
from synthaudio.study.executor import EXECUTORS
from synthaudio.study.runner import run_study
from synthaudio.study.schema import load_study
from tests.prompts.prompts_helpers import answering_server, numbered
from tests.study.test_plan_errors import tone_manifest

# speaking styles the espeak-ng engine realises (the prompt screen keeps only those)
STYLES = ["husky", "breathy", "mumbled", "quiet", "drawling", "booming", "shrill", "robotic", "elderly", "childlike"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed "
                                 "(sudo apt-get install espeak-ng)")]


def high_band_share(samples: np.ndarray, rate: int, cutoff: float = 4200.0) -> float:
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    frequencies = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(spectrum[frequencies > cutoff].sum() / spectrum.sum())


class PicklingExecutor:
    """An executor as a distributed one sees the work: every job crosses a pickle boundary before it runs."""

    name = "pickling"
    kinds_sent_away: set = set()

    def run(self, jobs, distributable=frozenset()):
        from synthaudio.study.stages import run_job

        for job in jobs:
            if job.key in distributable:
                PicklingExecutor.kinds_sent_away.add(job.kind)
            yield job, run_job(pickle.loads(pickle.dumps(job)))

    def close(self):
        pass


@pytest.fixture
def llm_server():
    yield from answering_server(numbered(STYLES))


def test_synthetic_holdout_and_band_limited_pool(tmp_path, request, llm_server):
    words = tone_manifest(tmp_path, "words", {"test": 2}, labels=("yes", "no"))
    speech = {"generator": "tts", "duration": 1.0, "batch_size": 4}
    study = {"name": "words", "seeds": [0],
             "datasets": {"words": {"manifest": str(words), "domain": "speech"}},
             "prompts": {"label": {"strategy": "label"},
                         "styles": {"strategy": "llm", "llm": {"backend": "openai", "base_url": llm_server.url,
                                                               "model": "test-model"}}},
             "generators": {"tts": speech, "tts-phone": {**speech, "postprocess": {"band_limit_hz": 4000}}},
             "training": {"epochs": 1, "batch_size": 4, "features": {"target_frames": 100}},
             "experiments": {"zs": {"kind": "zero_shot", "dataset": "words", "generators": ["tts", "tts-phone"],
                                    "prompts": ["label", "styles"], "clips_per_class": 4,
                                    "validation": "synthetic_holdout", "holdout_fraction": 0.25}}}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study))
    EXECUTORS.add("pickling", f"{__name__}:PicklingExecutor")
    request.addfinalizer(lambda: EXECUTORS.remove("pickling"))
    outcome = run_study(load_study(path), tmp_path / "out", executor="pickling")
    # what a Ray executor may run remotely
    assert PicklingExecutor.kinds_sent_away == {"pool", "derived_pool", "train", "evaluate"}
    kinds = [stage.kind for stage in outcome.plan.stages.values()]
    assert kinds.count("pool") == 2 and kinds.count("derived_pool") == 2  # speech generated once per strategy
    assert kinds.count("prompts") == 1 and len(llm_server.requests) == 2  # the LLM asked once per label

    pool = next(s for s in outcome.plan.stages.values() if s.kind == "pool" and s.spec.prompt_stage)
    prompts = json.loads((pool.folder / "prompts.json").read_text())["prompts"]
    assert all(prompt.split(", ")[0] == label and set(prompt.split(", ")[1:]) <= set(STYLES)
               and len(prompt.split(", ")) == 4 for label, texts in prompts.items() for prompt in texts)
    controls = [clip.meta["controls"] for clip in read_manifest(pool.folder / "clips" / "manifest.jsonl")]
    assert any(control.get("descriptors_used") for control in controls)  # the styles steered espeak-ng

    derived = next(s for s in outcome.plan.stages.values() if s.kind == "derived_pool")
    for clip in read_manifest(derived.folder / "clips" / "manifest.jsonl"):
        wide = load_audio(tmp_path / "out" / clip.meta["derived_from"], 16000)  # relative to the output folder
        narrow = load_audio(clip.path, 16000)
        # espeak-ng's speech has little energy above 4 kHz; the band limit removes (nearly) all of it
        assert high_band_share(narrow, 16000) < 1e-3 * high_band_share(wide, 16000)
        assert clip.meta["postprocess"] == {"band_limit_hz": 4000}

    for stage in outcome.plan.stages.values():
        if stage.kind == "subset":
            assert len(read_manifest(stage.folder / "train.jsonl")) == 6  # 3 of 4 per label
            assert {c.split for c in read_manifest(stage.folder / "val.jsonl")} == {"val"}
        if stage.kind == "train":
            config = json.loads((stage.folder / "run" / "config.json").read_text())
            assert config["val_manifest"]["path"].endswith("val.jsonl")  # selected on held-out synthetic clips
    rows = json.loads((tmp_path / "out" / "report" / "results.json").read_text())["rows"]
    assert {(row["generator"], row["prompts"], row["validation"], row["test_clips"]) for row in rows} == {
        (generator, prompts, "synthetic_holdout", 4) for generator in ("tts", "tts-phone")
        for prompts in ("label", "styles")}
    assert not any(row["random_weights"] for row in rows)  # espeak-ng is a real generator
