"""Grade many submissions, each on its own: sandbox -> trusted tasks -> checks, streamed.

Every submission moves through the stages independently: its trusted jobs go to the warm
worker pool as soon as its sandbox is done, while other sandboxes still run, and its outcome is
handed to ``on_graded`` (in the calling thread) the moment its checks are scored, so a caller
can record it before the next one finishes. Nothing here imports Keras: the grading process only
moves JSON between processes. A failure inside one submission's path, even a grader bug, is that
submission's outcome, never the batch's.
"""
from __future__ import annotations

import base64
import os
import queue
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from . import checks as chk
from .sandbox import runner
from .settings import DEFAULTS, CourseGrading
from .spec import Spec
from .trusted import kinds, trainer
from .trusted.kinds import TaskResult
from .trusted.pool import WorkerPool
from .trusted.trainer_pool import SharedJobs, TrainerPool


@dataclass
class Graded:
    """One submission's outcome."""

    student: str
    checks: list[chk.CheckResult]
    export: runner.Export
    results: dict = field(default_factory=dict)  # task -> TaskResult
    timings: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        return round(sum(c.points for c in self.checks), 2)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.checks)

    @property
    def reason(self) -> str:
        return chk.reason_line(self.checks)

    @property
    def device(self) -> str:
        return next((r.device for r in self.results.values() if r.device), "")

    def to_json(self) -> dict:
        return {
            "student": self.student, "score": self.score, "max_score": self.max_score,
            "reason": self.reason, "device": self.device, "timings": self.timings,
            "isolation": self.export.isolation, "sandbox_error": self.export.error,
            "sandbox_log": self.export.log if self.export.error else "",  # for the instructor
            "cells": self.export.cells,
            "calls": self.export.calls,  # the validated export (configs, values): similarity
            "checks": [{**{k: v for k, v in asdict(c).items() if k != "figures"},
                        "figures": {t: base64.b64encode(png).decode() for t, png in
                                    c.figures.items()}} for c in self.checks],
            "results": {name: {k: v for k, v in r.to_json().items() if k != "extra"}
                        for name, r in self.results.items()},
        }


    @classmethod
    def from_json(cls, raw: dict) -> "Graded":
        """A saved outcome, as :meth:`to_json` wrote it (figures included)."""
        export = runner.Export(raw.get("sandbox_error") is None, calls=raw.get("calls", {}),
                               cells=raw.get("cells", []),
                               error=raw.get("sandbox_error"), isolation=raw.get("isolation", ""),
                               log=raw.get("sandbox_log", ""))
        checks = [chk.CheckResult(c["grade_id"], c["points"], c["max_points"], c["message"],
                                  {t: base64.b64decode(png) for t, png in c["figures"].items()})
                  for c in raw["checks"]]
        results = {name: TaskResult.from_json(r) for name, r in raw.get("results", {}).items()}
        return cls(raw["student"], checks, export, results, raw.get("timings", {}))


@dataclass
class Run:
    """A grading run: each student's outcome and seconds per stage (summed over submissions)
    plus the wall time of the whole run."""

    graded: dict[str, Graded]
    stages: dict[str, float]


class Plan:
    """What grading one submission of ``spec`` involves: the sandbox calls, and per task its
    seed (mixed with the course's grading seed) and its time limit.

    ``public=True`` (``course preview``): every task runs with the spec's own seed on the data
    the student's notebook loads (the loader's public seed), not on a fresh draw; the grading
    seed is then unused. ``skip``: tasks neither called in the sandbox nor trained."""

    def __init__(self, spec: Spec, grading_seed: int = 0, *, public: bool = False,
                 settings: CourseGrading = DEFAULTS, skip: tuple[str, ...] = ()):
        self.spec = spec
        self.public = public
        self.settings = settings
        self.seeds = {name: int(t.seed) if public else kinds.task_seed(t, grading_seed)
                      for name, t in spec.tasks.items()}
        self.task_calls = {name: kinds.module(t.kind).calls(spec, t, self.seeds[name])
                           for name, t in spec.tasks.items() if name not in skip}
        unique = {}
        for calls in self.task_calls.values():
            for call in calls:
                unique.setdefault(call["key"], call)
        self.calls = list(unique.values())

    def limit(self, task: str) -> float:
        """Seconds after which ``task``'s training job is stopped."""
        return self.settings.job_limit(self.spec.tasks[task].budget)

    def jobs_for(self, task: str, export: runner.Export) -> dict:
        exports = {c["key"]: export.calls[c["key"]] for c in self.task_calls[task]}
        return trainer.job(self.spec, task, exports, self.seeds[task], public=self.public)

    def jobs(self, export: runner.Export) -> dict[str, dict]:
        return {name: self.jobs_for(name, export) for name in self.task_calls}


