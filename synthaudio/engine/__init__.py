"""The generation engine: plan, shard, resume, batch, write atomically, append the manifest.

`run_generation` is the driver; `generate_batch` and `write_clip` are the per-batch work any executor calls.
"""

from synthaudio.engine.executors import EXECUTORS, Batch, LocalExecutor, make_executor
from synthaudio.engine.plan import Job, batches_of, parse_shard, plan_jobs, shard_batches
from synthaudio.engine.run import RunSummary, run_generation
from synthaudio.engine.state import MANIFEST, ManifestAppender, recover_finished
from synthaudio.engine.work import RunSettings, Waveform, generate_batch, make_generator, postprocess, write_clip

__all__ = ["EXECUTORS", "MANIFEST", "Batch", "Job", "LocalExecutor", "ManifestAppender", "RunSettings", "RunSummary",
           "Waveform", "batches_of", "generate_batch", "make_executor", "make_generator", "parse_shard", "plan_jobs",
           "postprocess", "recover_finished", "run_generation", "shard_batches", "write_clip"]
