"""The report's example prompts: for each set of classes, a few prompts per class of every strategy, side by side,
in prompt_examples.csv, report.md and index.html; for speech the descriptors applied and ignored; a results.json
from before the section existed still reports (without it)."""

import json

import pandas as pd

from synthaudio.report import StudyResults, rebuild_report, write_report
from synthaudio.report.results import PromptExamples
from tests.fixtures.report_study import build_study_results

LABEL = PromptExamples(labels_from="tones", domain="sound", prompts="label", strategy="label",
                       source="template '{label} sound'",
                       examples={"class_00": ["class 00 sound"], "class_01": ["class 01 sound"]})
LLM = PromptExamples(labels_from="tones", domain="sound", prompts="gemini", strategy="llm",
                     source="descriptors by openai test-model",
                     examples={"class_00": ["class 00 sound, humming, low", "class 00 sound, droning, steady",
                                            "class 00 sound, low, steady"],
                               "class_01": ["class 01 sound, shrill, high", "class 01 sound, piercing, high",
                                            "class 01 sound, shrill, piercing"]})
SPEECH = PromptExamples(labels_from="words", domain="speech", prompts="styles", strategy="llm",
                        source="descriptors by smollm2 SmolLM2-135M-Instruct-Q8_0.gguf",
                        examples={"yes": ["yes, fast, deep, whispered"]},
                        applied={"yes": ["fast", "deep", "whispered"]}, ignored={"yes": ["nice", "selfish"]})


def small_results(tmp_path, examples):
    results = build_study_results(tmp_path, classes=2, real_per_class=1, synthetic_per_class=1, generators=("g",))
    results.prompt_examples = list(examples)
    return results


def test_both_strategies_are_shown_per_class_in_csv_markdown_and_html(tmp_path):
    markdown, _ = write_report(small_results(tmp_path, [LLM, LABEL]), tmp_path / "report")
    table = pd.read_csv(tmp_path / "report" / "prompt_examples.csv", keep_default_na=False)
    # each class's strategies next to each other, ordered by the strategies' names
    assert list(zip(table["class"], table["prompts"], strict=True)) == [
        ("class_00", "gemini"), ("class_00", "label"), ("class_01", "gemini"), ("class_01", "label")]
    label_row = table[(table["class"] == "class_01") & (table["prompts"] == "label")].iloc[0]
    assert (label_row["example_1"], label_row["example_2"], label_row["source"]) == (
        "class 01 sound", "", "template '{label} sound'")
    llm_row = table[(table["class"] == "class_01") & (table["prompts"] == "gemini")].iloc[0]
    assert [llm_row[f"example_{i}"] for i in (1, 2, 3)] == LLM.examples["class_01"]

    text = markdown.read_text()
    section = text[text.index("## Example prompts per class"):]
    assert "OPTIMISTIC" not in section.splitlines()[0]
    assert "Sources: gemini (llm): descriptors by openai test-model; label (label): template '{label} sound'." \
        in section
    assert "| tones | class_01 | gemini | llm | class 01 sound, shrill, high | class 01 sound, piercing, high |" \
        in section
    assert "| tones | class_01 | label | label | class 01 sound | - | - |" in section
    assert "descriptors applied" not in section  # no speech prompt file records them here

    page = markdown.with_name("index.html").read_text()
    assert 'href="#example-prompts-per-class"' in page and "class 00 sound, droning, steady" in page


def test_speech_shows_the_descriptors_applied_and_ignored(tmp_path):
    markdown, _ = write_report(small_results(tmp_path, [SPEECH, LABEL]), tmp_path / "report")
    table = pd.read_csv(tmp_path / "report" / "prompt_examples.csv", keep_default_na=False)
    speech = table[table["labels"] == "words"].iloc[0]
    assert (speech["descriptors_applied"], speech["descriptors_ignored"]) == ("fast, deep, whispered",
                                                                            "nice, selfish")
    assert table[table["labels"] == "tones"]["descriptors_applied"].tolist() == ["", ""]  # not recorded there
    text = markdown.read_text()
    # one example column: no class here has more than one distinct prompt
    assert "| words | yes | styles | llm | yes, fast, deep, whispered | fast, deep, whispered | nice, selfish |" \
        in text
    assert "`descriptors ignored` are those it cannot, which no prompt uses" in text


def test_examples_survive_results_json_and_an_older_results_json_reports_without_them(tmp_path):
    write_report(small_results(tmp_path, [LABEL, SPEECH]), tmp_path / "report")
    loaded = StudyResults.load(tmp_path / "report" / "results.json")
    assert loaded.prompt_examples == [LABEL, SPEECH]  # typed again, not dicts

    data = json.loads((tmp_path / "report" / "results.json").read_text())
    del data["prompt_examples"]
    (tmp_path / "report" / "results.json").write_text(json.dumps(data))
    markdown, _ = rebuild_report(tmp_path / "report" / "results.json")
    assert "Example prompts per class" not in markdown.read_text()
    assert not (tmp_path / "report" / "prompt_examples.csv").exists()