def _internal_error(student: str, export: runner.Export | None, spec: Spec) -> "Graded":
    message = ("internal grader error (not your fault; tell the instructor): "
               + traceback.format_exc(limit=3).strip().splitlines()[-1])
    export = export or runner.Export(False, error=message)
    return Graded(student, [chk.CheckResult(c.grade_id, 0.0, c.points, message)
                            for c in spec.checks], export)


def grade_one(plan: Plan, student: str, notebook: Path, pool: TrainerPool, *,
              course_dir: Path | None, sandbox_slots: threading.Semaphore) -> Graded:
    """One submission through every stage. Never raises."""
    export = None
    try:
        with sandbox_slots:
            export = runner.run_notebook(notebook, plan.spec, plan.calls, course_dir=course_dir)
        timings = {"sandbox": round(export.seconds, 3)}
        results: dict[str, TaskResult] = {}
        if export.ok:
            futures = {name: pool.submit(job, timeout=plan.limit(name))
                       for name, job in plan.jobs(export).items()}
            for name, future in futures.items():
                results[name] = TaskResult.from_json(future.result())
                timings.update({f"{name}.{k}": v for k, v in results[name].timings.items()})
        return Graded(student, chk.evaluate(plan.spec, export, results), export, results,
                      timings)
    except Exception:  # a grader bug costs this submission, never the batch
        return _internal_error(student, export, plan.spec)


def grade(spec: Spec, submissions: dict[str, Path], *, course_dir: Path | None = None,
          pool: TrainerPool | None = None, progress: bool = True,
          sandbox_parallel: int | None = None, grading_seed: int = 0,
          on_graded=None, settings: CourseGrading = DEFAULTS) -> Run:
    """Grade ``{student: notebook path}``; ``on_graded(graded)`` runs in this thread as each
    finishes (in finishing order); the run's ``graded`` keeps the submissions' order."""
    t0 = time.perf_counter()
    plan = Plan(spec, grading_seed, settings=settings)
    parallel = sandbox_parallel or max(1, min(len(submissions), os.cpu_count() or 1,
                                              settings.sandbox_parallel))
    slots = threading.Semaphore(parallel)
    own_pool = pool is None
    pool = pool or WorkerPool(settings=settings)
    shared = SharedJobs(pool)  # equal jobs of this run train once
    done: queue.Queue = queue.Queue()
    graded: dict[str, Graded] = {}
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(len(submissions),
                                                    settings.submission_threads))) as threads, \
                tqdm(total=len(submissions), desc=f"grading {spec.assignment}", unit="sub",
                     disable=not progress, leave=True) as bar:
            for student, path in submissions.items():
                threads.submit(lambda s=student, p=path: done.put(grade_one(
                    plan, s, p, shared, course_dir=course_dir, sandbox_slots=slots)))
            for _ in submissions:
                g = done.get()
                graded[g.student] = g
                if on_graded is not None:
                    on_graded(g)
                bar.set_postfix_str(f"{g.student} {g.score:g}/{g.max_score:g}")
                bar.update(1)
    finally:
        if own_pool:
            pool.close()
    stages = {"sandbox": 0.0, "trusted": 0.0}
    for g in graded.values():
        stages["sandbox"] += g.timings.get("sandbox", 0.0)
        stages["trusted"] += sum(v for k, v in g.timings.items() if k != "sandbox")
    stages = {k: round(v, 3) for k, v in stages.items()}
    stages["wall"] = round(time.perf_counter() - t0, 3)
    return Run({s: graded[s] for s in submissions}, stages)
