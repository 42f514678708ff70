"""What runs a stage: its kind's runner (imported when needed), between the start record and the done marker.

Runners are plain functions of a `Job` that write into the job's folder and return a small JSON record, which
becomes the stage's done.json. Everything a runner needs is in the job, so any executor can call `run_job`.
"""

import importlib
import time
from collections.abc import Callable

from synthaudio.study.cache import begin_stage, discard_damaged, mark_done
from synthaudio.study.plan import Job

RUNNERS: dict[str, str] = {
    "prepare": "synthaudio.study.real:run_prepare",
    "real_subset": "synthaudio.study.real:run_real_subset",
    "prompts": "synthaudio.study.synthetic:run_prompts",
    "pool": "synthaudio.study.synthetic:run_pool",
    "derived_pool": "synthaudio.study.synthetic:run_derived_pool",
    "subset": "synthaudio.study.synthetic:run_subset",
    "train": "synthaudio.study.recognition:run_train",
    "evaluate": "synthaudio.study.recognition:run_evaluate",
    "class_filter": "synthaudio.study.filtering:run_class_filter",
    "clip_filter": "synthaudio.study.filtering:run_clip_filter",
}


def runner_of(kind: str) -> Callable[[Job], dict]:
    module, function = RUNNERS[kind].split(":")
    return getattr(importlib.import_module(module), function)


def run_job(job: Job) -> dict:
    """Run one stage and mark it done; returns its done record. A failure leaves no done marker, so a rerun
    redoes (or, for generation, resumes) the stage."""
    started = time.monotonic()
    discard_damaged(job.folder)
    begin_stage(job.folder, job.kind, job.key, job.inputs)
    record = runner_of(job.kind)(job)
    record = {"kind": job.kind, "key": job.key, "title": job.title, "size": job.size,
              "seconds": round(time.monotonic() - started, 3), **record}
    mark_done(job.folder, record)
    return record
