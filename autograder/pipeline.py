"""Grade many submissions: sandbox -> inspect -> train -> checks, with progress and timings.

Sandboxes run in parallel as separate processes; inspection and training go to one pool of warm
trusted workers. Nothing here imports Keras: the parent only moves JSON between processes.
"""
from __future__ import annotations

import base64
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from . import checks as chk
from . import trainer
from .pool import WorkerPool
from .sandbox import runner
from .spec import Spec


@dataclass
class Graded:
    """One submission's outcome."""

    student: str
    checks: list[chk.CheckResult]
    export: runner.Export
    inspected: dict = field(default_factory=dict)
    trained: dict = field(default_factory=dict)
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
        for info in list(self.trained.values()) + list(self.inspected.values()):
            if info.get("device"):
                return info["device"]
        return ""

    def to_json(self) -> dict:
        return {
            "student": self.student, "score": self.score, "max_score": self.max_score,
            "reason": self.reason, "device": self.device, "timings": self.timings,
            "isolation": self.export.isolation, "sandbox_error": self.export.error,
            "sandbox_log": self.export.log if self.export.error else "",  # for the instructor
            "cells": self.export.cells,
            "checks": [{**{k: v for k, v in asdict(c).items() if k != "figures"},
                        "figures": {t: base64.b64encode(png).decode() for t, png in
                                    c.figures.items()}} for c in self.checks],
            "trained": {f: {k: v for k, v in r.items() if k != "traceback"}
                        for f, r in self.trained.items()},
        }


@dataclass
class Run:
    """A grading run: each student's outcome and the wall time of each stage."""

    graded: dict[str, Graded]
    stages: dict[str, float]


def _jobs(spec: Spec, exports: dict, *, train: bool) -> list:
    return [((student, name), trainer.job(spec.raw, name, entry, train=train))
            for student, export in exports.items()
            for name, entry in export.functions.items()
            if entry.get("ok") and (not train or name == spec.train.function)]


def _bar(total, desc, show):
    return tqdm(total=total, desc=desc, unit="sub", disable=not show, leave=True)


def grade(spec: Spec, submissions: dict[str, Path], *, course_dir: Path | None = None,
          pool: WorkerPool | None = None, progress: bool = True,
          sandbox_parallel: int | None = None) -> Run:
    """Grade ``{student: notebook path}``; the run's ``graded`` keeps the same order."""
    stages: dict[str, float] = {}
    parallel = sandbox_parallel or max(1, min(len(submissions), os.cpu_count() or 1, 8))
    t0 = time.perf_counter()
    exports: dict[str, runner.Export] = {}
    with _bar(len(submissions), "sandbox (student code)", progress) as bar, \
            ThreadPoolExecutor(max_workers=max(1, parallel)) as threads:
        futures = {s: threads.submit(runner.run_notebook, p, spec, course_dir=course_dir)
                   for s, p in submissions.items()}
        for student, future in futures.items():
            exports[student] = future.result()
            bar.update(1)
    stages["sandbox"] = time.perf_counter() - t0

    own_pool = pool is None
    pool = pool or WorkerPool()
    try:
        inspected: dict[str, dict] = {s: {} for s in submissions}
        trained: dict[str, dict] = {s: {} for s in submissions}
        t0 = time.perf_counter()
        jobs = _jobs(spec, exports, train=False)
        for (student, name), result in pool.run(jobs, timeout=300):
            inspected[student][name] = result
        stages["inspect"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        jobs = [(key, job) for key, job in _jobs(spec, exports, train=True)
                if inspected[key[0]].get(key[1], {}).get("built")]
        limit = (spec.train.max_seconds or 600) * 1.5 + 60
        with _bar(len(jobs), "trusted training", progress) as bar:
            for (student, name), result in pool.run(jobs, timeout=limit):
                trained[student][name] = result
                bar.set_postfix_str(student)
                bar.update(1)
        stages["train"] = time.perf_counter() - t0
    finally:
        if own_pool:
            pool.close()

    graded = {}
    for student in submissions:
        results = chk.evaluate(spec, exports[student], inspected[student], trained[student])
        timings = {"sandbox": round(exports[student].seconds, 3)}
        for name, info in trained[student].items():
            timings.update({f"train.{k}": v for k, v in info.get("timings", {}).items()})
        graded[student] = Graded(student, results, exports[student], inspected[student],
                                 trained[student], timings)
    return Run(graded, {k: round(v, 3) for k, v in stages.items()})


def save(graded: dict[str, Graded], results_dir: Path) -> list[Path]:
    """One JSON file per student under ``results_dir`` (read back by the gradebook step)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for student, g in graded.items():
        path = results_dir / f"{student}.json"
        path.write_text(json.dumps(g.to_json(), indent=1))
        paths.append(path)
    return paths
