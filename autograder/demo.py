"""``course demo``: release -> submissions -> grade -> feedback -> CSV, in a fresh workspace.

The submissions are the reference solution and the common mistakes kept in
``autograder/fixtures/<assignment>/``, written into copies of the released notebook exactly as a
student would hand them in.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import nbformat

from . import fixtures, grading, notebooks
from .workspace import Workspace

DEMO_STUDENTS = {  # student id -> fixture ("reference" = the solutions/ code)
    "cnn": {"alice": "reference", "bob": "dense_only", "carol": "bottleneck", "dave": "raises",
            "erin": "not_compiled", "frank": "lambda_layer"},
}


MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def solution_cells(source, assignment: str, fixture: str) -> dict[str, str]:
    """{grade id: code} that a student with ``fixture`` puts in the solution cells of the
    ``source`` notebook ("reference": the solution code with nbgrader's markers removed)."""
    cells = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in source["cells"]
             if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    if fixture == "reference":
        return {gid: "\n".join(line for line in code.splitlines()
                               if not any(m in line for m in MARKERS))
                for gid, code in cells.items()}
    return {next(iter(cells)): fixtures.code(assignment, fixture)}


def reference_code(assignment: str, grade_id: str) -> str:
    """What a top student writes in solution cell ``grade_id``."""
    return solution_cells(notebooks.build(assignment), assignment, "reference")[grade_id]


def submissions(assignment: str, students: dict[str, str], release: dict | None = None
                ) -> dict[str, dict]:
    """{student: submitted notebook JSON} for {student: fixture}, made from ``release`` (the
    released notebook's JSON; default: the source notebook, whose test cells the sandbox skips)."""
    source = notebooks.build(assignment)
    release = release if release is not None else json.loads(nbformat.writes(source))
    return {student: fixtures.submission_notebook(release,
                                                  solution_cells(source, assignment, fixture))
            for student, fixture in students.items()}


def make_submissions(ws: Workspace, assignment: str, students: dict[str, str]) -> list[Path]:
    release = json.loads(ws.release_nb(assignment).read_text())
    paths = []
    for student, nb in submissions(assignment, students, release).items():
        path = ws.submitted(assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(nb, indent=1))
        paths.append(path)
    return paths


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
    out("[4/5] feedback")
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
