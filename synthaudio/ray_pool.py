"""A pool of Ray actors that each hold something expensive (a model) and run one piece of work at a time, with
bounded recovery: the generation and study executors both run on it.

Ray itself never restarts or retries anything here (actors with max_restarts=0 and max_task_retries=0; actors,
not tasks, because Ray retries a task killed by its memory monitor without limit). The pool replaces a dead actor
itself and counts: a piece of work whose actor died `max_attempts` times, or an actor that died `max_attempts`
times while starting, ends the run with one message naming it, instead of restarting forever. The other actors
finish what they are running (their results still come back), nothing new starts, then the error is raised.
"""

import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from synthaudio.errors import ConfigError, SynthaudioError
from synthaudio.ray_session import death_reason, first_line


@dataclass
class Work:
    """A piece of work: the argument of the actors' `run` method, and how messages name it."""

    payload: Any
    description: str  # e.g. "batch 3 of 40 (clips dog-00016..dog-00023)"
    deaths: int = 0  # of the actors that were running it


@dataclass
class _Slot:
    number: int
    actor: Any = None
    where: str = "not started"  # "pid P on IP" once started
    start_deaths: int = 0  # deaths while starting since the last successful start


@dataclass
class _Call:
    slot: _Slot
    work: Work | None = None  # None: the actor's start (its `ready` call)
    deadline: float | None = None


class ActorPool:
    """`size` actors of `actor_class` (with `ready() -> str` saying where it runs, and `run(payload)`).

    Args:
        starting: what an actor does while it starts, for messages ("loading audioldm2 (tiny-random)").
        advice: what to try when actors keep dying.
        gpu_advice: what to try when a piece of work runs out of GPU memory (it would again: no retry).
        layout: describes what each actor asks and what the cluster has (for placement failures).
    """

    def __init__(self, ray, actor_class, init_args: tuple, size: int, starting: str, advice: str, gpu_advice: str,
                 layout, max_attempts: int = 3, start_timeout_s: float = 600.0):
        self.ray, self.actor_class, self.init_args, self.size = ray, actor_class, init_args, size
        self.starting, self.advice, self.gpu_advice, self.layout = starting, advice, gpu_advice, layout
        self.max_attempts, self.start_timeout_s = max_attempts, start_timeout_s
        self.slots = [_Slot(number) for number in range(1, size + 1)]
        self.calls: dict[Any, _Call] = {}
        self.idle: deque[_Slot] = deque()
        self.queue: deque[Work] = deque()
        self.failure: BaseException | None = None
        self.deaths = 0

    def start(self) -> None:
        """Start every actor and wait until each is ready (its model loaded), or raise why not."""
        for slot in self.slots:
            self._start(slot)
        while self.failure is None and self.calls:
            self._handle(*self._next())
        if self.failure is not None:
            raise self.failure

    def submit(self, work: Iterable[Work]) -> None:
        """Queue work and hand it to idle actors at once."""
        self.queue.extend(work)
        self._dispatch()

    def results(self) -> Iterator[tuple[Work, Any]]:
        """(work, result) of every submitted piece, in completion order; raises the first failure at the end."""
        while True:
            self._dispatch()
            if self.failure is not None:
                self._drop_starting()
            if not self.calls:
                break
            finished = self._handle(*self._next())
            if finished is not None:
                yield finished
        if self.failure is not None:
            raise self.failure

    def close(self) -> None:
        for slot in self.slots:
            self._kill(slot)
        self.calls = {}

    # -- actors

    def _dispatch(self) -> None:
        while self.failure is None and self.queue and self.idle:
            slot, work = self.idle.popleft(), self.queue.popleft()
            self.calls[slot.actor.run.remote(work.payload)] = _Call(slot, work)

    def _start(self, slot: _Slot) -> None:
        slot.actor = self.actor_class.remote(*self.init_args)
        self.calls[slot.actor.ready.remote()] = _Call(slot, deadline=time.monotonic() + self.start_timeout_s)

    def _kill(self, slot: _Slot) -> None:
        if slot.actor is not None:
            self.ray.kill(slot.actor, no_restart=True)
            slot.actor = None

    def _drop_starting(self) -> None:
        for ref, call in list(self.calls.items()):
            if call.work is None:
                del self.calls[ref]
                self._kill(call.slot)

    def _next(self) -> tuple[_Call, Any, BaseException | None]:
        """The next call to end: (call, result, None) or (call, None, error); a start past its deadline fails."""
        deadlines = [call.deadline for call in self.calls.values() if call.deadline is not None]
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        done, _ = self.ray.wait(list(self.calls), num_returns=1, timeout=timeout)
        if not done:
            late = min((ref for ref, call in self.calls.items() if call.deadline is not None),
                       key=lambda ref: self.calls[ref].deadline)
            error = self._start_timeout_error()  # counted while the late actor is still among the waiting
            return self.calls.pop(late), None, error
        call = self.calls.pop(done[0])
        try:
            return call, self.ray.get(done[0]), None
        except Exception as error:  # sorted out by _handle: a dead actor, a bad input, or a bug
            return call, None, error

    def _handle(self, call: _Call, result: Any, error: BaseException | None) -> tuple[Work, Any] | None:
        """Account for one ended call; (work, result) when a piece of work succeeded."""
        slot = call.slot
        if error is None:
            if call.work is None:
                slot.where, slot.start_deaths = result, 0
            self.idle.append(slot)
            return None if call.work is None else (call.work, result)
        if not self._is_death(error):  # alive but unable to go on: a bad input, a start timeout, a bug
            self._fail(self._task_error(error, call))
            self._kill(slot)
            return None
        if call.work is None:
            slot.start_deaths += 1
            if slot.start_deaths >= self.max_attempts:
                self._fail(SynthaudioError(f"ray worker {slot.number} died {slot.start_deaths} times while "
                                           f"{self.starting} (last: {death_reason(error)}); {self.advice}"))
        else:
            call.work.deaths += 1
            if call.work.deaths >= self.max_attempts:
                self._fail(SynthaudioError(
                    f"ray workers died {call.work.deaths} times running {call.work.description} "
                    f"(last: worker {slot.number}, {slot.where}, {death_reason(error)}); {self.advice}; finished "
                    f"work is kept: rerun the same command to resume"))
            else:
                self.queue.appendleft(call.work)  # first in line again: it is the oldest
        self.deaths += 1
        self._kill(slot)
        if self.failure is None:
            self._start(slot)
        return None

    def _fail(self, error: BaseException) -> None:
        if self.failure is None:  # the first failure is the one to report
            self.failure = error

    # -- errors a user can act on

    def _is_death(self, error: BaseException) -> bool:
        exceptions = self.ray.exceptions
        return isinstance(error, exceptions.RayActorError | exceptions.WorkerCrashedError | exceptions.NodeDiedError
                          | exceptions.OutOfMemoryError) and not isinstance(error, exceptions.ActorUnschedulableError)

    def _task_error(self, error: BaseException, call: _Call) -> BaseException:
        cause = getattr(error, "cause", None)
        if isinstance(cause, SynthaudioError):  # the worker's own error, not Ray's wrapper around it
            return cause
        if isinstance(error, SynthaudioError):
            return error
        doing = call.work.description if call.work is not None else self.starting
        if type(cause).__name__ == "OutOfMemoryError":  # torch's, on the GPU: the same work would fail again
            return SynthaudioError(f"ray worker {call.slot.number} ({call.slot.where}) ran out of GPU memory "
                                   f"{'running ' if call.work is not None else 'while '}{doing} "
                                   f"({first_line(cause)}); {self.gpu_advice}")
        if isinstance(error, self.ray.exceptions.ActorUnschedulableError):
            return SynthaudioError(f"ray worker {call.slot.number} cannot be placed ({first_line(error)}); "
                                   f"{self.layout()}")
        return error  # a bug: keep Ray's report with the worker's traceback

    def _start_timeout_error(self) -> SynthaudioError:
        waiting = sum(call.work is None for call in self.calls.values())
        return SynthaudioError(f"ray: {waiting} of {self.size} workers did not start within "
                               f"{self.start_timeout_s:g} s; {self.layout()}")


