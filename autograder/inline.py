"""The graded checks when a notebook runs under plain ``nbgrader autograde``.

There, hidden test cells execute inside the student's kernel. ``grade_check`` still keeps the
training and scoring out of it: it makes the same calls the sandbox would (builders' configs,
values on grading-time inputs), runs the task in a fresh trusted worker process, shows the
message and plots, and returns the points as the cell's value (nbgrader's partial credit). A
task's result is kept for the kernel's lifetime, so several checks on one task train it once.
``course grade`` is stronger: it never runs student code where grades are decided.
"""
from __future__ import annotations

import base64
import contextlib
import io
from pathlib import Path

from . import checks as chk
from . import spec as specs
from .pipeline import Plan
from .sandbox.child import run_call
from .sandbox.runner import Export
from .settings import CONFIG
from .trusted.kinds import TaskResult
from .trusted.pool import WorkerPool

_RESULTS: dict[tuple[str, str], TaskResult] = {}


def _in_worker(job: dict, timeout: float) -> dict:
    with WorkerPool(size=1) as pool:
        return pool.submit(job, timeout=timeout).result()


def _task_result(plan: Plan, task: str, namespace: dict, run_job) -> tuple[Export, TaskResult]:
    calls = plan.task_calls[task]
    with contextlib.redirect_stdout(io.StringIO()):
        export = Export(True, calls={c["key"]: run_call(c, namespace) for c in calls})
    key = (plan.spec.assignment, task)
    if key not in _RESULTS:
        job = plan.jobs_for(task, export)
        _RESULTS[key] = TaskResult.from_json(run_job(job, plan.limit(task)))
    return export, _RESULTS[key]


def course_seed(start: Path | None = None) -> int:
    """The course's grading seed when this kernel runs inside a course directory (nbgrader runs
    notebooks from ``autograded/<student>/<id>/``), so plain autograde draws what ``course
    grade`` draws; 0 elsewhere."""
    here = Path(start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        seed_file = folder / "grading_seed"
        if seed_file.is_file() and (folder / CONFIG).is_file():
            try:
                return int(seed_file.read_text().strip())
            except ValueError:
                return 0
    return 0


def grade_check(assignment: str, grade_id: str, namespace, *, run_job=_in_worker) -> float:
    """Score check ``grade_id`` of ``assignment`` for the functions in ``namespace`` (the
    notebook's ``globals()``; a single function is accepted too); prints why; returns points.
    ``run_job(job, timeout)`` trains a task (default: in a fresh trusted worker process)."""
    spec = specs.load(assignment)
    check = spec.check(grade_id)
    if callable(namespace):
        namespace = {check.function: namespace}
    export, result = _task_result(Plan(spec, course_seed()), check.task, namespace,
                                  run_job)
    results = chk.evaluate(spec, export, {check.task: result})
    scored = next(r for r in results if r.grade_id == grade_id)
    print(scored.message)
    _show(scored.figures)
    return scored.points


def _show(figures: dict) -> None:
    try:
        from IPython.display import Image, display
    except ImportError:
        return
    for png in figures.values():
        display(Image(data=png if isinstance(png, bytes) else base64.b64decode(png)))
