"""Assignment sources: a plain-text file per assignment becomes an nbgrader source notebook.

The text is diff-friendly and holds no solution code: a ``solution`` cell names a function in
``solutions/`` and its body is copied in between nbgrader's ``### BEGIN/END SOLUTION`` markers.
Test-cell points come from the grading spec, so points are declared once; so do the numbers the
text quotes: ``{{cnn.epochs}}`` is the ``cnn`` task's budget, ``{{cnn.max_params}}`` one of its
caps (also ``max_activations``), ``{{test_cnn_accuracy.threshold}}`` a check's threshold (also
``floor`` and ``points``); markdown and test cells are filled in. A ``rules`` cell becomes the
notebook's "Rules for your models" section, written from the allow-list and the spec
(:mod:`autograder.gradebook.rules`); a ``handin`` cell the section on how grading trains and how
to preview it, written from the spec's budgets (:mod:`autograder.gradebook.handin`).

Cell headers (``# %%`` lines)::

    # %% [markdown]                         markdown; each line starts with "# "
    # %% [setup]                            code the student should not edit (locked)
    # %% [code] tags=skip-grading           an ordinary code cell (optional Jupyter tags)
    # %% [solution] id=build_cnn from=solutions.cnn:build_cnn
    # %% [test] id=test_cnn_builds          a grade cell; points from the spec
    # %% [rules]                            the generated rules section (markdown)
    # %% [handin]                           the generated grading-and-preview section
"""
from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import nbformat

from .. import content
from . import handin, rules
from .. import spec as specs

HEADER = re.compile(r"^# %% \[(markdown|setup|code|solution|test|rules|handin)\](.*)$")
FROM_SPEC = re.compile(r"\{\{(\w+)\.(\w+)\}\}")
CAPS = ("max_params", "max_activations")


class SourceError(ValueError):
    """An assignment's text source is malformed."""


def source_path(assignment: str) -> Path:
    """``assignments/<id>/<id>.py`` in the course content (:mod:`autograder.content`)."""
    folder = content.assignments_dir()
    path = folder / assignment / f"{assignment}.py"
    if not path.exists():
        known = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
        raise SourceError(f"no assignment source at {path}; known: {', '.join(known) or 'none'}")
    return path


def _split(text: str) -> list[tuple[str, dict, str]]:
    cells, kind, attrs, lines = [], None, {}, []
    for line in text.splitlines():
        match = HEADER.match(line)
        if match:
            if kind:
                cells.append((kind, attrs, "\n".join(lines).strip("\n")))
            kind, lines = match.group(1), []
            attrs = dict(kv.split("=", 1) for kv in match.group(2).split())
        elif kind:
            lines.append(line)
    if kind:
        cells.append((kind, attrs, "\n".join(lines).strip("\n")))
    return cells


def _reference(target: str) -> tuple[str, ast.FunctionDef]:
    """The source file and the function node that ``module:function`` names (read, not
    imported: no Keras start-up)."""
    module_name, func_name = target.split(":")
    if module_name.split(".")[0] == "solutions":
        content.import_solutions()  # the content folder's reference package
    found = importlib.util.find_spec(module_name)
    if found is None or not found.origin:
        raise SourceError(f"{target}: module {module_name} not found")
    source = Path(found.origin).read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == func_name:
            return source, node
    raise SourceError(f"{target}: no function {func_name} in {module_name}")


def _body_start(node: ast.FunctionDef) -> int:
    """Index (0-based line) where the body starts, after any docstring."""
    first = node.body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None),
                                                         ast.Constant)
    return (node.body[1] if has_doc and len(node.body) > 1 else first).lineno - 1


def _parameters(node: ast.FunctionDef) -> list[tuple[str, ast.expr | None]]:
    """(name, default or None) of every parameter, positional then keyword-only."""
    args = node.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    return ([(a.arg, d) for a, d in zip(positional, defaults)]
            + [(a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults)])


def _stub(target: str, text: str, reference: ast.FunctionDef) -> tuple[list[str], list[str]]:
    """The released part of a solution cell written in the source text (its ``def`` line and
    docstring: the contract), and the assignments that give the reference's other parameters
    their defaults inside the solution."""
    try:
        nodes = ast.parse(text).body
    except SyntaxError as err:
        raise SourceError(f"{target}: the stub in the source text does not parse: {err}") from None
    node = nodes[0] if len(nodes) == 1 and isinstance(nodes[0], ast.FunctionDef) else None
    docstring_only = node is not None and len(node.body) == 1 and ast.get_docstring(node)
    if not docstring_only or node.name != reference.name:
        raise SourceError(f"{target}: a solution cell's text should be only `def "
                          f"{reference.name}(...):` and its docstring (the contract students "
                          "see); the code comes from the reference")
    ours = dict(_parameters(reference))
    stub = [name for name, _ in _parameters(node)]
    unknown = [name for name in stub if name not in ours]
    missing = [name for name, default in ours.items() if name not in stub and default is None]
    if unknown or missing:
        raise SourceError(f"{target}: the stub's parameters {stub} do not fit the reference's "
                          f"{list(ours)}: expected every stub parameter in the reference "
                          f"(unknown: {unknown}) and every reference parameter without a default "
                          f"in the stub (missing: {missing})")
    indent = " " * reference.body[0].col_offset
    defaults = [f"{indent}{name} = {ast.unparse(default)}" for name, default in ours.items()
                if name not in stub]
    return text.strip("\n").splitlines(), defaults


