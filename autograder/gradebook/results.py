"""Where grading results live between ``course grade`` and nbgrader's autograde step (a module
of its own: the workspace writes them, :mod:`autograder.gradebook.fill_grades` reads them, and
neither imports the other)."""
from __future__ import annotations

from pathlib import Path


def result_path(results_dir: Path, assignment: str, student: str) -> Path:
    """Where one student's grading result lives (written by ``course grade``, read by
    :class:`~autograder.gradebook.fill_grades.FillGrades`)."""
    return Path(results_dir) / assignment / f"{student}.json"
