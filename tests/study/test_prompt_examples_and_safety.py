"""A small study with label and LLM-assisted prompts (an LLM served over real HTTP on 127.0.0.1 that slips an
offensive word and words the voice cannot realise into its first answers): the report shows a few prompts per class
of both strategies, with the speech descriptors applied and ignored, and no word the safety filter flags is in any
prompt file, descriptor cache, manifest or report file the study writes."""

import json
import shutil

import pandas as pd
import pytest
import yaml

from synthaudio.study.runner import run_study
from synthaudio.study.schema import load_study
from tests.prompts.prompts_helpers import LLMServer, chat_reply, flagged_texts, numbered, swept_files
from tests.study.test_plan_errors import tone_manifest

# speaking styles espeak-ng realises; the first answer for each word also holds an offensive word and two words
# the voice cannot realise, which the screen drops (the offensive one counted, never written)
STYLES = ["husky", "breathy", "mumbled", "quiet", "drawling", "booming", "shrill", "robotic", "elderly", "childlike"]
FIRST = ["slutty", "nice", "selfish", *STYLES[:7]]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed "
                                 "(sudo apt-get install espeak-ng)")]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prompt-examples")
    server = LLMServer()
    asked: dict[str, int] = {}

    def answer(request):
        label = next(word for word in ("yes", "no") if f"'{word}'" in request["json"]["messages"][-1]["content"])
        asked[label] = asked.get(label, 0) + 1
        return chat_reply(numbered(FIRST if asked[label] == 1 else STYLES))

    server.handler = answer
    words = tone_manifest(folder, "words", {"test": 2}, labels=("yes", "no"))
    config = {"name": "words", "seeds": [0],
              "datasets": {"words": {"manifest": str(words), "domain": "speech"}},
              "prompts": {"label": {"strategy": "label"},
                          "styles": {"strategy": "llm", "llm": {"backend": "openai", "base_url": server.url,
                                                                "model": "test-model"}}},
              "generators": {"tts": {"generator": "tts", "duration": 1.0, "batch_size": 4}},
              "training": {"epochs": 1, "batch_size": 4, "features": {"target_frames": 100}},
              "experiments": {"zs": {"kind": "zero_shot", "dataset": "words", "generators": ["tts"],
                                     "prompts": ["label", "styles"], "clips_per_class": 4,
                                     "validation": "synthetic_holdout", "holdout_fraction": 0.25}}}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(config))
    try:
        outcome = run_study(load_study(path), folder / "out")
    finally:
        server.close()
    return {"out": folder / "out", "outcome": outcome, "asked": asked}


def test_the_report_shows_prompts_of_both_strategies_per_class(study):
    report = study["out"] / "report"
    table = pd.read_csv(report / "prompt_examples.csv", keep_default_na=False)
    assert list(zip(table["class"], table["prompts"], table["strategy"], strict=True)) == [
        ("no", "label", "label"), ("no", "styles", "llm"), ("yes", "label", "label"), ("yes", "styles", "llm")]
    assert set(table["labels"]) == {"words"}
    for _, row in table.iterrows():
        examples = [row[f"example_{i}"] for i in (1, 2, 3)]
        if row["strategy"] == "label":
            assert examples == [row["class"], "", ""] and row["source"] == "template '{label}'"
        else:  # three different prompts: the word and three of its styles
            assert len(set(examples)) == 3 and row["source"] == "descriptors by openai test-model"
            for example in examples:
                word, *styles = example.split(", ")
                assert word == row["class"] and len(styles) == 3 and set(styles) <= set(STYLES)
            # the screen's outcome, as the prompt file records it: 7 + 3 realisable styles, 2 left out
            assert row["descriptors_applied"] == ", ".join(STYLES)
            assert row["descriptors_ignored"] == "nice, selfish"

    text = (report / "report.md").read_text()
    section = text[text.index("## Example prompts per class"):]
    assert "| words | yes | label | label | yes | - | - |" in section
    assert "Sources: label (label): template '{label}'; styles (llm): descriptors by openai test-model." in section
    page = (report / "index.html").read_text()
    llm_example = table[table["strategy"] == "llm"]["example_1"].iloc[0]
    assert "Example prompts per class" in page and llm_example in page


def test_no_flagged_word_in_any_file_the_study_writes(study):
    out = study["out"]
    # the LLM did offer an offensive word, once per label, and the screen dropped it
    material = next(out.glob("stages/prompts/*/material.json"))
    assert {label: counts["offensive"] for label, counts in
            json.loads(material.read_text())["provenance"]["dropped"].items()} == {"yes": 1, "no": 1}
    swept = {path.relative_to(out).as_posix() for path in swept_files(out)}
    for pattern in ("stages/prompts/*/material.json", "stages/prompts/*/descriptor_cache.json",
                    "stages/pool/*/prompts.json", "stages/pool/*/clips/manifest.jsonl", "report/prompt_examples.csv",
                    "report/report.md", "report/index.html", "report/results.json", "report/results.csv"):
        assert {path.relative_to(out).as_posix() for path in out.glob(pattern)} & swept, pattern
    assert flagged_texts(out) == []
