"""What grading asks of a pool of trusted trainers, written once.

Two pools implement it: :class:`autograder.trusted.pool.WorkerPool` (warm trainer processes on this
machine) and :class:`autograder.trusted.dask_pool.DaskPool` (the same trainers on a Dask cluster).
The pipeline, ``course grade``, calibration and preview use only what is here, so grading is one
code path whichever pool trains.

The failure contract: a job whose model cannot be trained (over its time or memory limit, its
trainer died) is *that job's* result, a failed :class:`~autograder.trusted.kinds.TaskResult` with a
message for the student (:func:`failure`); the other jobs go on. Only a pool that cannot train at
all (no trainer starts, no worker can take the jobs) raises, from ``submit`` or from the future.
"""
from __future__ import annotations

import abc
import json
import threading
from concurrent.futures import Future, as_completed
from typing import Iterable, Iterator

from ..settings import DEFAULTS

DEFAULT_TIMEOUT = DEFAULTS.job_limit()  # seconds a job may run when its caller gives no limit


class TrainerPool(abc.ABC):
    """A context manager; ``start`` may be left to the first ``submit``."""

    @abc.abstractmethod
    def start(self) -> None:
        """Make the trainers ready now; raises when the pool cannot train at all."""

    @abc.abstractmethod
    def submit(self, job: dict, *, timeout: float = DEFAULT_TIMEOUT) -> Future:
        """Queue ``job`` (see :func:`autograder.trusted.trainer.job`); the future's result is the
        trainer's JSON answer, or :func:`failure` when the job ran over ``timeout`` seconds,
        over its memory limit, or lost its trainer."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the trainers; jobs still queued fail."""

    @property
    @abc.abstractmethod
    def devices(self) -> list[str]:
        """Where the trainers run, one line each."""

    @property
    def sizing(self) -> list[str]:
        """Why the pool has as many trainers as it has (one line per decision; none when the
        number was given)."""
        return []

    def run(self, jobs: Iterable[tuple[object, dict]], *,
            timeout: float = DEFAULT_TIMEOUT) -> Iterator[tuple[object, dict]]:
        """Yield ``(key, result)`` as jobs finish (all submitted at once)."""
        futures = {self.submit(job, timeout=timeout): key for key, job in jobs}
        for f in as_completed(futures):
            yield futures[f], f.result()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def failure(job: dict, message: str, device: str = "") -> dict:
    """The JSON result of ``job`` when the pool, not the kind, stopped it: ``message`` is what
    the student reads."""
    from .kinds import TaskResult

    return TaskResult.failure(job.get("task", "?"), "?", message, device).to_json()


def job_key(job: dict) -> str:
    """Equal for jobs that must give equal results: training is seeded and deterministic, and a
    job holds everything it depends on (spec, task, seed, exported configs)."""
    return json.dumps(job, sort_keys=True)


class SharedJobs(TrainerPool):
    """``pool``, training each distinct job once: a job equal to one already submitted (two
    submissions whose model code is the same, a mistake that leaves the model alone) gets the
    first one's result, timings included (what that result cost to train)."""

    def __init__(self, pool: TrainerPool):
        self.pool = pool
        self._lock = threading.Lock()
        self._first: dict[str, Future] = {}

    def start(self) -> None:
        self.pool.start()

    def close(self) -> None:
        self.pool.close()

    @property
    def devices(self) -> list[str]:
        return self.pool.devices

    @property
    def sizing(self) -> list[str]:
        return self.pool.sizing

    def submit(self, job: dict, *, timeout: float = DEFAULT_TIMEOUT) -> Future:
        key = job_key(job)
        with self._lock:
            first = self._first.get(key)
            if first is None:
                self._first[key] = self.pool.submit(job, timeout=timeout)
                return self._first[key]
        twin: Future = Future()
        first.add_done_callback(lambda done: _pass_on(done, twin))
        return twin


def _pass_on(done: Future, twin: Future) -> None:
    error = done.exception()
    if error is not None:
        twin.set_exception(error)
    else:
        twin.set_result(dict(done.result()))
