"""The domain-gap stage: per class, how far a zero-shot run's synthetic training clips lie from the class's real
clips (every split, up to REAL_PER_CLASS), in the embeddings of the run's own classifier (always) and of the
pretrained encoders in the Hugging Face cache (CLAP, the Whisper encoder; offline they are not, and the report says
so instead of failing).

Planned by the zero-shot experiment once per (generator, prompt strategy, clips per class), on the first seed's
run. The computation lives below: embeddings in synthaudio.recognition.embeddings (cached by audio content),
distances in synthaudio.report.domain_gap. Output: domain_gap.json (rows, notes), read into the report.
"""

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from synthaudio.fsutil import write_text_atomic
from synthaudio.manifest import read_manifest
from synthaudio.recognition.embeddings import (
    CLAP_CHECKPOINT,
    WHISPER_CHECKPOINT,
    EncoderUnavailable,
    clap_embeddings,
    classifier_embeddings,
    resolve_checkpoint,
    whisper_embeddings,
)
from synthaudio.report.domain_gap import class_gaps
from synthaudio.study.plan import Data, Stage, StageRef
from synthaudio.study.recognition import RUN_FOLDER
from synthaudio.study.stages import StageRun, StageSpec

OUTPUT = "domain_gap.json"
REAL_PER_CLASS = 100  # enough for a stable distance; the embedding cost stays small on big datasets
# pretrained encoders measured where their checkpoint is on this machine: name -> checkpoint (id or folder)
PRETRAINED_ENCODERS = {"clap": CLAP_CHECKPOINT, "whisper": WHISPER_CHECKPOINT}
EMBEDDERS = {"clap": clap_embeddings, "whisper": whisper_embeddings}


@cache
def checkpoint_available(checkpoint: str) -> bool:
    try:
        resolve_checkpoint(checkpoint)
    except EncoderUnavailable:
        return False
    return True


@dataclass(frozen=True)
class DomainGapStage(StageSpec):
    """Per-class Fréchet distance, KAD and detectability of synthetic vs real clips, per embedding."""

    kind = "domain_gap"
    rank = 8
    training: StageRef  # the zero-shot run whose penultimate layer embeds
    synthetic: Data  # its synthetic training manifest
    real: Data  # the prepared real dataset
    described: dict  # experiment, dataset, generator, prompts, clips_per_class: the report's columns
    cache_dir: Path
    seed: int
    # name -> checkpoint of the pretrained encoders to try; available: those found when planned (so the stage
    # runs again once one is downloaded)
    encoders: dict = field(default_factory=dict)
    available: tuple = ()

    def identity(self) -> dict:
        return {"training": self.training.key, "synthetic": self.synthetic.identity, "real": self.real.identity,
                "described": self.described, "seed": self.seed, "encoders": self.encoders,
                "available": list(self.available)}

    def run(self, where: StageRun) -> dict:
        # every real clip of a class, whatever its split: the zero-shot model saw none of them, and a class's test
        # clips alone are often too few to measure a distance with
        real_by_label: dict[str, list] = defaultdict(list)
        for clip in sorted(read_manifest(self.real.path), key=lambda clip: clip.id):
            real_by_label[clip.label].append(clip)
        synthetic = read_manifest(self.synthetic.path)
        shared = set(real_by_label) & {clip.label for clip in synthetic}
        real = [clip for label in sorted(shared) for clip in real_by_label[label][:REAL_PER_CLASS]]
        synthetic = [clip for clip in synthetic if clip.label in shared]
        run_folder = Path(self.training.folder) / RUN_FOLDER
        rows, notes = [], []
        embedded = {"classifier": lambda clips: classifier_embeddings(run_folder, clips, self.cache_dir)}
        for name, checkpoint in self.encoders.items():
            if name in self.available:
                embedded[name] = (lambda clips, name=name, checkpoint=checkpoint:
                                  EMBEDDERS[name](clips, checkpoint, self.cache_dir))
            else:
                notes.append(f"{name} embeddings ({checkpoint}): not in the Hugging Face cache on this machine, so "
                             f"the domain gap is measured with the classifier's own embeddings only")
        for name, embed in embedded.items():
            try:
                real_embeddings, synthetic_embeddings = embed(real), embed(synthetic)
            except EncoderUnavailable as error:
                notes.append(f"{name} embeddings: {error}")
                continue
            for row in class_gaps(real_embeddings, [c.label for c in real], synthetic_embeddings,
                                  [c.label for c in synthetic], self.seed):
                rows.append({**self.described, "encoder": name, **row})
        write_text_atomic(where.folder / OUTPUT, json.dumps({"rows": rows, "notes": notes}, indent=1,
                                                            allow_nan=True) + "\n")
        return {"rows": len(rows), "encoders": sorted({row["encoder"] for row in rows}), "notes": notes}


def plan_domain_gap(ctx, training: Stage, synthetic: Data, described: dict) -> Stage:
    """Add the domain-gap stage of one zero-shot condition (ctx: synthaudio.study.context.StudyContext)."""
    dataset = described["dataset"]
    real = ctx.real(dataset)
    encoders = dict(PRETRAINED_ENCODERS)
    available = tuple(sorted(name for name, checkpoint in encoders.items() if checkpoint_available(checkpoint)))
    spec = DomainGapStage(StageRef.of(training), synthetic, real, described, ctx.cache_dir,
                          ctx.config.subset_seed, encoders, available)
    return ctx.planner.add(spec, (training.key, *synthetic.deps, *real.deps),
                           f"{described['experiment']}: domain gap of {dataset} {described['generator']}/"
                           f"{described['prompts']} {described['clips_per_class']} clips/class")


def read_domain_gaps(stages) -> tuple[list[dict], list[str]]:
    """(rows, notes) of every finished domain-gap stage among `stages`."""
    rows, notes = [], []
    for stage in stages:
        path = stage.folder / OUTPUT
        if isinstance(stage.spec, DomainGapStage) and stage.done() and path.is_file():
            record = json.loads(path.read_text(encoding="utf-8"))
            # results.json is strict JSON: a measure that needs more clips than a class has is None there
            rows += [{key: (None if isinstance(value, float) and math.isnan(value) else value)
                      for key, value in row.items()} for row in record["rows"]]
            notes += [note for note in record["notes"] if note not in notes]
    return rows, notes
