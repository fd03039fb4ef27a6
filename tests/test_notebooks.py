import re

import pytest

from autograder.gradebook import notebooks
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
                       match=r"\{\{cnn\.epoch\}\} names nothing.*tasks: conv, pool, cnn"):
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


# The pinned contract (design.md): the parameters a stub shows, and nothing of the reference's
PINNED = {"perceptron_fit": ["X", "y", "epochs", "learning_rate"],
          "build_perceptron": ["input_dim"], "build_mlp": ["input_dim"],
          "build_cnn": ["input_shape", "num_classes"],
          "build_rnn": ["input_shape", "num_classes"],
          "scaled_dot_product_attention": ["query", "key", "value", "mask"],
          "build_transformer": ["seq_len", "vocab_size", "num_classes"],
          "build_generator": ["latent_dim", "image_shape"],
          "build_discriminator": ["image_shape"],
          # the from-scratch functions of issue 20
          "mlp_backward": ["X", "y", "W1", "b1", "W2", "b2"],
          "conv2d_forward": ["x", "kernel", "bias", "stride", "padding"],
          "max_pool2d": ["x", "pool_size", "stride"],
          "lstm_forward": ["x", "kernel", "recurrent_kernel", "bias"],
          "discriminator_loss": ["real_logits", "fake_logits"],
          "generator_loss": ["fake_logits"]}


def _released(assignment: str):
    """The notebook as nbgrader releases it (solution regions cleared)."""
    from nbgrader.preprocessors import ClearSolutions

    nb, _ = ClearSolutions().preprocess(notebooks.build(assignment), {})
    return nb


def _sentences(text: str) -> list[str]:
    words = " ".join(text.split())
    return [s.strip() for s in re.split(r"(?<=[.;:])\s", words) if len(s.split()) >= 5]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_stubs_state_the_contract_not_the_reference(assignment):
    """A stub shows the pinned parameters and a contract docstring: none of the reference's
    keyword arguments, default values or docstring sentences reach a student."""
    import ast
    import importlib

    nb = _released(assignment)
    everything = " ".join(" ".join(c.source.split()) for c in nb.cells)
    stubs = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert stubs
    for cell in stubs:
        node = ast.parse(cell.source).body[0]
        reference = getattr(importlib.import_module(f"solutions.{assignment}"), node.name)
        shown = [a.arg for a in node.args.args + node.args.kwonlyargs]
        assert shown == PINNED[node.name], (node.name, shown)
        assert ast.get_docstring(node), f"{node.name}: the stub states its contract"
        _, ref = notebooks._reference(f"solutions.{assignment}:{node.name}")
        for arg, default in zip(ref.args.kwonlyargs, ref.args.kw_defaults):
            assert f"{arg.arg}=" not in cell.source, (node.name, arg.arg)
            assert ast.unparse(default) not in ast.unparse(node.args), (node.name, arg.arg)
        for sentence in _sentences(reference.__doc__ or ""):
            assert sentence not in everything, (node.name, sentence)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_notebook_states_the_graders_budget_and_names_course_preview(assignment):
    """A student who sees a poor "Try it" run can tell it is not the grade, and can run the
    grading before handing in."""
    from autograder.gradebook import handin

    spec = specs.load(assignment)
    cells = [c.source for c in notebooks.build(assignment).cells
             if c.source.startswith(handin.HEADING)]
    assert len(cells) == 1
    text = cells[0]
    assert f"course preview {spec.notebook}.ipynb" in text and "not the grade" in text
    for task in spec.tasks.values():
        bullet = next(line for line in text.splitlines() if f"`{task.function}`" in line)
        for field in ("epochs", "steps", "patience", "batch_size", "max_seconds"):
            if field in task.budget:
                assert f"{task.budget[field]:g}" in bullet, (task.name, field, bullet)


def test_a_stub_that_does_not_fit_the_reference_is_refused():
    with pytest.raises(notebooks.SourceError, match=r"missing: \['num_classes'\]"):
        notebooks.solution_source("solutions.cnn:build_cnn",
                                  'def build_cnn(input_shape):\n    """Contract."""\n')
    with pytest.raises(notebooks.SourceError, match="only `def build_cnn"):
        notebooks.solution_source("solutions.cnn:build_cnn",
                                  'def build_cnn(input_shape, num_classes):\n    return 1\n')


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_notebook_has_the_rules_written_from_the_allow_list_and_the_spec(assignment):
    """One rules section, before the first model builder, with the accepted blocks, every
    refused layer and each model's caps as the grader applies them."""
    from autograder.trusted import allowlist
    from autograder.gradebook import rules

    spec = specs.load(assignment)
    nb = notebooks.build(assignment)
    found = [i for i, c in enumerate(nb.cells) if c.source.startswith(rules.HEADING)]
    assert len(found) == 1, found
    text = nb.cells[found[0]].source
    assert text == rules.markdown(spec)
    for name in [*allowlist.REFUSED_LAYERS, *allowlist.KERAS_HUB, *allowlist.COURSE_LAYERS]:
        assert f"`{name}`" in text or f"`course.layers.{name}`" in text, name
    assert "`x[:, -1]`" in text and "`keras.ops`" in text and "`Masking`" in text
    assert f"at most {allowlist.MAX_NUMBERS:,} numbers" in text
    for task in spec.tasks.values():
        if task.kind in rules.MODEL_KINDS:
            assert f"{task.caps.max_params:,} parameters" in text
            assert f"{task.caps.max_activations:,} layer outputs" in text
    builders = [i for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("build_")]
    assert found[0] < builders[0]  # read before writing the first model


def test_the_rules_follow_the_allow_list(monkeypatch):
    """The text cannot drift: a change to the allow-list is a change to every notebook."""
    from autograder.trusted import allowlist

    monkeypatch.setitem(allowlist.REFUSED_LAYERS, "Conv2D", "is refused this term")
    monkeypatch.setattr(allowlist, "MAX_NUMBERS", 1000)
    text = "\n".join(c.source for c in notebooks.build("cnn").cells)
    assert "`Conv2D` (is refused this term)" in text and "at most 1,000 numbers" in text


def test_a_notebook_without_its_rules_section_is_refused(monkeypatch, tmp_path):
    source = notebooks.source_path("cnn").read_text().replace("# %% [rules]\n", "")
    (tmp_path / "cnn").mkdir()
    (tmp_path / "cnn" / "cnn.py").write_text(source)
    monkeypatch.setattr(notebooks, "source_path", lambda a: tmp_path / a / f"{a}.py")
    with pytest.raises(notebooks.SourceError, match=r"expected one '# %% \[rules\]' cell"):
        notebooks.build("cnn")


def _visible_check(assignment: str, grade_id: str, fixture: str | None) -> None:
    """Run one visible test cell of the released notebook after the submission's cells, as
    the student's kernel does."""
    namespace = run_submission_cells(assignment, fixture)
    cell = next(c for c in notebooks.build(assignment).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    exec(compile(cell.source, f"<{grade_id}>", "exec"), namespace)  # noqa: S102


def test_the_visible_build_check_fails_where_the_grader_would_refuse():
    """A Lambda layer builds in the notebook, but the grader refuses it: the visible check says
    so with the grader's reason, not only the feedback after grading."""
    _visible_check("cnn", "test_cnn_builds", None)  # the reference passes
    with pytest.raises(AssertionError, match="grader cannot rebuild this model.*Lambda layer"):
        _visible_check("cnn", "test_cnn_builds", "lambda_layer")
