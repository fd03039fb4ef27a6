"""Warm trusted-trainer processes, reused across submissions, fed from any thread.

Each worker (``python -m autograder.trusted.worker``) imports Keras once, then runs job after job.
One dispatcher thread owns the processes: :meth:`WorkerPool.submit` queues a job and returns a
``Future``, so sandboxes and training overlap (a submission's jobs start as soon as its sandbox is
done). A job that overruns its time limit, grows its trainer past its memory limit (the task
budget's ``memory_mb``, else the ``trainer_memory_mb`` setting; resident memory, polled every 0.1 s)
or kills its worker (a crash) is that job's failure, and the worker is replaced, so grading goes on.
Sized to the machine: on GPUs, one trainer per GPU to start with, then as many as the GPU's memory
holds at the footprint the first job measured (:mod:`autograder.trusted.gpu_share`; ``per_gpu``
fixes the number); without a GPU, one per core group.
"""
from __future__ import annotations

import json
import os
import queue
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from ..settings import DEFAULTS, CourseGrading
from . import gpu_share
from .trainer_pool import DEFAULT_TIMEOUT, TrainerPool, failure


def memory_limit_mb(job: dict, settings: CourseGrading = DEFAULTS) -> int:
    """The memory one job may take: its task budget's ``memory_mb``, else the setting's."""
    try:
        return settings.memory_mb(job["spec"]["tasks"][job["task"]].get("budget", {}))
    except (KeyError, TypeError, ValueError, AttributeError):
        return settings.memory_mb()


def resident_mb(pid: int) -> float:
    """Resident memory of process ``pid`` and its children, in MiB (0 once it is gone)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def gpu_ids() -> list[str]:
    """The NVIDIA GPUs this process may use, as CUDA ids, without importing a framework
    (honours CUDA_VISIBLE_DEVICES: with ``3,5`` the trainers get GPU 3 and GPU 5)."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [d.strip() for d in listed.split(",") if d.strip() and d.strip() != "-1"]
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [str(i) for i, _ in enumerate(line for line in out.stdout.splitlines()
                                         if line.startswith("GPU "))]


def visible_gpus() -> int:
    """How many NVIDIA GPUs this process may use."""
    return len(gpu_ids())


