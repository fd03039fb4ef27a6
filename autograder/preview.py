"""``course preview NOTEBOOK``: what grading would say about a notebook, before it is handed in.

The same path as ``course grade``: the notebook's code cells run in the sandbox, a trusted
trainer rebuilds and trains what it exported, and the same checks score the result. One thing
differs, the data: grading draws a fresh train/validation/test split with the course's secret
grading seed (for the digit tasks, the test split is the private pool of digits that no notebook
loads), while the preview uses the public split the notebook itself loads (each loader's own
default seed) and each task's own seed from the spec. Training is deterministic, so the preview
is exact for that split on the same backend; the grade is measured on held-out data the notebook
never saw, so it can differ a little.

It needs no course directory, writes nothing and keeps no gradebook; it runs from a student's
install (the wheel), which holds no reference solution: a check that compares a function with
the reference (the transformer's attention) is listed as not previewed there.
"""
from __future__ import annotations

import textwrap
import threading
from dataclasses import dataclass, field
from pathlib import Path

from . import content, pipeline
from . import spec as specs
from .checks import CheckResult
from .trusted.kinds import values
from .trusted.pool import WorkerPool
from .trusted.trainer_pool import TrainerPool
from .sandbox.cells import NotebookError, read_notebook, test_cell_ids

STUDENT = "preview"
NOT_PREVIEWED = "not previewed"


@dataclass
class Preview:
    spec: specs.Spec
    graded: pipeline.Graded
    skipped: dict = field(default_factory=dict)  # task -> why it was not run here

    def skipped_check(self, check: CheckResult) -> bool:
        return self.spec.check(check.grade_id).task in self.skipped

    @property
    def score(self) -> float:
        return round(sum(c.points for c in self.graded.checks if not self.skipped_check(c)), 2)

    @property
    def previewed_max(self) -> float:
        return sum(c.max_points for c in self.graded.checks if not self.skipped_check(c))

    def report(self, notebook: Path) -> str:
        from course import runtime

        checks = self.graded.checks
        width = max([len(c.grade_id) for c in checks] + [5])
        lines = [f"preview of {self.spec.assignment} ({Path(notebook).name}) on the public "
                 f"data, backend {runtime.backend_name()}, trained on "
                 f"{self.graded.device or 'the CPU'}", "",
                 f"{'check':<{width}}  {'points':<13}  message"]
        for c in checks:
            if self.skipped_check(c):
                points = NOT_PREVIEWED
                message = self.skipped[self.spec.check(c.grade_id).task]
            else:
                points = f"{c.points:5.2f}/{c.max_points:g}"
                message = c.message
            text = message.strip().splitlines() or [""]
            lines.append(f"{c.grade_id:<{width}}  {points:<13}  {text[0]}")
            lines += [f"{'':<{width}}  {'':<13}  {more}" for more in text[1:]]
        lines.append("")
        total = self.spec.max_score
        if self.skipped:
            lines.append(f"would score {self.score:.2f} of the {self.previewed_max:g} points "
                         f"previewed here ({total - self.previewed_max:g} more are scored only "
                         f"when graded; {total:g} in all)")
        else:
            lines.append(f"would score {self.score:.2f}/{total:g}")
        lines += ["", note(runtime.backend_name())]
        return "\n".join(lines)


def note(backend: str) -> str:
    return textwrap.fill(
        "Note: this preview ran your notebook as grading does (sandbox, then trusted training), "
        "on the public data your notebook loads. The final grade trains your model again from "
        "scratch on a fresh draw of held-out data (same distribution, a different sample, drawn "
        "with a seed only the grader knows; for digits, images from a private pool that no "
        "notebook loads), so the metrics can differ. Training is "
        f"deterministic: on the same backend ({backend}) this preview is exact for the public "
        "split, and running it again gives the same numbers.", width=100)


def assignment_of(notebook: Path, given: str | None = None) -> str:
    """The assignment a notebook belongs to: ``given``, else its file name, else the spec
    whose checks its test cells carry."""
    known = specs.available()
    if given:
        return given
    if Path(notebook).stem in known:
        return Path(notebook).stem
    try:
        ids = set(test_cell_ids(read_notebook(Path(notebook))))
    except NotebookError as err:
        raise specs.SpecError(f"{notebook}: {err}") from None
    for assignment in known:
        if ids & {c.grade_id for c in specs.load(assignment).checks}:
            return assignment
    raise specs.SpecError(f"cannot tell which assignment {notebook} is (its name is not one of "
                          f"{', '.join(known)}): pass --assignment ID")


def unavailable(spec: specs.Spec) -> dict[str, str]:
    """Tasks this install cannot run, and why: values tasks scored against the reference
    solution, which a student's install does not hold."""
    out = {}
    if content.has_solutions():
        return out
    for name, task in spec.tasks.items():
        if task.kind == "values" and getattr(values.challenge(task), "REFERENCE", None):
            out[name] = ("compared with the reference solution, which only the grader has: "
                         "scored when your notebook is graded (the visible checks in the "
                         "notebook test the same rules)")
    return out


def run(notebook: Path, assignment: str | None = None, *, pool: TrainerPool | None = None
        ) -> Preview:
    """Preview one notebook: sandbox -> trusted tasks -> checks, on the public data."""
    notebook = Path(notebook)
    if not notebook.is_file():
        raise FileNotFoundError(f"no notebook at {notebook}")
    spec = specs.load(assignment_of(notebook, assignment))
    skipped = unavailable(spec)  # neither called in the sandbox nor sent to a trainer
    plan = pipeline.Plan(spec, public=True, skip=tuple(skipped))
    own = pool is None
    pool = pool or WorkerPool(size=1)
    try:
        graded = pipeline.grade_one(plan, STUDENT, notebook, pool, course_dir=None,
                                    sandbox_slots=threading.Semaphore(1))
    finally:
        if own:
            pool.close()
    return Preview(spec, graded, skipped)