def solution_source(target: str, stub: str = "") -> str:
    """A function's source with its body wrapped in nbgrader's solution markers.

    With ``stub`` (a ``def`` line and docstring written in the assignment's text), the stub is
    what a release shows: the pinned parameters and the contract, none of the reference's own
    keyword arguments or design; their defaults become the first lines of the solution."""
    source, node = _reference(target)
    lines = source.splitlines()
    body_start = _body_start(node)
    head, defaults = lines[node.lineno - 1:body_start], []
    if stub.strip():
        head, defaults = _stub(target, stub, node)
    indent = " " * node.body[0].col_offset
    return "\n".join(head + [f"{indent}### BEGIN SOLUTION"] + defaults
                     + lines[body_start:node.end_lineno] + [f"{indent}### END SOLUTION"])


def _from_spec(text: str, spec) -> str:
    """``text`` with every ``{{name.field}}`` replaced by that task's budget entry or cap
    (``max_params``, ``max_activations``) or that check's ``threshold``/``floor``/``points``."""
    def value(match: re.Match) -> str:
        name, field = match.groups()
        if name in spec.tasks and field in spec.tasks[name].budget:
            found = spec.tasks[name].budget[field]
        elif name in spec.tasks and field in CAPS:
            found = getattr(spec.tasks[name].caps, field)
        elif name in {c.grade_id for c in spec.checks} and field in ("threshold", "floor",
                                                                     "points"):
            found = getattr(spec.check(name), field)
        else:
            raise SourceError(f"{spec.assignment}: {match.group(0)} names nothing in the "
                              f"spec; expected {{{{TASK.BUDGET_FIELD}}}} (tasks: "
                              f"{', '.join(spec.tasks)}; or {{{{TASK.max_params|"
                              "max_activations}}) or {{CHECK_ID.threshold|floor|points}}")
        if isinstance(found, int) and not isinstance(found, bool):
            return str(found)  # whole numbers as written: test cells use them as code
        return f"{found:g}" if isinstance(found, float) else str(found)

    return FROM_SPEC.sub(value, text)


def _markdown(body: str) -> str:
    return "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                     for line in body.splitlines())


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def build(assignment: str) -> nbformat.NotebookNode:
    """The nbgrader source notebook for ``assignment``."""
    spec = specs.load(assignment)
    nb = nbformat.v4.new_notebook()
    nb.metadata.update({"kernelspec": {"display_name": "Python 3", "language": "python",
                                       "name": "python3"},
                        "language_info": {"name": "python"}})
    seen_tests = set()
    for i, (kind, attrs, body) in enumerate(_split(source_path(assignment).read_text())):
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(_from_spec(_markdown(body), spec)))
        elif kind == "rules":
            nb.cells.append(nbformat.v4.new_markdown_cell(rules.markdown(spec)))
        elif kind == "handin":
            nb.cells.append(nbformat.v4.new_markdown_cell(handin.markdown(spec)))
        elif kind == "code":
            cell = nbformat.v4.new_code_cell(body)
            if attrs.get("tags"):
                cell.metadata["tags"] = attrs["tags"].split(",")
            nb.cells.append(cell)
        elif kind == "setup":
            cell = nbformat.v4.new_code_cell(body)
            cell.metadata.update(_meta(attrs.get("id", f"setup_{i}"), locked=True))
            nb.cells.append(cell)
        elif kind == "solution":
            code = solution_source(attrs["from"], body) if "from" in attrs else body
            cell = nbformat.v4.new_code_cell(code)
            cell.metadata.update(_meta(attrs["id"], solution=True))
            nb.cells.append(cell)
        else:  # test
            check = spec.check(attrs["id"])
            seen_tests.add(check.grade_id)
            cell = nbformat.v4.new_code_cell(_from_spec(body, spec))
            cell.metadata.update(_meta(check.grade_id, grade=True, locked=True,
                                       points=check.points))
            nb.cells.append(cell)
    has_models = any(t.kind in rules.MODEL_KINDS for t in spec.tasks.values())
    n_rules = sum(c.source.startswith(rules.HEADING) for c in nb.cells)
    if has_models and n_rules != 1:
        raise SourceError(f"{assignment}: expected one '# %% [rules]' cell (the generated rules "
                          f"for students' models), found {n_rules}; put one before the first "
                          "model builder's solution cell")
    n_handin = sum(c.source.startswith(handin.HEADING) for c in nb.cells)
    if n_handin != 1:
        raise SourceError(f"{assignment}: expected one '# %% [handin]' cell (how grading trains "
                          f"and how to preview it), found {n_handin}; put one before the last "
                          "graded section")
    missing = {c.grade_id for c in spec.checks} - seen_tests
    if missing:
        raise SourceError(f"{assignment}: the spec scores {sorted(missing)} but the notebook has "
                          "no test cell with that id; add '# %% [test] id=...' cells")
    return nb


def write(assignment: str, dest_dir: Path) -> Path:
    """Write the source notebook to ``dest_dir/<assignment>.ipynb``."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / f"{assignment}.ipynb"
    nbformat.write(build(assignment), path)
    return path

