"""A course directory in nbgrader's layout, and the instructor's steps on it.

``release`` writes the source notebook from the assignment text and runs nbgrader's
``generate_assignment``; ``grade`` runs the sandbox/trainer pipeline and then nbgrader's
``Autograde`` with :class:`~autograder.gradebook.fill_grades.FillGrades` in place of ``Execute``;
``feedback`` and ``export_csv`` are nbgrader's own. An ``nbgrader_config.py`` is written too, so
that plain ``nbgrader autograde`` in the same directory still grades (by executing notebooks).
"""
from __future__ import annotations

import csv
import io
import json
import logging
import os
import secrets
import sys
from contextlib import redirect_stderr
from dataclasses import dataclass
from pathlib import Path

from ..settings import CONFIG
from . import notebooks
from .results import result_path

COURSE_ID = "keras-course"
DEFAULT_DIR = Path("build") / "course"
QUIET = r"(?i)(warning|absl::|onednn|cpu_feature_guard|^[IWE]0000)"  # benign stderr noise
CONFIG_FILE = f'''# Written by `course`; plain `nbgrader` commands in this folder use it.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{COURSE_ID}"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
# `nbgrader autograde` executes notebooks; the graded cell trains a model, so allow time.
c.ExecutePreprocessor.timeout = 900
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"{QUIET}"
'''


def _tools_on_path() -> None:
    """nbgrader runs the `alembic` command; find it beside this Python (an unactivated venv)."""
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


class WorkspaceError(RuntimeError):
    """An instructor step failed; the message says which and what to do."""


@dataclass
class Workspace:
    root: Path

    def __post_init__(self):
        self.root = Path(self.root).resolve()

    # -- layout ---------------------------------------------------------------------------
    def source(self, assignment: str) -> Path:
        return self.root / "source" / assignment / f"{assignment}.ipynb"

    def release_nb(self, assignment: str) -> Path:
        return self.root / "release" / assignment / f"{assignment}.ipynb"

    def submitted(self, assignment: str, student: str) -> Path:
        return self.root / "submitted" / student / assignment / f"{assignment}.ipynb"

    def feedback_html(self, assignment: str, student: str) -> Path:
        return self.root / "feedback" / student / assignment / f"{assignment}.html"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    @property
    def results_dir(self) -> Path:
        return self.root / "grading"

    @property
    def grading_seed(self) -> int:
        """The course's secret seed for grading-time inputs, made once and kept in the course
        directory (which the sandbox never sees)."""
        path = self.root / "grading_seed"
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{secrets.randbelow(2**31)}\n")
        try:
            return int(path.read_text().strip())
        except ValueError:
            raise WorkspaceError(f"{path} should hold one integer; delete it to make a new "
                                 "seed (grades of values checks may change)") from None

    def result_path(self, assignment: str, student: str) -> Path:
        return result_path(self.results_dir, assignment, student)

    def save_result(self, assignment: str, student: str, result: dict) -> Path:
        """Write one student's grading result atomically (a kill leaves the old file or the
        new one, never half of one)."""
        path = self.result_path(assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(result, indent=1))
        os.replace(tmp, path)
        return path

    def load_result(self, assignment: str, student: str) -> dict | None:
        """The saved result, or None when there is none or it cannot be read."""
        try:
            return json.loads(self.result_path(assignment, student).read_text())
        except (OSError, ValueError):
            return None

    def students(self, assignment: str) -> list[str]:
        base = self.root / "submitted"
        if not base.exists():
            return []
        return sorted(p.name for p in base.iterdir()
                      if (p / assignment / f"{assignment}.ipynb").exists())

    # -- nbgrader -------------------------------------------------------------------------
    def init(self) -> None:
        """The course directory, with an ``nbgrader_config.py`` unless it has one (the
        instructor's settings in it, nbgrader's and ``c.CourseGrading``'s, are kept)."""
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / CONFIG
        if not config.exists():
            config.write_text(CONFIG_FILE)

    def _api(self, **extra):
        from nbgrader.apps import NbGraderAPI
        from traitlets.config import Config

        cfg = Config()
        cfg.CourseDirectory.root = str(self.root)
        cfg.CourseDirectory.course_id = COURSE_ID
        cfg.CourseDirectory.db_url = self.db_url
        cfg.IgnorePattern.enabled = True
        cfg.IgnorePattern.pattern = QUIET
        for section, values in extra.items():
            for key, value in values.items():
                setattr(getattr(cfg, section), key, value)
        logging.getLogger("traitlets").setLevel(logging.ERROR)
        _tools_on_path()
        with redirect_stderr(io.StringIO()):
            return NbGraderAPI(config=cfg)

    @staticmethod
    def _check(result: dict, step: str) -> None:
        if not result.get("success"):
            raise WorkspaceError(f"nbgrader {step} failed:\n{result.get('error') or result.get('log')}")

    def release(self, assignment: str) -> Path:
        """Source notebook from the assignment text, then the student version in release/."""
        self.init()
        notebooks.write(assignment, self.source(assignment).parent)
        self._check(self._api().generate_assignment(assignment, force=True, create=True),
                    f"generate_assignment {assignment}")
        return self.release_nb(assignment)

    def require_release(self, assignment: str) -> None:
        if not self.release_nb(assignment).exists():
            raise WorkspaceError(f"{assignment} is not released in {self.root}: run "
                                 f"`course release {assignment} --course-dir {self.root}` first")

    def autograde(self, assignment: str, student: str) -> None:
        """nbgrader's Autograde with FillGrades instead of Execute (results must exist)."""
        from nbconvert.preprocessors import ClearMetadataPreprocessor
        from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata,
                                            IgnorePattern, LimitOutput, SaveAutoGrades)

        from .fill_grades import FillGrades

        api = self._api(
            Autograde={"autograde_preprocessors": [
                FillGrades, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]},
            FillGrades={"results_dir": str(self.results_dir)},
            LimitOutput={"max_lines": 2000},
        )
        self._check(api.autograde(assignment, student, force=True, create=True),
                    f"autograde {assignment} for {student}")

    def record_zero(self, assignment: str, student: str) -> None:
        """Zero points in every grade cell, straight in the gradebook: for a notebook nbgrader
        cannot read (truncated, binary), so the student still has a grade, and its reason."""
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.db_url, COURSE_ID) as gb:
            gb.update_or_create_student(student)
            try:
                gb.remove_submission(assignment, student)
            except MissingEntry:
                pass
            submission = gb.add_submission(assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score = 0.0
            gb.db.commit()

    def feedback(self, assignment: str, student: str | None = None) -> list[Path]:
        self._check(self._api().generate_feedback(assignment, student, force=True),
                    f"generate_feedback {assignment}")
        students = [student] if student else self.students(assignment)
        return [self.feedback_html(assignment, s) for s in students
                if self.feedback_html(assignment, s).exists()]

    def export_csv(self, dest: Path | None = None) -> Path:
        """nbgrader's grade export, as CSV (one row per student and assignment)."""
        from nbgrader.api import Gradebook
        from nbgrader.plugins import CsvExportPlugin

        dest = Path(dest) if dest else self.root / "grades.csv"
        plugin = CsvExportPlugin()
        plugin.to = str(dest)

        with Gradebook(self.db_url, COURSE_ID) as gb:
            plugin.export(gb)
        return dest


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))
