"""Generation: clip jobs planned from a prompt file, sharded, resumed, run in batches by a batch executor (local,
or one model per Ray actor), written atomically and appended to the manifest.

`run_generation` is the driver; `generate_batch` and `write_clip` are the per-batch work any executor calls.
"""

from synthaudio.generation.executors import EXECUTORS, Batch, BatchExecutor, LocalBatchExecutor, make_executor
from synthaudio.generation.jobs import ClipJob, batches_of, parse_shard, plan_jobs, shard_batches
from synthaudio.generation.run import RunSummary, run_generation
from synthaudio.generation.state import MANIFEST, ManifestAppender, recover_finished
from synthaudio.generation.work import RunSettings, Waveform, generate_batch, make_generator, postprocess, write_clip

__all__ = ["EXECUTORS", "MANIFEST", "Batch", "BatchExecutor", "ClipJob", "LocalBatchExecutor", "ManifestAppender",
           "RunSettings", "RunSummary", "Waveform", "batches_of", "generate_batch", "make_executor", "make_generator",
           "parse_shard", "plan_jobs", "postprocess", "recover_finished", "run_generation", "shard_batches",
           "write_clip"]
