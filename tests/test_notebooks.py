from autograder import notebooks


def test_source_notebook_matches_the_spec(cnn_spec):
    nb = notebooks.build("cnn")
    graded = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert graded == {c.grade_id: c.points for c in cnn_spec.checks}
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_solution_code_comes_from_solutions_package():
    from solutions import cnn

    code = notebooks.solution_source("solutions.cnn:build_cnn")
    assert code.startswith("def build_cnn(input_shape, num_classes")
    assert "### BEGIN SOLUTION" in code and code.rstrip().endswith("### END SOLUTION")
    assert "GlobalMaxPooling2D" in code and cnn.build_cnn.__doc__.splitlines()[0] in code


def test_sections_in_order():
    nb = notebooks.build("cnn")
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    order = ["## Setup", "## The task", "## Visible checks", "## Try it", "## Graded by training"]
    positions = [next(i for i, h in enumerate(headings) if h.startswith(o)) for o in order]
    assert positions == sorted(positions)
