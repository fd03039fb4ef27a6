"""What the similarity report reads of each submission: data only, never student code run.

- **Code**: the notebook's solution cells and any cells the student added, read from the
  submitted ``.ipynb`` as text (the released notebook's cells are the boilerplate).
- **Models and values**: what the sandbox exported at grading time, as ``course grade`` saved it
  in ``grading/<id>/<student>.json`` (``"calls"``: each builder's Keras config, each from-scratch
  function's returned values on the grading challenges), and each check's points, which tell a
  right answer from a wrong one. A submission not graded yet (or graded before exports were
  saved) has code only; :func:`load` says which.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..sandbox import cells as nbcells
from ..sandbox import protocol

MODEL_KINDS = ("classifier", "gan")


@dataclass
class Submission:
    student: str
    code: str  # solution cells and added cells, each under a "# --- cell <id> ---" line
    graded: bool = False  # a grading result exists
    exported: bool = False  # ... and it holds the sandbox's exports
    models: dict = field(default_factory=dict)  # builder -> exported Keras config
    model_errors: dict = field(default_factory=dict)  # builder -> why no config
    values: dict = field(default_factory=dict)  # call key ("fn#0") -> decoded value
    full_marks: dict = field(default_factory=dict)  # task -> every check at full points


@dataclass
class Batch:
    assignment: str
    release_code: str
    submissions: list  # Submission, by student id
    model_functions: list  # builders whose models are compared
    value_tasks: dict  # values task -> its function
    notes: list = field(default_factory=list)  # what is missing, for the page


def _is_solution(cell: dict) -> bool:
    meta = cell.get("metadata", {})
    grader = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return bool(grader.get("solution")) or not grader  # a solution cell, or one the student added


def notebook_code(nb: dict, *, only_students: bool = True) -> str:
    """The code a student wrote: solution cells and cells they added (test cells and the
    release's locked cells left out unless ``only_students`` is False)."""
    parts = []
    raw_cells = nb.get("cells", [])
    for cell in nbcells.code_cells(nb):
        raw = raw_cells[cell.index] if cell.index < len(raw_cells) else {}
        if only_students and not _is_solution(raw):
            continue
        parts.append(f"# --- cell {cell.grade_id or cell.index} ---\n{cell.source.rstrip()}\n")
    return "\n".join(parts)


def read_code(path: Path) -> str:
    try:
        return notebook_code(nbcells.read_notebook(path))
    except nbcells.NotebookError:
        return ""


def _decoded(raw):
    try:
        value = protocol.decode(raw)
    except (protocol.DecodeError, RecursionError):
        return None
    return None if isinstance(value, protocol.Unsupported) else value


def from_result(sub: Submission, result: dict | None, spec) -> None:
    """Fill ``sub`` with the exports and check points saved by ``course grade``."""
    if not result:
        return
    sub.graded = True
    calls = result.get("calls")
    if not isinstance(calls, dict):
        return
    sub.exported = True
    for name, task in spec.tasks.items():
        if task.kind in MODEL_KINDS:
            for fn in task.functions:
                exported = calls.get(fn) or {}
                if exported.get("ok") and isinstance(exported.get("config"), dict):
                    sub.models[fn] = exported["config"]
                else:
                    sub.model_errors[fn] = str(exported.get("error", "no export"))[:200]
        elif task.kind == "values":
            for key, exported in calls.items():
                if key.startswith(f"{task.function}#") and isinstance(exported, dict) \
                        and exported.get("ok"):
                    value = _decoded(exported.get("value"))
                    if value is not None:
                        sub.values[key] = value
    points = {c.get("grade_id"): (c.get("points"), c.get("max_points"))
              for c in result.get("checks", []) if isinstance(c, dict)}
    for name in spec.tasks:
        got = [points.get(c.grade_id) for c in spec.checks_of(name)]
        sub.full_marks[name] = bool(got) and all(p is not None and p[0] is not None and
                                                 p[0] >= p[1] for p in got)


def load(ws, assignment: str) -> Batch:
    """Every submission of ``assignment`` in the workspace ``ws``, with its grading exports
    where ``course grade`` saved them."""
    from .. import spec as specs
    from ..gradebook.workspace import WorkspaceError

    spec = specs.load(assignment)
    students = ws.students(assignment)
    if not students:
        raise WorkspaceError(f"no submissions of {assignment} under {ws.root / 'submitted'}: "
                             f"expected submitted/<student>/{assignment}/{assignment}.ipynb")
    release = ws.release_nb(assignment)
    notes = []
    if release.exists():
        release_code = notebook_code(nbcells.read_notebook(release), only_students=False)
    else:
        release_code = ""
        notes.append(f"no released notebook at {release}: the release's own code is not "
                     "excluded, so what it gave everyone counts as shared code")
    subs = []
    for student in students:
        sub = Submission(student, read_code(ws.submitted(assignment, student)))
        from_result(sub, ws.load_result(assignment, student), spec)
        subs.append(sub)
    return Batch(assignment, release_code, subs, *_functions(spec), notes=notes + _missing(subs))


def _functions(spec) -> tuple[list, dict]:
    models = [fn for t in spec.tasks.values() if t.kind in MODEL_KINDS for fn in t.functions]
    values = {name: t.function for name, t in spec.tasks.items() if t.kind == "values"}
    return models, values


def _missing(subs: list) -> list[str]:
    ungraded = [s.student for s in subs if not s.graded]
    old = [s.student for s in subs if s.graded and not s.exported]
    notes = []
    if ungraded:
        notes.append(f"{len(ungraded)} submission(s) not graded yet ({_names(ungraded)}): code "
                     "only; their architectures and values are compared once `course grade` "
                     "has run")
    if old:
        notes.append(f"{len(old)} result file(s) hold no exports ({_names(old)}): graded before "
                     "exports were saved; `course grade --force` saves them")
    return notes


def _names(students: list[str], shown: int = 5) -> str:
    more = f" and {len(students) - shown} more" if len(students) > shown else ""
    return ", ".join(students[:shown]) + more


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
