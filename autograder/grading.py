"""``course grade``: the whole grading path for one assignment in a course directory.

sandbox -> trusted tasks -> checks (``pipeline``), each submission on its own; as soon as one is
scored its results are saved as JSON and nbgrader's Autograde records them in the gradebook
(only this process writes the gradebook).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

from . import pipeline
from . import spec as specs
from .workspace import Workspace, WorkspaceError


@dataclass
class Report:
    """What a grading run did: per-student outcome and per-stage seconds."""

    assignment: str
    graded: dict  # student -> pipeline.Graded
    stages: dict
    unrecorded: dict = field(default_factory=dict)  # student -> why nbgrader could not record

    def table(self) -> str:
        width = max([len(s) for s in self.graded] + [7])
        lines = [f"{'student':<{width}}  score        reason"]
        for student, g in self.graded.items():
            reason = g.reason
            if student in self.unrecorded:
                reason = f"NOT RECORDED in the gradebook: {self.unrecorded[student]}; {reason}"
            lines.append(f"{student:<{width}}  {g.score:5.2f}/{g.max_score:<5.1f}  {reason}")
        return "\n".join(lines)

    def timing_line(self) -> str:
        summed = ", ".join(f"{k} {v:.1f}s" for k, v in self.stages.items() if k != "wall")
        return f"stages (summed over submissions): {summed}; wall {self.stages.get('wall', 0):.1f}s"


def grade(ws: Workspace, assignment: str, *, students: list[str] | None = None,
          progress: bool = True, pool=None) -> Report:
    """Grade every submission of ``assignment`` (or only ``students``) in ``ws``; each one is
    recorded in the gradebook as soon as its checks are scored."""
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
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy autoflush chatter
    recorded = {"seconds": 0.0}
    unrecorded: dict[str, str] = {}

    def record(graded: pipeline.Graded) -> None:
        t0 = time.perf_counter()
        pipeline.save({graded.student: graded}, ws.results_dir / assignment)
        try:
            ws.autograde(assignment, graded.student)
        except Exception as err:  # nbgrader refused this one notebook; the batch goes on
            unrecorded[graded.student] = str(err).strip().splitlines()[-1][:200]
        recorded["seconds"] += time.perf_counter() - t0

    run = pipeline.grade(spec, {s: ws.submitted(assignment, s) for s in chosen},
                         course_dir=ws.root, progress=progress, pool=pool,
                         grading_seed=ws.grading_seed, on_graded=record)
    stages = {**run.stages, "gradebook": round(recorded["seconds"], 3)}
    return Report(assignment, run.graded, stages, unrecorded)
