"""The trusted trainers on a Dask cluster: ``course grade --scheduler tcp://host:8786`` (or
``DASK_SCHEDULER_ADDRESS`` set).

:class:`DaskPool` is a :class:`~autograder.trusted.trainer_pool.TrainerPool`, as the local
:class:`~autograder.trusted.pool.WorkerPool` is, so grading is the same code with either pool, and
gives the same gradebook (tested against a loopback cluster in ``tests/test_dask.py``).

Where each stage runs, and why:

- **Sandboxes stay on the grading machine**, the one that holds the submissions. A sandbox reads
  a student's notebook and runs untrusted code; its isolation (namespaces, read-only file
  systems, hidden course directory, limits) is set up and checked there, next to the files it
  hides. Shipping notebooks to workers would spread student files and untrusted code over every
  GPU machine, and Dask workers run tasks as threads of a long-lived process, with no isolation
  of their own. What leaves the grading machine is the trusted job only: plain JSON (the spec,
  exported Keras *configs* and returned values, a seed), small and safe to ship.
- **Training runs on the workers, never inside the Dask worker process.** Each Dask worker
  thread hands its jobs to a warm ``python -m autograder.trusted.worker`` process of its own
  (the same trainer processes as local grading, one per worker thread, started by the first job
  and reused across submissions). So Keras, its global state and its seeds never live in the Dask
  worker or its threads; every job reseeds everything (a warm trainer after other jobs trains
  bit-identically to a fresh one: ``tests/test_trainer.py``); a job that overruns its time limit
  or kills its trainer (out of memory, a crash) is that job's failure result, and the trainer is
  replaced. Keras is never imported in the grading process either.
- **GPUs are Dask resources.** Start one worker per GPU with ``--resources GPU=1`` (see the
  README, "Grading on a Dask cluster"). When the cluster advertises a ``GPU`` resource as grading
  starts (or ``gpu=True`` / ``--gpu``), every job asks for ``{"GPU": 1}``, so jobs only run on
  GPU workers, one at a time per GPU unit. Dask would hold a job that no worker can take
  forever; here it fails fast with a clear error instead: checked before anything is submitted
  (:class:`NoWorkerError` from ``start``), and again while jobs wait (if no worker can take them
  for ``no_worker_grace`` seconds, they fail with the same error).
- The backend is the workers' (``KERAS_BACKEND`` where each worker starts): the GPU machines
  carry JAX and PyTorch only, and each result records the device and backend it trained on.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field

from .pool import WorkerPool, WorkerStartError, gpu_ids
from ..settings import DEFAULTS, CourseGrading
from .trainer_pool import DEFAULT_TIMEOUT, TrainerPool, failure

GPU = "GPU"
WORKER_HINT = ("start a worker per GPU on each GPU machine: CUDA_VISIBLE_DEVICES=0 dask worker "
               "{address} --nthreads 1 --resources GPU=1 (or, without GPUs: dask worker "
               "{address} --nthreads 1)")


SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"  # Dask's own variable for where the scheduler is


def scheduler_address(given: str | None = None) -> str | None:
    """The scheduler to train on: ``given`` (``--scheduler``), else ``$DASK_SCHEDULER_ADDRESS``,
    else None (train locally)."""
    return given or os.environ.get(SCHEDULER_ENV) or None


class DaskPoolError(RuntimeError):
    """The cluster cannot grade (unreachable, no worker, a worker's installation is broken)."""


class NoWorkerError(DaskPoolError):
    """No worker of the cluster can take the jobs."""


# -- on the Dask workers ----------------------------------------------------------------------
_TRAINERS: dict[str, WorkerPool] = {}  # per grading run (token): this worker's warm trainers
_TRAINERS_LOCK = threading.Lock()


def _trainer_envs() -> list[dict]:
    """One environment per trainer: the worker's own GPUs one by one (as the worker sees them
    through ``CUDA_VISIBLE_DEVICES``), else the worker's environment as it is."""
    return [{"CUDA_VISIBLE_DEVICES": i} for i in gpu_ids()] or [{}]


def _worker_threads() -> int:
    try:
        from distributed import get_worker

        return max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError, AttributeError):  # not inside a Dask worker
        return 1


TRAINER_SETTINGS = ("trainer_threads", "trainer_memory_mb", "trainer_start_seconds")


def _train(token: str, job: dict, timeout: float, trainer: dict) -> dict:
    """The Dask task: run ``job`` on one of this worker's warm trainers (started on first use,
    one per worker thread, with the grading machine's ``trainer`` settings) and return its JSON
    result."""
    with _TRAINERS_LOCK:
        trainers = _TRAINERS.get(token)
        if trainers is None:
            trainers = _TRAINERS[token] = WorkerPool(size=_worker_threads(), envs=_trainer_envs(),
                                                     settings=CourseGrading(**trainer))
    try:
        return trainers.submit(job, timeout=timeout).result()
    except WorkerStartError:  # this worker's installation is broken: report it, and let the
        with _TRAINERS_LOCK:  # next job here try afresh rather than wait on a stopped pool
            if _TRAINERS.get(token) is trainers:
                del _TRAINERS[token]
        trainers.close()
        raise


