"""Course directories for the similarity tests: submitted notebooks made from fixture code, and
grading results whose exports come from running that (trusted, test-owned) code in this process,
as the sandbox would have exported it. No training, no sandbox: seconds."""
from __future__ import annotations

import json
import re
from pathlib import Path

from autograder import fixtures
from autograder import spec as specs
from autograder.gradebook.workspace import Workspace

STYLES = Path(__file__).parent / "styles"
SOLUTION = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.S)


def release(assignment: str) -> dict:
    """The source notebook with its solutions cleared, as nbgrader's release does."""
    nb = fixtures.source_notebook(assignment)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            text = "".join(cell["source"])
            cell["source"] = SOLUTION.sub("# YOUR CODE HERE\nraise NotImplementedError()", text)
    return nb


def fixture_text(assignment: str, name: str) -> str | None:
    """Code of a fixture ("reference", "dense_only", "passing/lenet5") or a style
    ("styles/cnn_sequential_softmax")."""
    if name == "reference":
        return None
    if name.startswith("styles/"):
        return (STYLES / f"{name.split('/', 1)[1]}.py").read_text()
    return fixtures.code(assignment, name)


_REFERENCE: dict[str, dict] = {}


def _namespace(assignment: str, text: str | None) -> dict:
    """The notebook's namespace with the reference in every solution cell (run once per
    assignment: the setup cell loads data), then ``text`` run over it."""
    from autograder.sandbox.cells import code_cells

    if assignment not in _REFERENCE:
        source = fixtures.source_notebook(assignment)
        nb = fixtures.submission_notebook(source, fixtures.cells_with(source, None))
        namespace = {"__name__": "__main__"}
        for cell in code_cells(nb):
            exec(compile(cell.source, f"<{assignment} cell {cell.index}>", "exec"),  # noqa: S102
                 namespace)
        _REFERENCE[assignment] = namespace
    namespace = dict(_REFERENCE[assignment])
    if text is not None:
        exec(compile(text, f"<{assignment} submission>", "exec"), namespace)  # noqa: S102
    return namespace


def exports(assignment: str, text: str | None, seed: int = 1) -> dict:
    """{"calls": ..., "checks": ...} as ``course grade`` saves them (values checks scored by the
    challenge; model checks given full points: the tests compare, they do not grade)."""
    import keras

    from autograder.trusted.kinds import values as values_kind
    from autograder.sandbox import protocol
    from autograder.sandbox.child import export_model

    spec = specs.load(assignment)
    ns = _namespace(assignment, text)
    calls, checks = {}, []
    for name, task in spec.tasks.items():
        full = True
        if task.kind == "values":
            challenge = values_kind.challenge(task)
            made = challenge.make(seed, **task.options["challenge"].get("kwargs", {}))
            outputs = []
            for i, call in enumerate(made):
                value = ns[task.function](*call["args"], **call.get("kwargs", {}))
                calls[f"{task.function}#{i}"] = {"ok": True, "value": protocol.encode(value)}
                outputs.append({"value": protocol.decode(protocol.encode(value)), "error": None})
            scored = challenge.score(seed, outputs, **task.options["challenge"].get("kwargs", {}))
            full = all(scored["metrics"][c.metric] >= c.threshold  # these are higher-is-better
                       for c in spec.checks_of(name) if c.kind == "metric")
        else:
            for fn in task.functions:
                how = spec.functions.get(fn, {})
                keras.utils.set_random_seed(0)
                model = ns[fn](*how.get("args", []), **how.get("kwargs", {}))
                calls[fn] = json.loads(json.dumps(export_model(fn, model)))
        for check in spec.checks_of(name):
            checks.append({"grade_id": check.grade_id, "points": check.points if full else 0.0,
                           "max_points": check.points, "message": ""})
    return {"student": "", "calls": calls, "checks": checks}


def course(tmp: Path, assignment: str, students: dict[str, str | None], *,
           graded: bool = True) -> Workspace:
    """A course directory: the release, one submitted notebook per {student: code text} (None:
    the reference) and, where ``graded``, each one's saved result with its exports."""
    ws = Workspace(tmp)
    rel = release(assignment)
    ws.release_nb(assignment).parent.mkdir(parents=True, exist_ok=True)
    ws.release_nb(assignment).write_text(json.dumps(rel))
    source = fixtures.source_notebook(assignment)
    for student, text in students.items():
        nb = fixtures.submission_notebook(rel, fixtures.cells_with(source, text))
        path = ws.submitted(assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(nb))
        if graded:
            ws.save_result(assignment, student, {**exports(assignment, text), "student": student})
    return ws
