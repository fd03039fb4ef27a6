"""``course demo``: release -> submissions -> grade -> feedback -> CSV, in a fresh workspace.

The submissions are the reference solution and the common mistakes kept in
``autograder/fixtures/<assignment>/``, written into copies of the released notebook exactly as a
student would hand them in.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from . import fixtures, grading, notebooks
from .workspace import Workspace

DEMO_STUDENTS = {  # student id -> fixture ("reference" = the solutions/ code)
    "cnn": {"alice": "reference", "bob": "dense_only", "carol": "bottleneck", "dave": "raises",
            "erin": "not_compiled", "frank": "lambda_layer"},
}


def reference_code(assignment: str, grade_id: str) -> str:
    """The solution cell's code with nbgrader's markers removed (what a top student writes)."""
    nb = notebooks.build(assignment)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return "\n".join(line for line in cell.source.splitlines()
                             if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
    raise KeyError(f"{assignment} has no solution cell {grade_id!r}")


def solution_cells(assignment: str, fixture: str) -> dict[str, str]:
    """{grade id: code} for a fixture (each assignment here has one solution cell per builder)."""
    nb = notebooks.build(assignment)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
           if c.metadata.get("nbgrader", {}).get("solution")]
    if fixture == "reference":
        return {gid: reference_code(assignment, gid) for gid in ids}
    return {ids[0]: fixtures.code(assignment, fixture)}


def make_submissions(ws: Workspace, assignment: str, students: dict[str, str]) -> list[Path]:
    return [fixtures.write_submission(ws.release_nb(assignment),
                                      ws.submitted(assignment, student),
                                      solution_cells(assignment, fixture))
            for student, fixture in students.items()]


def run(course_dir: Path, assignment: str = "cnn", *, progress: bool = True, out=print) -> dict:
    """Run the whole demo; returns paths and the grading report."""
    start = time.perf_counter()
    course_dir = Path(course_dir)
    if course_dir.exists():
        shutil.rmtree(course_dir)
    ws = Workspace(course_dir)
    out(f"[1/5] release {assignment} -> {ws.release(assignment)}")
    students = DEMO_STUDENTS[assignment]
    make_submissions(ws, assignment, students)
    out(f"[2/5] {len(students)} submissions under {ws.root / 'submitted'}: "
        + ", ".join(f"{s} ({f})" for s, f in students.items()))
    out("[3/5] grade (sandbox -> trusted training -> gradebook)")
    report = grading.grade(ws, assignment, progress=progress)
    out(f"[4/5] feedback")
    pages = ws.feedback(assignment)
    csv_path = ws.export_csv()
    out(f"[5/5] export -> {csv_path}\n")
    out(report.table())
    device = next((g.device for g in report.graded.values() if g.device), "unknown")
    isolation = next(iter(report.graded.values())).export.isolation
    out(f"\ntrained on: {device}; sandbox isolation: {isolation}")
    out(report.timing_line() + f"; total {time.perf_counter() - start:.1f}s")
    out(f"grades CSV: {csv_path}")
    out("feedback pages:\n" + "\n".join(f"  {p}" for p in pages))
    return {"report": report, "csv": csv_path, "feedback": pages, "workspace": ws}