def default_size(threads: int = 1, per_gpu: int | None = 1) -> tuple[int, list[dict]]:
    """How many workers, and each one's extra environment (its GPU when there are GPUs);
    ``per_gpu`` None (decided later, from memory) starts one per GPU."""
    gpus = gpu_ids()
    if gpus:
        envs = [{"CUDA_VISIBLE_DEVICES": i} for i in gpus for _ in range(per_gpu or 1)]
        return len(envs), envs
    n = max(1, (os.cpu_count() or 1) // threads)
    return n, [{"CUDA_VISIBLE_DEVICES": ""} for _ in range(n)]


DIED = ("the trainer process died while training this model (out of memory?); the model is "
        "probably too large")


class WorkerStartError(RuntimeError):
    """A trainer process could not start (a broken installation, not a student's fault)."""


@dataclass
class _Worker:
    env: dict
    threads: int
    start_seconds: float = DEFAULTS.trainer_start_seconds
    compile_cache: str = ""
    proc: subprocess.Popen = None
    device: str = ""
    job: tuple = None  # (job, timeout, future) while busy
    started: float = 0.0
    log: object = None

    def start(self) -> None:
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.trusted.worker", "--threads", str(self.threads),
             "--compile-cache", self.compile_cache],
            env={**os.environ, **self.env}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, text=True, bufsize=1)
        line = _readline(self.proc, self.start_seconds)
        if not line:
            self.log.seek(0)
            tail = self.log.read()[-2000:].decode("utf-8", "replace")
            self.kill()
            raise WorkerStartError(f"a trainer process failed to start:\n{tail}")
        self.device = json.loads(line)["ready"]

    def send(self, item: tuple) -> None:
        self.job, self.started = item, time.monotonic()
        self.proc.stdin.write(json.dumps(item[0]) + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.log is not None:
            self.log.close()
            self.log = None


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return ""
    return proc.stdout.readline()


@dataclass
class WorkerPool(TrainerPool):
    """A fixed set of warm trainer processes. Use as a context manager; started lazily."""

    size: int | None = None  # None: the ``workers`` setting, else sized to the machine
    threads: int | None = None  # CPU threads per trainer; None: the ``trainer_threads`` setting
    # trainers sharing one GPU (small models leave a big GPU mostly idle); None: as many as its
    # memory holds at the first job's measured footprint (gpu_share)
    per_gpu: int | None = None
    envs: list[dict] = field(default_factory=list)
    workers: list[_Worker] = field(default_factory=list)
    settings: CourseGrading = DEFAULTS

    def __post_init__(self):
        self.size = self.size or self.settings.workers
        self.threads = self.threads or self.settings.trainer_threads
        if self.per_gpu is None:
            self.per_gpu = self.settings.trainers_per_gpu
        self._sizing: list[str] = []  # why this many trainers, per GPU
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closing = False
        self._ready: queue.Queue = queue.Queue()  # workers started by grow(), not yet in use
        self._growers: list[threading.Thread] = []
        self._undecided: set[str] = set()  # GPUs whose trainer count waits on a first job
        self._memory_before: dict = {}

    def start(self) -> None:
        """Start the trainer processes now (otherwise the first job does)."""
        with self._lock:
            if self.workers:
                return
            size, envs = default_size(self.threads, self.per_gpu)
            if self.per_gpu is None and not self.envs and not self.size:
                self._undecided = {e["CUDA_VISIBLE_DEVICES"] for e in envs
                                   if e["CUDA_VISIBLE_DEVICES"]}
                self._memory_before = gpu_share.memory_mib(sorted(self._undecided))
            envs = self.envs or envs
            workers = [self._new(envs[i % len(envs)])
                       for i in range(self.size or size)]
            try:
                for w in workers:
                    w.start()
            except WorkerStartError:
                for w in workers:  # no half-started pool left behind
                    w.kill()
                raise
            self.workers = workers

    def _new(self, env: dict) -> _Worker:
        return _Worker(env, self.threads, self.settings.trainer_start_seconds,
                       self.settings.compile_cache)

    @property
    def devices(self) -> list[str]:
        return [w.device for w in self.workers]

    @property
    def sizing(self) -> list[str]:
        return list(self._sizing)

    def grow(self, envs: list[dict]) -> threading.Thread:
        """Start one more trainer per entry of ``envs`` in the background; each takes jobs as
        soon as it is ready (one that cannot start is left out)."""
        def start_all():
            for env in envs:
                w = self._new(env)
                try:
                    w.start()
                except WorkerStartError:
                    continue
                self._ready.put(w)
                self._queue.put(None)  # wake the dispatcher

        thread = threading.Thread(target=start_all, name="trainer-pool-grow", daemon=True)
        self._growers.append(thread)
        thread.start()
        return thread

    def _size_gpu(self, w: _Worker) -> None:
        """After ``w``'s first training on its GPU: add the trainers its memory holds."""
        gpu = w.env.get("CUDA_VISIBLE_DEVICES", "")
        if gpu not in self._undecided:
            return
        self._undecided.discard(gpu)
        on_gpu = sum(x.env.get("CUDA_VISIBLE_DEVICES") == gpu for x in self.workers)
        n, why = gpu_share.decide(self._memory_before, gpu_share.memory_mib([gpu]), gpu, on_gpu,
                                  gpus=len(self._memory_before) or 1)
        self._sizing.append(why)
        if n > on_gpu:
            self.grow([dict(w.env) for _ in range(n - on_gpu)])

    def _take_ready(self, idle: list) -> None:
        for w in _drained(self._ready):
            with self._lock:
                self.workers.append(w)
            idle.append(w)

    def submit(self, job: dict, *, timeout: float = DEFAULT_TIMEOUT) -> Future:
        future: Future = Future()
        self._queue.put((job, timeout, future))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._dispatch, name="trainer-pool",
                                                daemon=True)
                self._thread.start()
        return future

    # -- the dispatcher thread ------------------------------------------------------------
    def _dispatch(self) -> None:
        try:
            self.start()
        except WorkerStartError as err:
            self._stop_dispatching(str(err))
            return
        idle, busy = list(self.workers), {}
        with selectors.DefaultSelector() as sel:
            while not (self._closing and not busy and self._queue.empty()):
                self._take_ready(idle)
                while idle:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        continue
                    w = idle.pop()
                    w.send(item)
                    busy[w.proc.stdout] = w
                    sel.register(w.proc.stdout, selectors.EVENT_READ)
                for event, _ in sel.select(timeout=0.1 if busy else None) if busy else []:
                    w = busy.pop(event.fileobj)
                    sel.unregister(event.fileobj)
                    line = w.proc.stdout.readline()
                    future = w.job[2]
                    if line:
                        answer = json.loads(line)
                        if self._undecided and answer.get("timings", {}).get("fit"):
                            self._size_gpu(w)  # a job that trained: its footprint is measured
                        future.set_result(answer)
                    else:
                        future.set_result(failure(w.job[0], DIED, w.device))
                        w = self._replace(w)
                    idle.extend([w] if w else [])
                now = time.monotonic()
                for stream, w in list(busy.items()):
                    why = _overrun(w, now, self.settings)
                    if why:
                        busy.pop(stream)
                        sel.unregister(stream)
                        w.job[2].set_result(failure(w.job[0], why, w.device))
                        w = self._replace(w)
                        idle.extend([w] if w else [])
                if not idle and not busy:  # every replacement failed to start
                    self._stop_dispatching("no trainer process could be restarted")
                    return
                if not busy and not self._closing:
                    item = self._queue.get()  # sleep until there is work (or close)
                    if item is not None:
                        self._queue.put(item)

    def _stop_dispatching(self, message: str) -> None:
        """Fail what is queued; the next ``submit`` starts a new dispatcher (and tries to start
        the trainers again) instead of waiting forever on this one."""
        with self._lock:
            self._fail_all(message)
            self._thread = None
            self.workers = [w for w in self.workers if w.proc is not None
                            and w.proc.poll() is None]

    def _fail_all(self, message: str) -> None:
        for item in _drained(self._queue):
            if item is not None:
                item[2].set_exception(WorkerStartError(message))

    def _replace(self, w: _Worker) -> _Worker | None:
        """A fresh process in ``w``'s place, or None (and one worker fewer) if it cannot start."""
        w.kill()
        try:
            w.start()
        except WorkerStartError:
            self.workers.remove(w)
            return None
        return w

    def close(self) -> None:
        self._closing = True
        self._queue.put(None)  # wake the dispatcher
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        for thread in self._growers:
            thread.join()
        self._growers = []
        self._take_ready([])  # started too late to take a job: closed with the rest
        for w in self.workers:
            try:
                w.proc.stdin.close()
                w.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            w.kill()
        self.workers = []
        self._closing = False


def _drained(q: queue.Queue):
    """What ``q`` holds now, taken out one item at a time without waiting."""
    while True:
        try:
            yield q.get_nowait()
        except queue.Empty:
            return


def _overrun(w: _Worker, now: float, settings: CourseGrading) -> str | None:
    """Why ``w``'s job must stop now (over its time or memory limit), or None."""
    job, timeout, _ = w.job
    if now - w.started > timeout:
        return f"training took longer than {timeout:.0f} s and was stopped; use a smaller model"
    limit = memory_limit_mb(job, settings)
    used = resident_mb(w.proc.pid)
    if used > limit:
        return (f"training needed more than {limit / 1024:.1f} GB of memory ({used / 1024:.1f} "
                "GB when it was stopped); use a smaller model: fewer or narrower layers, "
                "shorter unrolled loops, smaller attention")
    return None

