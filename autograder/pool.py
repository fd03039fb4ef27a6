"""Warm trusted-trainer processes, reused across submissions.

Each worker (``python -m autograder.worker``) imports Keras once, then trains job after job. A
job that overruns its time limit or kills its worker (out of memory, a crash) is reported as
that job's failure and the worker is replaced, so grading goes on. Sized to the machine: one
worker per GPU, else one per core group.
"""
from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field


def visible_gpus() -> int:
    """NVIDIA GPUs on this machine, without importing a framework (honours CUDA_VISIBLE_DEVICES)."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return len([d for d in listed.split(",") if d.strip() and d.strip() != "-1"])
    if not shutil.which("nvidia-smi"):
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(line.startswith("GPU ") for line in out.stdout.splitlines())


def default_size(jobs: int, threads: int = 1) -> tuple[int, list[dict]]:
    """How many workers, and each one's extra environment (its GPU when there are GPUs)."""
    gpus = visible_gpus()
    if gpus:
        return min(gpus, max(jobs, 1)), [{"CUDA_VISIBLE_DEVICES": str(i)} for i in range(gpus)]
    n = max(1, min(max(jobs, 1), (os.cpu_count() or 1) // threads))
    return n, [{"CUDA_VISIBLE_DEVICES": ""} for _ in range(n)]


class WorkerStartError(RuntimeError):
    """A trainer process could not start (a broken installation, not a student's fault)."""


@dataclass
class _Worker:
    env: dict
    threads: int
    proc: subprocess.Popen = None
    device: str = ""
    job: tuple = None
    started: float = 0.0
    log: object = None

    def start(self, timeout: float = 300) -> None:
        self.log = tempfile.TemporaryFile()
        env = {**os.environ, **self.env, "COURSE_WORKER_THREADS": str(self.threads)}
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.worker"], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, bufsize=1)
        line = _readline(self.proc, timeout)
        if not line:
            self.log.seek(0)
            tail = self.log.read()[-2000:].decode("utf-8", "replace")
            raise WorkerStartError(f"a trainer process failed to start:\n{tail}")
        self.device = json.loads(line)["ready"]

    def send(self, key, job: dict) -> None:
        self.job, self.started = (key, job), time.monotonic()
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.log is not None:
            self.log.close()


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return ""
    return proc.stdout.readline()


@dataclass
class WorkerPool:
    """A fixed set of warm trainer processes. Use as a context manager; started lazily."""

    size: int | None = None
    threads: int = 1
    envs: list[dict] = field(default_factory=list)
    workers: list[_Worker] = field(default_factory=list)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self, jobs: int = 1) -> None:
        if self.workers:
            return
        size, envs = default_size(jobs, self.threads)
        envs = self.envs or envs
        self.workers = [_Worker(envs[i % len(envs)], self.threads)
                        for i in range(self.size or size)]
        for w in self.workers:
            w.start()

    @property
    def devices(self) -> list[str]:
        return [w.device for w in self.workers]

    def run(self, jobs: list[tuple[object, dict]], *, timeout: float):
        """Yield ``(key, result)`` as jobs finish. A job over ``timeout`` seconds, or one whose
        worker dies, yields an error result and its worker is replaced."""
        if not jobs:
            return
        self.start(len(jobs))
        pending, idle, busy = list(jobs), list(self.workers), {}
        with selectors.DefaultSelector() as sel:
            while pending or busy:
                while pending and idle:
                    w = idle.pop()
                    w.send(*pending.pop(0))
                    busy[w.proc.stdout] = w
                    sel.register(w.proc.stdout, selectors.EVENT_READ)
                for event, _ in sel.select(timeout=1.0):
                    w = busy.pop(event.fileobj)
                    sel.unregister(event.fileobj)
                    line = w.proc.stdout.readline()
                    if line:
                        yield w.job[0], json.loads(line)
                    else:
                        yield w.job[0], _failure(w, "the trainer process died while training "
                                                    "this model (out of memory?); the model is "
                                                    "probably too large")
                        self._replace(w)
                    idle.append(w)
                now = time.monotonic()
                for stream, w in list(busy.items()):
                    if now - w.started > timeout:
                        busy.pop(stream)
                        sel.unregister(stream)
                        self._replace(w)
                        yield w.job[0], _failure(w, f"training took longer than {timeout:.0f} s "
                                                    "and was stopped; use a smaller model")
                        idle.append(w)

    @staticmethod
    def _replace(w: _Worker) -> None:
        w.kill()
        w.start()

    def close(self) -> None:
        for w in self.workers:
            try:
                w.proc.stdin.close()
                w.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            w.kill()
        self.workers = []


def _failure(w: _Worker, message: str) -> dict:
    return {"function": w.job[1].get("function"), "built": False, "trained": False,
            "error": message, "device": w.device, "timings": {}}
