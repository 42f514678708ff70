"""`make demo`: run the offline demo study (studies/demo.yaml) and say where its results are.

A thin wrapper: all the work is `synthaudio study studies/demo.yaml --out demo-out` (rerun it to reuse everything
already done); this script then points at the report and at the main zero-shot model, which
`synthaudio evaluate` can test on other recordings. See docs/demo.md.

    python scripts/demo.py [STUDY.yaml [OUT]]
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
STUDY = REPOSITORY / "studies" / "demo.yaml"
OUT = Path("demo-out")
# The main zero-shot model: telephone-band espeak-ng speech, label-guided prompts, first seed.
MAIN_MODEL = {"experiment": "zero_shot", "generator": "tts_phone", "prompts": "label", "snr_db": None}


def synthaudio_command() -> str:
    """The CLI installed next to this interpreter (the project's virtualenv), else the one on PATH."""
    return shutil.which("synthaudio", path=str(Path(sys.executable).parent)) or "synthaudio"


def main_model(results_json: Path) -> dict | None:
    rows = json.loads(results_json.read_text(encoding="utf-8"))["rows"]
    chosen = [row for row in rows if all(row.get(key) == value for key, value in MAIN_MODEL.items())]
    return min(chosen, key=lambda row: row["seed"]) if chosen else None


def main(study: Path = STUDY, out: Path = OUT) -> int:
    status = subprocess.call([synthaudio_command(), "study", str(study), "--out", str(out)])
    if status != 0:
        return status
    report = out / "report"
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
