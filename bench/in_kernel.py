"""The baseline of ``bench/vs_nbgrader.py``: hidden test cells that train the student's model in
the notebook's own kernel, as a plain nbgrader course does (``from in_kernel import
grade_check`` in place of ``from autograder.inline import grade_check``).

The same calls, job, trainer code and checks as ``course grade``; only where the training runs
differs (here: in the kernel ``nbgrader autograde`` started for this notebook, with the
framework's default threads).
"""
from __future__ import annotations

from autograder import inline
from autograder.trusted import trainer


def _here(job: dict, timeout: float) -> dict:
    return trainer.run(job)


def grade_check(assignment: str, grade_id: str, namespace) -> float:
    return inline.grade_check(assignment, grade_id, namespace, run_job=_here)
