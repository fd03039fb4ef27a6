import pytest

from autograder import notebooks
from autograder import spec as specs
from conftest import run_submission_cells

ASSIGNMENTS = specs.available()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_matches_the_spec(assignment):
    spec = specs.load(assignment)
    nb = notebooks.build(assignment)
    graded = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert graded == {c.grade_id: c.points for c in spec.checks}
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    solutions = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    assert solutions == set(spec.functions)  # one solution cell per pinned function


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_text_quotes_every_threshold_and_floor_from_the_spec(assignment):
    """A student reads the numbers that grade them; a re-calibrated spec changes the text."""
    spec = specs.load(assignment)
    text = "\n".join(c.source for c in notebooks.build(assignment).cells
                     if c.cell_type == "markdown")
    assert "{{" not in text
    for check in spec.checks:
        if check.kind == "metric":
            assert f"{check.threshold:g}" in text and f"{check.floor:g}" in text, check.grade_id


def test_a_placeholder_naming_nothing_in_the_spec_says_what_exists():
    spec = specs.load("cnn")
    assert notebooks._from_spec("up to {{cnn.epochs}} epochs", spec) == \
        f"up to {spec.tasks['cnn'].budget['epochs']} epochs"
    with pytest.raises(notebooks.SourceError,
                       match=r"\{\{cnn\.epoch\}\} names nothing.*tasks: cnn"):
        notebooks._from_spec("{{cnn.epoch}}", spec)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reference_runs_from_the_notebooks_own_cells(assignment):
    """What the sandbox runs of a top student's notebook (setup cell included) defines every
    pinned function, and the builders build: no import the setup cell forgot."""
    import keras

    namespace = run_submission_cells(assignment)
    spec = specs.load(assignment)
    for name, how in spec.functions.items():
        assert callable(namespace.get(name)), name
        if "args" in how:
            args = [tuple(a) if isinstance(a, list) else a for a in how["args"]]
            assert isinstance(namespace[name](*args), keras.Model), name


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_sections_in_order_and_the_lecture_named(assignment):
    nb = notebooks.build(assignment)
    headings = [c.source.splitlines()[0].lstrip("# ") for c in nb.cells
                if c.cell_type == "markdown" and c.source.startswith("#")]
    assert headings[1] == "Setup", headings  # title, then setup, in every assignment
    for section in ("Try it", "Graded"):
        assert any(h.startswith(section) for h in headings), (section, headings)
    assert headings[-1].startswith("Graded"), headings  # the graded check ends the notebook
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "lecture" in text.lower(), "name the lecture that prepares this assignment"


def test_solution_code_comes_from_solutions_package():
    from solutions import cnn

    code = notebooks.solution_source("solutions.cnn:build_cnn")
    assert code.startswith("def build_cnn(input_shape, num_classes")
    assert "### BEGIN SOLUTION" in code and code.rstrip().endswith("### END SOLUTION")
    assert "GlobalMaxPooling2D" in code and cnn.build_cnn.__doc__.splitlines()[0] in code
