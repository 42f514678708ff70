"""`synthaudio study --executor ray`: the generation pools, training and evaluation runs of a study step run on
Ray workers.

Distributable stages (generation pools and their post-processing, training and evaluation runs) go to a pool of
Ray worker actors (synthaudio.ray_pool, the same pool `generate --executor ray` runs on), one stage at a time each;
the other stages of the step (preparation, prompts, subsets, filters) run in the driver meanwhile, as in a local
study. A run writes into its stage folder in the shared output folder and marks itself done there, so
a finished run is kept whatever happens to the others, and a rerun of the study skips it. A run is the same code
on the same files as in a local study, so its results are the same (given the same torch threads and device).

Why a pool of actors and not Ray tasks: Ray retries a task killed by its memory monitor without limit, while the
actor pool (synthaudio.ray_pool) bounds every retry and ends the study with one message when a run keeps dying.
"""

import os
from collections.abc import Iterable, Iterator

from synthaudio.ray_pool import ActorPool, Work, actor_layout, check_pool_options, default_gpus, default_size
from synthaudio.ray_session import RaySession
from synthaudio.study.plan import StageJob
from synthaudio.study.stages import run_job

ADVICE = ("a stage that keeps dying usually runs out of memory: lower the batch_size of its training or generator "
          "section in the study file, use fewer workers per node, or nodes with more memory")
GPU_ADVICE = ("lower the batch_size of its training or generator section in the study file, or give each worker "
              "more of a GPU")
PLACEMENT = "use fewer workers or GPUs per run, or add nodes"


class StudyWorker:
    """Lives in a Ray worker process and runs one study stage per call, with a fixed number of torch threads."""

    def __init__(self, threads: int):
        import torch

        torch.set_num_threads(threads)

    def ready(self) -> str:
        import ray

        return f"pid {os.getpid()} on {ray.util.get_node_ip_address()}"

    def run(self, job: StageJob) -> dict:
        return run_job(job)


class RayStageExecutor:
    """Runs distributable stages on Ray worker actors (started when the first such stage comes), others here.

    Args:
        address: None (RAY_ADDRESS, else a private local Ray), "auto", or HOST:PORT / ray://HOST:PORT.
        workers: actors, i.e. stages at a time; default: as many as the cluster's GPUs (or CPUs) hold.
        gpus_per_worker: default 1 where the cluster has GPUs, else 0 (then its stages cannot see any GPU).
        cpus_per_worker: CPUs (and torch threads) per worker.
        max_attempts: how often a stage may kill its worker before the study ends.
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, gpus_per_worker: float | None = None,
                 cpus_per_worker: int = 1, max_attempts: int = 3, start_timeout_s: float = 600.0):
        check_pool_options(workers, gpus_per_worker, cpus_per_worker, max_attempts, "--gpus-per-worker",
                           "--cpus-per-worker")
        self.address, self.workers, self.gpus_per_worker = address, workers, gpus_per_worker
        self.cpus_per_worker, self.max_attempts, self.start_timeout_s = cpus_per_worker, max_attempts, start_timeout_s
        self.session: RaySession | None = None
        self.pool: ActorPool | None = None

    def run(self, jobs: Iterable[StageJob], distributable: frozenset[str] = frozenset()
            ) -> Iterator[tuple[StageJob, dict]]:
        jobs = list(jobs)
        remote = [Work(job, f"{job.kind} stage '{job.title}' ({job.folder})") for job in jobs
                  if job.key in distributable]
        if remote:
            self._started_pool().submit(remote)  # they run while the driver does the other stages
        for job in jobs:
            if job.key not in distributable:
                yield job, run_job(job)
        if remote:
            for work, record in self.pool.results():
                yield work.payload, record

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None
        if self.session is not None:
            self.session.close()
            self.session = None

    def _started_pool(self) -> ActorPool:
        if self.pool is not None:
            return self.pool
        self.session = RaySession(self.address, "synthaudio study --executor ray").open()
        ray, resources = self.session.ray, self.session.resources()
        gpus = default_gpus(resources, self.gpus_per_worker)
        size = self.workers or default_size(resources, self.cpus_per_worker, gpus)
        options = {"num_cpus": self.cpus_per_worker, "num_gpus": gpus, "max_restarts": 0, "max_task_retries": 0}
        if not gpus:  # Ray leaves a GPU-less worker every GPU of its node; a run's device "auto" would take one
            options["runtime_env"] = {"env_vars": {"CUDA_VISIBLE_DEVICES": ""}}

        def layout() -> str:
            return actor_layout(self.session.resources(), self.cpus_per_worker, gpus, PLACEMENT)

        self.pool = ActorPool(ray, ray.remote(StudyWorker).options(**options), (self.cpus_per_worker,), size,
                              starting="starting", advice=ADVICE, gpu_advice=GPU_ADVICE, layout=layout,
                              max_attempts=self.max_attempts, start_timeout_s=self.start_timeout_s)
        self.pool.start()
        return self.pool
