"""How fast `synthaudio prompts` writes ESC-50's prompts: 50 labels x 30 clips (the issue's target: under 2 s).

There is no older implementation to race, so the baseline is the 2 s budget itself. Measured: the whole command
as a user runs it (a fresh process: interpreter start, imports, building, atomic write) for the label strategy,
and, in-process, the label and llm strategies (llm: the study's published ESC-50 descriptor lists where
../shared/reference has them, else made-up lists of the same size; 3 seeded draws per clip).
Last line: `ratio: X.XX` = 2 s / command wall time (higher is better; above 1 meets the target).
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from synthaudio.prompts.build import build_prompt_set  # noqa: E402
from synthaudio.prompts.descriptor_file import descriptors_for_labels  # noqa: E402
from synthaudio.prompts.promptfile import write_prompts  # noqa: E402

BUDGET_S = 2.0
CLIPS = 30
ESC50 = ("dog rooster pig cow frog cat hen insects sheep crow rain sea_waves crackling_fire crickets chirping_birds "
         "water_drops wind pouring_water toilet_flush thunderstorm crying_baby sneezing clapping breathing coughing "
         "footsteps laughing brushing_teeth snoring drinking_sipping door_wood_knock mouse_click keyboard_typing "
         "door_wood_creaks can_opening washing_machine vacuum_cleaner clock_alarm clock_tick glass_breaking "
         "helicopter chainsaw siren car_horn engine train church_bells airplane fireworks hand_saw").split()
STUDY_LISTS = ROOT.parent / "shared" / "reference" / "paper-descriptors" / "esc50.json"


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    if STUDY_LISTS.is_file():
        descriptors, source = descriptors_for_labels(STUDY_LISTS, ESC50), "the study's lists"
    else:
        descriptors, source = {label: [f"word{i}" for i in range(10)] for label in ESC50}, "made-up lists"
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "prompts.json"
        label_s = best_of(5, lambda: write_prompts(out, build_prompt_set(ESC50, "sound", "label", CLIPS, 0)))
        llm_s = best_of(5, lambda: write_prompts(out, build_prompt_set(ESC50, "sound", "llm", CLIPS, 0,
                                                                       descriptors=descriptors)))
        command = [sys.executable, "-c", "from synthaudio.cli import main; main()", "prompts", "--labels",
                   ",".join(ESC50), "--domain", "sound", "--clips-per-class", str(CLIPS), "--out", str(out)]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        command_s = time.perf_counter() - start
        written = sum(len(prompts) for prompts in json.loads(out.read_text())["prompts"].values())
    print(f"ESC-50: {len(ESC50)} labels x {CLIPS} clips = {written} prompts written by the command")
    print(f"in-process build + write: label {label_s * 1000:.1f} ms; llm ({source}) {llm_s * 1000:.1f} ms")
    print(f"`synthaudio prompts` command, fresh process: {command_s:.2f} s (budget {BUDGET_S:g} s)")
    print(f"ratio: {BUDGET_S / command_s:.2f}")


if __name__ == "__main__":
    main()
