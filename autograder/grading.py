"""``course grade``: the whole grading path for one assignment in a course directory.

sandbox -> trusted tasks -> checks (``pipeline``), each submission on its own; as soon as one is
scored its results are saved as JSON and nbgrader's Autograde records them in the gradebook
(only this process writes the gradebook).
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from course import runtime

from . import checks as chk
from . import pipeline
from . import spec as specs
from .gradebook.workspace import Workspace, WorkspaceError
from .sandbox import isolation, runner
from .settings import CourseGrading
from .settings import load as settings_from


def check_isolation(required: bool) -> None:
    """Refuse (``required``: the ``require_isolation`` setting) or warn, once per batch, where
    the sandbox is weak."""
    weak = isolation.weakness()
    if weak is None:
        return
    if required:
        raise WorkspaceError("refusing to grade: isolation is required (--require-isolation, or "
                             "c.CourseGrading.require_isolation in nbgrader_config.py) and this "
                             f"machine gives only a {weak}")
    print(f"WARNING: {weak}", file=sys.stderr)


@dataclass
class Report:
    """What a grading run did: per-student outcome and per-stage seconds."""

    assignment: str
    graded: dict  # student -> pipeline.Graded
    stages: dict
    unrecorded: dict = field(default_factory=dict)  # student -> why nbgrader could not record
    reused: list = field(default_factory=list)  # already graded with the same fingerprint

    def table(self) -> str:
        width = max([len(s) for s in self.graded] + [7])
        lines = [f"{'student':<{width}}  score        reason"]
        for student, g in self.graded.items():
            reason = g.reason
            if student in self.unrecorded:
                reason = f"{reason} (zero recorded: nbgrader cannot read this notebook)"
            elif student in self.reused:
                reason = f"(unchanged since last graded) {reason}"
            lines.append(f"{student:<{width}}  {g.score:5.2f}/{g.max_score:<5.1f}  {reason}")
        return "\n".join(lines)

    def timing_line(self) -> str:
        summed = ", ".join(f"{k} {v:.1f}s" for k, v in self.stages.items() if k != "wall")
        reused = (f"; {len(self.reused)} unchanged submission(s) not graded again (--force "
                  "regrades)" if self.reused else "")
        return (f"stages (summed over submissions): {summed}; wall "
                f"{self.stages.get('wall', 0):.1f}s{reused}")


def fingerprint(notebook: Path, spec) -> str:
    """What a grade depends on: the notebook's bytes, the spec, the backend (and, through the
    workspace, the grading seed). Same fingerprint, same grade: no need to grade again."""
    digest = hashlib.sha256()
    digest.update(Path(notebook).read_bytes() if Path(notebook).exists() else b"")
    digest.update(json.dumps(spec.raw, sort_keys=True).encode())
    digest.update(runtime.backend_name().encode())
    return digest.hexdigest()


def grade(ws: Workspace, assignment: str, *, students: list[str] | None = None,
          progress: bool = True, pool=None, force: bool = False,
          settings: CourseGrading | None = None) -> Report:
    """Grade every submission of ``assignment`` (or only ``students``) in ``ws``; each one is
    saved and recorded in the gradebook as soon as its checks are scored. A submission already
    graded and recorded with the same fingerprint is not graded again unless ``force``. Where
    the sandbox is weak it warns, or refuses when isolation is required. ``settings``: default,
    the course's ``nbgrader_config.py``."""
    settings = settings or settings_from(ws.root)
    runner.use_settings(settings)
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
    seed = ws.grading_seed
    prints = {s: fingerprint(ws.submitted(assignment, s), spec) + f":{seed}" for s in chosen}
    recorded = {"seconds": 0.0}
    unrecorded: dict[str, str] = {}

    def record(graded: pipeline.Graded) -> None:
        t0 = time.perf_counter()
        saved = {**graded.to_json(), "fingerprint": prints[graded.student], "recorded": False}
        ws.save_result(assignment, graded.student, saved)
        try:
            ws.autograde(assignment, graded.student)
        except Exception as err:  # nbgrader refused this one notebook; the batch goes on
            unrecorded[graded.student] = str(err).strip().splitlines()[-1][:200]
            why = graded.export.error or ("nbgrader could not grade this notebook (were its "
                                          "test or solution cells changed?); re-download the "
                                          "release and copy your code into it")
            graded.checks = [chk.CheckResult(c.grade_id, 0.0, c.max_points, why)
                             for c in graded.checks]
            saved = {**graded.to_json(), "fingerprint": saved["fingerprint"]}
            try:
                ws.record_zero(assignment, graded.student)
            except Exception as again:  # noqa: BLE001  (reported in the table, batch goes on)
                unrecorded[graded.student] += f"; and no zero either: {again}"[:200]
        ws.save_result(assignment, graded.student, {**saved, "recorded": True})
        recorded["seconds"] += time.perf_counter() - t0

    reused: dict[str, pipeline.Graded] = {}
    for student in chosen:
        previous = None if force else ws.load_result(assignment, student)
        if previous and previous.get("fingerprint") == prints[student]:
            reused[student] = pipeline.Graded.from_json(previous)
            if not previous.get("recorded"):  # interrupted between saving and recording
                record(reused[student])
    todo = [s for s in chosen if s not in reused]
    if todo:
        check_isolation(settings.require_isolation)
    run = pipeline.grade(spec, {s: ws.submitted(assignment, s) for s in todo},
                         course_dir=ws.root, progress=progress, pool=pool, settings=settings,
                         grading_seed=seed, on_graded=record) if todo else None
    graded = {s: reused[s] if s in reused else run.graded[s] for s in chosen}
    stages = {**(run.stages if run else {}), "gradebook": round(recorded["seconds"], 3)}
    return Report(assignment, graded, stages, unrecorded, sorted(reused))
