"""Correct models written in other styles than the references earn full marks: Sequential or
functional, layers or keras.ops and operators, logits or softmax, LSTM or GRU, slicing a
tensor, Masking, fixed sine positions from the course layer.

Each file in tests/styles/ is solution-cell code (``<assignment>_<style>.py``), graded alone
through the whole pipeline (sandbox, trusted training on JAX, where fits are fastest), so ``-k``
runs only the styles it names. tests/styles/refused/ holds what the grader refuses on purpose (a Lambda layer, a sine
table written as numbers): they lose the build check with a reason that names what to use
instead, and nothing else of the notebook is harmed.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder import fixtures, pipeline
from autograder import spec as specs
from autograder.trusted.pool import WorkerPool

pytestmark = pytest.mark.slow

STYLES = Path(__file__).with_name("styles")
CASES = sorted(p.stem for p in STYLES.glob("*.py"))
REFUSED = {  # style -> what its one-line reason must name
    "rnn_lambda_last_step": "Lambda layer named 'lambda'",
    "transformer_sine_table_constant": "course.layers.SinePositionEncoding",
}


BACKEND = "jax"  # fits 1.3-2.7x faster than TensorFlow's; the demo trains on TensorFlow


@pytest.fixture(scope="module")
def pool():
    pytest.importorskip(BACKEND)
    with WorkerPool(envs=[{"KERAS_BACKEND": BACKEND, "CUDA_VISIBLE_DEVICES": ""}]) as workers:
        yield workers


def _grade(pool, tmp_path, path: Path):
    assignment = path.stem.split("_")[0]
    source = fixtures.source_notebook(assignment)
    notebook = tmp_path / f"{path.stem}.ipynb"
    notebook.write_text(json.dumps(fixtures.submission_notebook(
        source, fixtures.cells_with(source, path.read_text()))))
    run = pipeline.grade(specs.load(assignment), {path.stem: notebook}, pool=pool,
                         progress=False, grading_seed=11)
    return run.graded[path.stem]


@pytest.mark.parametrize("case", CASES)
def test_another_style_earns_full_marks(pool, tmp_path, case):
    g = _grade(pool, tmp_path, STYLES / f"{case}.py")
    assert g.score == g.max_score, f"{case}: {g.reason}"


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_style_is_told_what_to_use_and_loses_only_its_model(pool, tmp_path, case):
    g = _grade(pool, tmp_path, STYLES / "refused" / f"{case}.py")
    builds = next(c for c in g.checks if c.grade_id.endswith("_builds"))
    assert builds.points == 0 and REFUSED[case] in builds.message, builds.message
    assert REFUSED[case] in g.reason  # the one-line reason keeps the fix
    spec = specs.load(case.split("_")[0])
    model_task = spec.check(builds.grade_id).task
    others = [c for c in g.checks if spec.check(c.grade_id).task != model_task]
    assert all(c.passed for c in others), [(c.grade_id, c.message) for c in others]