def check_pool_options(workers: int | None, gpus: float | None, cpus: int, max_attempts: int, gpus_option: str,
                       cpus_option: str) -> None:
    """One error naming the option for an impossible pool size or actor shape (before Ray starts)."""
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers {workers}: must be at least 1")
    if gpus is not None and gpus < 0:
        raise ConfigError(f"{gpus_option} {gpus:g}: must be 0 (CPU) or more")
    if cpus < 1 or max_attempts < 1:
        raise ConfigError(f"{cpus_option} {cpus} and max_attempts {max_attempts} must be at least 1")


def actor_layout(resources: dict[str, float], cpus: float, gpus: float, change: str) -> str:
    """What each actor asks and what the cluster has, with what to change."""
    return (f"each asks {cpus:g} CPU and {gpus:g} GPU, the cluster has {resources.get('CPU', 0):g} CPUs and "
            f"{resources.get('GPU', 0):g} GPUs: {change}")


def default_gpus(resources: dict[str, float], gpus: float | None) -> float:
    """One GPU per actor where the cluster has GPUs, else none."""
    return float(gpus) if gpus is not None else min(resources.get("GPU", 0.0), 1.0)


def default_size(resources: dict[str, float], cpus: int, gpus: float) -> int:
    """As many actors as the cluster's GPUs (or, for CPU actors, its CPUs) hold; at least one."""
    if gpus:
        return max(1, int(resources.get("GPU", 0.0) // gpus))
    return max(1, int(resources.get("CPU", 1.0) // cpus))
