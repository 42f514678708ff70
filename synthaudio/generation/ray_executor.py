"""`--executor ray`: one model per Ray worker actor; the driver keeps planning, resume and the manifest.

Why actors rather than Ray Data `map_batches`: a batch of the plan is the unit that fixes each clip's audio (the
same batch neighbours as in a local run), and the driver appends a clip's row only once its WAV is on disk. Here
each plan batch goes whole to one actor, which generates it, writes its WAVs atomically into the shared output
folder and returns that batch's rows; seeds, batches, files and rows are those of a local run, in completion order.
Ray Data would cut the rows into blocks of its own and restart a crashing actor forever by default, without saying
which batch killed it. The actor pool (synthaudio.ray_pool) bounds restarts instead: a worker that dies loses only
the batch it was running, which a fresh worker runs again, or the rerun after a failed run (it skips every clip
with a manifest row).
"""

import dataclasses
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from synthaudio.errors import ConfigError
from synthaudio.fsutil import remove_stale_temporaries
from synthaudio.generation.executors import Batch, run_batch
from synthaudio.generation.work import RunSettings, make_generator
from synthaudio.manifest import Clip
from synthaudio.ray_pool import ActorPool, Work, actor_layout, check_pool_options, default_gpus, default_size
from synthaudio.ray_session import RaySession

ADVICE = ("a worker that keeps dying usually runs out of memory: try a smaller --batch-size, fewer --workers per "
          "node, or nodes with more memory")
GPU_ADVICE = "try a smaller --batch-size, --dtype float16, or a larger --gpus-per-worker"
PLACEMENT = "lower --workers or --gpus-per-worker, or add nodes"


class GenerationWorker:
    """Lives in a Ray worker process: builds the generator once, then generates and writes one batch per call."""

    def __init__(self, settings: RunSettings, out_dir: str, threads: int):
        import ray
        import torch

        torch.set_num_threads(threads)
        self.out_dir = Path(out_dir)
        self.error: Exception | None = None
        # Ray shows a GPU worker only its own GPUs, so "cuda" is its GPU; a worker without GPUs still sees every GPU
        # of its node (Ray leaves CUDA_VISIBLE_DEVICES alone then), so it must be told to use the CPU.
        device = settings.device or ("cuda" if ray.get_gpu_ids() else "cpu")
        self.settings = dataclasses.replace(settings, device=device)
        try:
            self.generator = make_generator(self.settings)
        except Exception as error:  # handed back by ready()/run() as what it is, not as a dead actor
            self.error = error

    def ready(self) -> str:
        import ray

        if self.error is not None:
            raise self.error
        return f"pid {os.getpid()} on {ray.util.get_node_ip_address()}"

    def run(self, batch: Batch) -> list[Clip]:
        if self.error is not None:
            raise self.error
        return run_batch(self.generator, batch, self.settings, self.out_dir)


class RayBatchExecutor:
    """Runs the batches on `workers` Ray actors (one model each), replacing workers that die.

    Args:
        address: None (RAY_ADDRESS, else a private local Ray), "auto", or HOST:PORT / ray://HOST:PORT.
        workers: actors; default: as many as the cluster's GPUs (or CPUs, without GPUs) hold.
        gpus_per_worker: default 1 where the cluster has GPUs, else 0; fractions share a GPU between models.
        cpus_per_worker: CPUs (and torch threads) per actor.
        max_attempts: how often a batch may kill its worker (or a worker die loading its model) before the run ends.
        start_timeout_s: how long a worker may wait for a place in the cluster and load its model.
    """

    def __init__(self, settings: RunSettings, out_dir: Path, address: str | None = None, workers: int | None = None,
                 gpus_per_worker: float | None = None, cpus_per_worker: int = 1, max_attempts: int = 3,
                 start_timeout_s: float = 600.0):
        _check_options(settings, workers, gpus_per_worker, cpus_per_worker, max_attempts)
        self.settings, self.out_dir = settings, Path(out_dir).resolve()
        self.session = RaySession(address).open()
        self.pool: ActorPool | None = None
        try:
            ray, resources = self.session.ray, self.session.resources()
            gpus = default_gpus(resources, gpus_per_worker)
            size = workers or default_size(resources, cpus_per_worker, gpus)

            def layout() -> str:
                return actor_layout(self.session.resources(), cpus_per_worker, gpus, PLACEMENT)

            if self.session.local and (size * gpus > resources.get("GPU", 0) or size * cpus_per_worker
                                       > resources.get("CPU", 0)):  # a private instance never grows
                raise ConfigError(f"--workers {size} do not fit this machine: {layout()}")
            actor_class = ray.remote(GenerationWorker).options(num_cpus=cpus_per_worker, num_gpus=gpus,
                                                               max_restarts=0, max_task_retries=0)
            threads = settings.threads or cpus_per_worker
            self.pool = ActorPool(ray, actor_class, (settings, str(self.out_dir), threads), size,
                                  starting=f"loading {settings.generator} ({settings.checkpoint})", advice=ADVICE,
                                  gpu_advice=GPU_ADVICE, layout=layout, max_attempts=max_attempts,
                                  start_timeout_s=start_timeout_s)
            self.pool.start()
        except BaseException:
            self.close()
            raise

    def run(self, batches: Iterable[Batch]) -> Iterator[list[Clip]]:
        batches = list(batches)
        self.pool.submit(Work(batch, f"batch {number} of {len(batches)} (clips {batch.jobs[0].id}.."
                                     f"{batch.jobs[-1].id}, --batch-size {self.settings.batch_size})")
                         for number, batch in enumerate(batches, start=1))
        for _, clips in self.pool.results():
            yield clips

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
        self.session.close()
        if self.pool is not None and self.pool.deaths:  # a killed worker can leave a temporary WAV; none is writing
            remove_stale_temporaries(self.out_dir)


def _check_options(settings: RunSettings, workers: int | None, gpus_per_worker: float | None, cpus_per_worker: int,
                   max_attempts: int) -> None:
    check_pool_options(workers, gpus_per_worker, cpus_per_worker, max_attempts, "--gpus-per-worker",
                       "--cpus-per-worker")
    device = settings.device or ""
    if device.startswith("cuda:"):
        raise ConfigError(f"--device {device}: with --executor ray each worker sees only its own GPUs; use --device "
                          f"cuda (or leave it out) and choose them with --gpus-per-worker")
    if device.startswith("cuda") and gpus_per_worker == 0:
        raise ConfigError("--device cuda with --gpus-per-worker 0: give each worker a GPU (--gpus-per-worker 1)")
