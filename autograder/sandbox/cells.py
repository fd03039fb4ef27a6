"""Which code of a submitted notebook the sandbox runs.

Read from the notebook JSON (no nbformat needed, so this also works on bare GPU machines). Test
cells (nbgrader grade cells that are not solution cells) are never run: the trusted side computes
every check itself. Cells tagged ``skip-grading`` (exploration, plots, local training) are not
run either. IPython magics and shell lines are skipped, with a note.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MAX_NOTEBOOK_BYTES = 20_000_000


@dataclass(frozen=True)
class CodeCell:
    index: int  # position among the notebook's cells
    source: str
    grade_id: str | None  # nbgrader id, when the cell has one
    skipped: tuple[str, ...] = ()  # magic/shell lines left out


class NotebookError(ValueError):
    """The submitted file is not a readable notebook."""


def read_notebook(path: Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise NotebookError(f"no notebook at {path}: expected the submitted .ipynb file there")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path.name} is {path.stat().st_size:,} bytes; the limit is "
                            f"{MAX_NOTEBOOK_BYTES:,}. Clear large outputs and resubmit.")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise NotebookError(f"{path.name} is not a valid notebook (JSON error: {err}); "
                            "re-download the release and copy your code into it") from err
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path.name} has no list of cells; it is not a Jupyter notebook")
    return nb


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _nbgrader(cell: dict) -> dict:
    meta = cell.get("metadata", {})
    return meta.get("nbgrader", {}) if isinstance(meta, dict) else {}


SKIP_TAG = "skip-grading"  # a Jupyter cell tag: exploration the grader need not run


def is_skipped(cell: dict) -> bool:
    meta = cell.get("metadata", {})
    return isinstance(meta, dict) and SKIP_TAG in (meta.get("tags") or [])


def is_test_cell(cell: dict) -> bool:
    nb = _nbgrader(cell)
    return bool(nb.get("grade")) and not nb.get("solution")


def test_cell_ids(nb: dict) -> list[str]:
    """The nbgrader ids of the notebook's test cells (a deleted one is a tampered check)."""
    return [str(_nbgrader(c).get("grade_id")) for c in nb["cells"]
            if isinstance(c, dict) and is_test_cell(c)]


def code_cells(nb: dict) -> list[CodeCell]:
    """The cells the sandbox executes, in order."""
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code" or is_test_cell(cell) \
                or is_skipped(cell):
            continue
        kept, skipped = [], []
        for line in _source(cell).splitlines():
            if line.lstrip().startswith(("%", "!")):
                skipped.append(line.strip())
                kept.append("")  # keep line numbers stable for tracebacks
            else:
                kept.append(line)
        cells.append(CodeCell(i, "\n".join(kept), _nbgrader(cell).get("grade_id"), tuple(skipped)))
    return cells
