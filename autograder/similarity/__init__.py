"""``course similarity``: which submissions of one assignment share code, architecture or wrong
answers, as evidence for a person (it accuses no one and changes no grade).

Stages, one module each: :mod:`.submissions` reads the notebooks and the exports grading saved
(never running student code), :mod:`.code` fingerprints code (winnowing), :mod:`.graph` and
:mod:`.architecture` canonicalise and compare models, :mod:`.values` finds shared wrong answers,
:mod:`.scoring` combines and flags relative to the batch, :mod:`.report` writes the HTML page and
``similarity.csv``; :mod:`.compare` runs them in order.
"""
from __future__ import annotations

from pathlib import Path


def default_out(course_dir: Path, assignment: str) -> Path:
    return Path(course_dir) / "similarity" / assignment


def run(course_dir: Path, assignment: str, out: Path | None = None):
    """Compare every submission of ``assignment`` in ``course_dir``; write the report into
    ``out`` (default: ``<course-dir>/similarity/<id>/``). Returns (html path, csv path,
    comparison)."""
    from ..gradebook.workspace import Workspace
    from . import compare, report, submissions

    ws = Workspace(course_dir)
    comparison = compare.compare(submissions.load(ws, assignment))
    page, table = report.write(comparison, out or default_out(ws.root, assignment))
    return page, table, comparison
