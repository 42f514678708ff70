"""`make demo`: run the offline demo study (studies/demo.yaml) and say where its results are.

A thin wrapper: all the work is `synthaudio study studies/demo.yaml --out demo-out` (rerun it to reuse everything
already done); this script then breaks the five-language digits down by speaker and by language (from each test
clip's prediction: report/digits5_by_speaker.csv, also printed), and points at the report and at the main
zero-shot model, which `synthaudio evaluate` can test on other recordings. See docs/demo.md.

    python scripts/demo.py [STUDY.yaml [OUT]]
"""

import csv
import json
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
STUDY = REPOSITORY / "studies" / "demo.yaml"
OUT = Path("demo-out")
# The main zero-shot model: telephone-band espeak-ng speech, label-guided prompts, first seed.
MAIN_MODEL = {"experiment": "zero_shot", "generator": "tts_phone", "prompts": "label", "snr_db": None}
# Experiments whose clean accuracy is broken down by speaker (manifest group) and language (manifest meta).
BREAKDOWN = ("digits5",)


def synthaudio_command() -> str:
    """The CLI installed next to this interpreter (the project's virtualenv), else the one on PATH."""
    return shutil.which("synthaudio", path=str(Path(sys.executable).parent)) or "synthaudio"


def main_model(results_json: Path) -> dict | None:
    rows = json.loads(results_json.read_text(encoding="utf-8"))["rows"]
    chosen = [row for row in rows if all(row.get(key) == value for key, value in MAIN_MODEL.items())]
    return min(chosen, key=lambda row: row["seed"]) if chosen else None


def breakdown(results_json: Path, experiment: str) -> list[dict]:
    """Clean accuracy of `experiment` per (generator, prompts) by speaker and by language: the mean over seeds of
    each seed's accuracy on that speaker's (language's) clips, with the per-seed values."""
    rows = [row for row in json.loads(results_json.read_text(encoding="utf-8"))["rows"]
            if row["experiment"] == experiment and row["snr_db"] is None]
    correct: dict[tuple, dict[int, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        evaluation = json.loads(Path(row["evaluation"]).read_text(encoding="utf-8"))
        manifest = Path(evaluation["test_manifest"])
        meta = {clip["id"]: clip.get("meta", {}) for clip in map(json.loads, manifest.read_text(
            encoding="utf-8").splitlines()) if clip}
        for prediction in evaluation["predictions"]:
            hit = prediction["predicted"] == prediction["label"]
            language = meta.get(prediction["id"], {}).get("language", "?")
            for level, name in (("speaker", prediction["group"] or prediction["id"]), ("language", language)):
                correct[(row["generator"], row["prompts"], level, name)][row["seed"]].append(hit)
    table = []
    for (generator, prompts, level, name), seeds in sorted(correct.items()):
        accuracies = [sum(hits) / len(hits) for _, hits in sorted(seeds.items())]
        table.append({"experiment": experiment, "generator": generator, "prompts": prompts, "level": level,
                      "name": name, "clips": len(next(iter(seeds.values()))),
                      "accuracy_mean": round(sum(accuracies) / len(accuracies), 4),
                      "accuracy_per_seed": " ".join(f"{value:.3f}" for value in accuracies)})
    return table


def write_breakdown(report: Path, experiment: str) -> None:
    table = breakdown(report / "results.json", experiment)
    if not table:
        return
    path = report / f"{experiment}_by_speaker.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    print(f"\n{experiment}: clean accuracy by speaker and by language (mean over seeds; per seed) -> {path}")
    for row in table:
        print(f"  {row['generator']}/{row['prompts']:<6} {row['level']:<8} {row['name']:<28} {row['clips']:>3} clips  "
              f"{row['accuracy_mean']:.3f}  ({row['accuracy_per_seed']})")


def main(study: Path = STUDY, out: Path = OUT) -> int:
    status = subprocess.call([synthaudio_command(), "study", str(study), "--out", str(out)])
    if status != 0:
        return status
    report = out / "report"
    for experiment in BREAKDOWN:
        write_breakdown(report, experiment)
    print(f"\nreport: {report / 'report.md'} (plots and CSV tables beside it)")
    row = main_model(report / "results.json")
    if row is not None:
        print(f"main zero-shot model ({row['generator']}/{row['prompts']}, {row['clips_per_class']} synthetic clips "
              f"per class, seed {row['seed']}): {row['run']}")
        print(f"  its accuracy on the {row['test_clips']} real digits: {row['accuracy']:.3f} (chance "
              f"{1 / len(row['labels']):.3f}; one clip = {1 / row['test_clips']:.3f})")
        print("test it on your own recordings (one folder per word: zero/ ... nine/):")
        print("  synthaudio prepare folder --root MY_DIGITS --all-split test --out my_digits.jsonl")
        print(f"  synthaudio evaluate --run {row['run']} --test my_digits.jsonl")
    return 0


if __name__ == "__main__":
    # optional: another study file and output folder (the tests run a reduced copy of the demo this way)
    sys.exit(main(*(Path(arg) for arg in sys.argv[1:3])))
