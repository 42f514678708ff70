"""The report's example prompts (StudyResults.prompt_examples) as a table: one row per set of classes, class and
prompt strategy, the strategies of one class next to each other, so a reader sees what "label vs LLM prompts"
compared. For speech, where the prompt file records it, the descriptors applied (the voice realises them) and
ignored (it cannot, so no prompt uses them)."""

import pandas as pd

from synthaudio.report.results import PromptExamples, StudyResults

KEY_COLUMNS = ["labels", "domain", "class", "prompts", "strategy", "source"]
SPEECH_COLUMNS = ["descriptors_applied", "descriptors_ignored"]


def _example_count(records: list[PromptExamples]) -> int:
    return max((len(texts) for record in records for texts in record.examples.values()), default=0)


def examples_table(results: StudyResults) -> pd.DataFrame:
    """The table of prompt_examples.csv: KEY_COLUMNS, example_1 ... example_N, SPEECH_COLUMNS (empty where the
    prompt file does not say)."""
    records = results.prompt_examples
    count = _example_count(records)
    columns = KEY_COLUMNS + [f"example_{i}" for i in range(1, count + 1)] + SPEECH_COLUMNS
    rows = []
    for labels_from in sorted({record.labels_from for record in records}):
        group = sorted((record for record in records if record.labels_from == labels_from),
                       key=lambda record: record.prompts)
        classes = list(dict.fromkeys(label for record in group for label in record.examples))
        for label in classes:
            for record in group:
                if label not in record.examples:
                    continue
                texts = record.examples[label]
                rows.append([labels_from, record.domain, label, record.prompts, record.strategy, record.source,
                             *(texts[i] if i < len(texts) else None for i in range(count)),
                             _listed(record.applied, label), _listed(record.ignored, label)])
    return pd.DataFrame(rows, columns=columns)


def _listed(lists: dict[str, list[str]], label: str) -> str | None:
    """A class's descriptors as one cell: None where the prompt file does not say, 'none' for an empty list."""
    if label not in lists:
        return None
    return ", ".join(lists[label]) or "none"


def shown_table(table: pd.DataFrame) -> pd.DataFrame:
    """What report.md and index.html show: the table without domain and source (the intro names the sources), and
    without the speech columns where no prompt file records them."""
    shown = table.drop(columns=["domain", "source"])
    for column in SPEECH_COLUMNS:
        if shown[column].isna().all():
            shown = shown.drop(columns=[column])
    return shown.rename(columns=lambda column: column.replace("_", " "))


def intro(results: StudyResults) -> str:
    """The section's first paragraph: what the table is and where each strategy's prompts come from."""
    count = _example_count(results.prompt_examples)
    sources = "; ".join(dict.fromkeys(f"{record.prompts} ({record.strategy}): {record.source}"
                                      for record in results.prompt_examples))
    speech = any(record.applied for record in results.prompt_examples)
    return (f"What the prompt strategies compared: for every set of classes (`labels`: a dataset or label set) and "
            f"every prompt strategy a generation pool used, the first {count} distinct prompts of each class in clip "
            "order, read from the pool's prompts.json (every generator of that pool reads the same prompts). "
            f"Sources: {sources}." +
            (" Speech: `descriptors applied` are the speaking styles the voice realises, which the prompts draw "
             "from; `descriptors ignored` are those it cannot, which no prompt uses." if speech else ""))
