"""``course grade``: the whole grading path for one assignment in a course directory.

sandbox -> trusted training -> checks (``pipeline``), results saved as JSON, then nbgrader's
Autograde records them in the gradebook, one student at a time.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

from tqdm.auto import tqdm

from . import pipeline
from . import spec as specs
from .workspace import Workspace, WorkspaceError


@dataclass
class Report:
    """What a grading run did: per-student outcome and per-stage seconds."""

    assignment: str
    graded: dict  # student -> pipeline.Graded
    stages: dict

    def table(self) -> str:
        width = max([len(s) for s in self.graded] + [7])
        lines = [f"{'student':<{width}}  score        reason"]
        for student, g in self.graded.items():
            lines.append(f"{student:<{width}}  {g.score:5.2f}/{g.max_score:<5.1f}  {g.reason}")
        return "\n".join(lines)

    def timing_line(self) -> str:
        return "stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.stages.items())


def grade(ws: Workspace, assignment: str, *, students: list[str] | None = None,
          progress: bool = True, pool=None) -> Report:
    """Grade every submission of ``assignment`` (or only ``students``) in ``ws``."""
    spec = specs.load(assignment)
    ws.require_release(assignment)
    found = ws.students(assignment)
    chosen = students or found
    missing = sorted(set(chosen) - set(found))
    if missing:
        raise WorkspaceError(f"no submission from {', '.join(missing)} under "
                             f"{ws.root / 'submitted'}; expected submitted/<student>/"
                             f"{assignment}/{assignment}.ipynb")
    if not chosen:
        raise WorkspaceError(f"nothing to grade: no submissions under {ws.root / 'submitted'} "
                             f"for {assignment} (expected submitted/<student>/{assignment}/"
                             f"{assignment}.ipynb)")
    run = pipeline.grade(spec, {s: ws.submitted(assignment, s) for s in chosen},
                         course_dir=ws.root, progress=progress, pool=pool)
    pipeline.save(run.graded, ws.results_dir / assignment)
    t0 = time.perf_counter()
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy autoflush chatter
    for student in tqdm(chosen, desc="gradebook (nbgrader)", unit="sub", disable=not progress):
        ws.autograde(assignment, student)
    stages = {**run.stages, "gradebook": round(time.perf_counter() - t0, 3)}
    return Report(assignment, run.graded, stages)