def _close_trainers(token: str) -> int:
    """Stop this worker's trainers of grading run ``token`` (run on every worker at close)."""
    with _TRAINERS_LOCK:
        trainers = _TRAINERS.pop(token, None)
    if trainers is None:
        return 0
    n = len(trainers.workers)
    trainers.close()
    return n


def _describe_worker() -> dict:
    from course import runtime

    return {"backend": runtime.backend_name(),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}


# -- in the grading process -------------------------------------------------------------------
@dataclass
class DaskPool(TrainerPool):
    """Trusted training on the Dask cluster at ``address`` (default: ``DASK_SCHEDULER_ADDRESS``),
    or through an existing ``client``. ``gpu``: None asks for a GPU per job when any worker
    advertises the ``GPU`` resource; True requires GPU workers; False never asks for one."""

    address: str | None = None
    gpu: bool | None = None
    settings: CourseGrading = DEFAULTS  # the trainer_* settings travel to the workers
    client: object = None
    connect_timeout: float = 30.0
    wait_for_workers: float = 30.0  # at start, how long to wait for a first worker
    no_worker_grace: float = 60.0  # while jobs wait, how long no worker may be able to take them
    poll: float = 2.0
    workers: dict = field(default_factory=dict)  # address -> scheduler's worker info (at start)

    def __post_init__(self):
        self.address = scheduler_address(self.address)
        self.resources: dict = {}
        self._token = uuid.uuid4().hex
        self._own_client = False
        self._lock = threading.Lock()
        self._pending: dict[str, tuple] = {}  # key -> (dask future, future, job)
        self._watchdog: threading.Thread | None = None
        self._stop = threading.Event()
        self._started = False

    def __enter__(self):
        self.start()
        return self

    # -- start: connect and check that some worker can take the jobs ------------------------
    def start(self) -> None:
        """Connect, wait for a worker and decide the jobs' resources; raises
        :class:`DaskPoolError` / :class:`NoWorkerError` with what to do."""
        with self._lock:
            if self._started:
                return
            if self.client is None:
                self._connect()
            try:
                self._check()
            except BaseException:
                self._disconnect()
                raise
            self._started = True

    def _check(self) -> None:
        where = self._where()
        try:
            self.client.wait_for_workers(1, timeout=self.wait_for_workers)
        except (TimeoutError, OSError) as err:
            raise NoWorkerError(
                f"no Dask worker at {where}: expected at least one worker, received none "
                f"after {self.wait_for_workers:.0f} s ({type(err).__name__}); "
                + WORKER_HINT.format(address=where)) from None
        self.workers = self._workers()
        has_gpu = any(self._gpus(w) >= 1 for w in self.workers.values())
        if self.gpu and not has_gpu:
            raise NoWorkerError(self._no_worker_message(self.workers, "--gpu was given"))
        self.resources = {GPU: 1} if (self.gpu is None and has_gpu) or self.gpu else {}

    def _connect(self) -> None:
        if not self.address:
            raise DaskPoolError("no Dask scheduler given: expected --scheduler tcp://HOST:8786 "
                                "or DASK_SCHEDULER_ADDRESS; start one with `dask scheduler`")
        try:
            from distributed import Client
        except ImportError as err:
            raise DaskPoolError(f"Dask is not installed here ({err}); install it with: pip "
                                "install 'dask[distributed]'") from None
        try:
            self.client = Client(self.address, timeout=self.connect_timeout,
                                 set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise DaskPoolError(
                f"cannot reach the Dask scheduler at {self.address}: expected a scheduler "
                f"answering there within {self.connect_timeout:.0f} s, received: "
                f"{str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__}"
                "; start one with `dask scheduler` (port 8786) on a machine the workers and "
                "this one can reach, and check the address") from None
        self._own_client = True

    def _where(self) -> str:
        try:
            return self.address or self.client.scheduler.address
        except AttributeError:
            return "the scheduler"

    def _workers(self) -> dict:
        return dict(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    @staticmethod
    def _gpus(info: dict) -> float:
        return float((info.get("resources") or {}).get(GPU, 0))

    def _capable(self, workers: dict) -> list[str]:
        need = self.resources.get(GPU, 0)
        return [a for a, w in workers.items() if self._gpus(w) >= need]

    def _no_worker_message(self, workers: dict, why: str) -> str:
        seen = ", ".join(f"{a} ({_resources(w) or 'no resources'})"
                         for a, w in workers.items()) or "none"
        return (f"no Dask worker can take the training jobs: expected a worker with the "
                f"resource {GPU}=1 ({why}); received {len(workers)} worker(s) at "
                f"{self._where()}: {seen}. Fix: "
                + WORKER_HINT.format(address=self._where())
                + ", or grade without --gpu to train on CPU workers")

    @property
    def devices(self) -> list[str]:
        """Each worker as the scheduler saw it at start, with its resources."""
        return [f"{a} ({_resources(w) or 'CPU'})" for a, w in self.workers.items()]

    def describe(self) -> dict:
        """Each worker's Keras backend and visible GPUs (asks the workers; imports no Keras)."""
        self.start()
        return self.client.run(_describe_worker)

    # -- jobs --------------------------------------------------------------------------------
    def submit(self, job: dict, *, timeout: float = DEFAULT_TIMEOUT) -> Future:
        """As :meth:`TrainerPool.submit` (``timeout`` counted from the job's start on a
        trainer); the future raises :class:`NoWorkerError` when no worker could take the job
        for ``no_worker_grace`` seconds."""
        self.start()
        future: Future = Future()
        key = f"train-{job.get('spec', {}).get('assignment', 'job')}-{job.get('task', '?')}-" \
              f"{uuid.uuid4().hex}"
        trainer = {name: getattr(self.settings, name) for name in TRAINER_SETTINGS}
        dask_future = self.client.submit(_train, self._token, job, float(timeout), trainer,
                                         key=key, pure=False, resources=self.resources or None)
        with self._lock:
            self._pending[key] = (dask_future, future, job)
            if self._watchdog is None:
                self._stop.clear()
                self._watchdog = threading.Thread(target=self._watch, name="dask-pool-watch",
                                                  daemon=True)
                self._watchdog.start()
        dask_future.add_done_callback(self._done)
        return future

    def _done(self, dask_future) -> None:
        with self._lock:
            entry = self._pending.pop(dask_future.key, None)
        if entry is None or entry[1].done():
            return
        _, future, job = entry
        if dask_future.status == "cancelled":  # the scheduler went away (close() pops first)
            future.set_exception(DaskPoolError(
                f"the Dask scheduler at {self._where()} dropped this job; is it still running?"))
            return
        try:
            result = dask_future.result()
        except _killed_worker() as err:  # the worker died (again and again) on this job
            future.set_result(failure(job, "the Dask worker training this model died "
                                      f"({type(err).__name__}; out of memory?); the model "
                                      "is probably too large"))
        except BaseException as err:  # noqa: BLE001  (a worker's broken installation, ...)
            future.set_exception(DaskPoolError(f"on the Dask cluster at {self._where()}: "
                                               f"{type(err).__name__}: {err}"))
        else:
            future.set_result(result)

    def _watch(self) -> None:
        """While jobs wait: fail them if no worker can take them for ``no_worker_grace`` s."""
        since = None
        while not self._stop.wait(self.poll):
            with self._lock:
                if not self._pending:
                    continue
            try:
                workers = self._workers()
            except Exception:  # noqa: BLE001  (the scheduler is gone: no worker either)
                workers = {}
            if self._capable(workers):
                since = None
                continue
            since = since or time.monotonic()
            if time.monotonic() - since < self.no_worker_grace:
                continue
            why = (f"jobs ask for one GPU each; no worker could take them for "
                   f"{self.no_worker_grace:.0f} s") if self.resources else \
                f"no worker for {self.no_worker_grace:.0f} s"
            message = (self._no_worker_message(workers, why) if self.resources else
                       f"no Dask worker can take the training jobs: expected at least one "
                       f"worker at {self._where()}, received none ({why}); "
                       + WORKER_HINT.format(address=self._where()))
            with self._lock:
                pending, self._pending = list(self._pending.values()), {}
            for dask_future, future, _ in pending:
                if not future.done():
                    future.set_exception(NoWorkerError(message))
                dask_future.cancel()
            since = None

    def close(self) -> None:
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join()
            self._watchdog = None
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
        for dask_future, future, _ in pending:
            if not future.done():
                future.set_exception(DaskPoolError("the pool was closed before this job ran"))
            dask_future.cancel()
        if self.client is not None and self._started:
            try:  # the warm trainers of this run, on every worker
                self.client.run(_close_trainers, self._token, wait=True)
            except Exception:  # noqa: BLE001  (workers that left took their trainers along)
                pass
        self._disconnect()
        self._started = False

    def _disconnect(self) -> None:
        if self._own_client and self.client is not None:
            self.client.close()
            self.client = None
            self._own_client = False


def _killed_worker() -> type:
    """The error of a Dask task whose worker died while running it (the job's failure)."""
    try:
        from distributed.scheduler import KilledWorker
    except ImportError:  # pragma: no cover
        return ()
    return KilledWorker


def _resources(info: dict) -> str:
    return ", ".join(f"{k}={float(v):g}" for k, v in (info.get("resources") or {}).items())

