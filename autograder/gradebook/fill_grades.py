"""An nbgrader preprocessor that stands in for ``Execute`` during ``course grade``.

Instead of running the student's notebook in nbgrader's kernel (the student's own process), it
writes the results that the sandbox and the trusted trainer produced into the notebook: each
grade cell gets the check's message, its plots, and its score as the cell's value (nbgrader's
partial credit); solution cells get what they printed or raised in the sandbox. nbgrader's own
``SaveAutoGrades`` then records the scores in the gradebook as usual.
"""
from __future__ import annotations

import json
from pathlib import Path

from nbformat.v4 import new_markdown_cell, new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ..sandbox import isolation
from .results import result_path


def _grade_outputs(check: dict) -> list:
    outputs = [new_output("stream", name="stdout", text=check["message"] + "\n")]
    for title, png in check.get("figures", {}).items():
        outputs.append(new_output("display_data", data={"image/png": png, "text/plain": title}))
    outputs.append(new_output("execute_result", data={"text/plain": repr(check["points"])},
                              execution_count=None))
    return outputs


def _cell_outputs(report: dict) -> list:
    outputs = []
    if report.get("skipped"):
        outputs.append(new_output("stream", name="stdout", text="(skipped when grading: "
                                  + "; ".join(report["skipped"]) + ")\n"))
    if report.get("output"):
        outputs.append(new_output("stream", name="stdout", text=report["output"]))
    if report.get("error"):
        last = report["error"].strip().splitlines()[-1]
        name, _, value = last.partition(": ")
        outputs.append(new_output("error", ename=name, evalue=value,
                                  traceback=report["error"].splitlines()))
    return outputs


class FillGrades(NbGraderPreprocessor):
    """Write precomputed grading results into the notebook's cells."""

    results_dir = Unicode("", help="Folder of <assignment>/<student>.json results "
                                   "written by `course grade`").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        path = result_path(Path(self.results_dir), info["assignment"], info["student"])
        if not path.exists():
            raise FileNotFoundError(f"no grading results at {path}: run `course grade "
                                    f"{info['assignment']}` (it writes them) before autograde")
        results = json.loads(path.read_text())
        checks = {c["grade_id"]: c for c in results["checks"]}
        reports = {r["grade_id"]: r for r in results.get("cells", []) if r.get("grade_id")}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                continue
            grade_id = meta.get("grade_id")
            if meta.get("grade") and not meta.get("solution"):
                if grade_id in checks:
                    cell.outputs = _grade_outputs(checks[grade_id])
                else:
                    cell.outputs = [new_output("error", ename="NotGraded", traceback=[],
                                               evalue=f"no check named {grade_id} in the spec")]
            elif grade_id in reports:
                cell.outputs = _cell_outputs(reports[grade_id])
        if results.get("sandbox_error"):
            nb.cells.insert(0, _banner(results["sandbox_error"]))
        if results.get("isolation"):
            nb.cells.append(new_markdown_cell(isolation.feedback_line(results["isolation"])))
        return nb, resources


def _banner(message: str):
    return new_markdown_cell(f"**Grading note:** {message}")
