"""Every assignment's thresholds separate, as a regression net in CI, on JAX (fits there are
1.3-2.7x faster than on TensorFlow): the reference and the textbook models
(``fixtures/<id>/passing/``) earn full marks on a grading seed (a fresh data draw and
initialisation), and the strongest wrong kind of model for the concept (a GRU reading rows for
cnn, a convolution stack for rnn, no positions for transformer, linear for the MLP task, an
untrained noise generator for gan) gets no points for its metric on two. test_roundtrip's demo
grades every reference on JAX too, at a seed drawn afresh each run, so CI sees the reference on
two JAX seeds, one of them new every time; TensorFlow, the default backend, grades every
reference in test_corpus and test_packaging. The full evidence, more seeds and backends and
every case, is ``course calibrate`` (bench/results/calibration/; each report says its seeds).

Exports are made in this process from the same solution-cell code a student would submit (the
sandbox is tested elsewhere); training runs in one trusted JAX worker per test file.

The tests live here; each assignment's ``tests/test_calibration_<id>.py`` imports them and names
its ``ASSIGNMENT``, so that ``make test`` (a test file per process at a time) trains the five
side by side instead of on one process.
"""
from __future__ import annotations

import pytest

from autograder import checks, fixtures
from autograder import spec as specs
from autograder.trusted.kinds import TaskResult
from autograder.pipeline import Plan
from autograder.trusted.pool import WorkerPool
from autograder.sandbox.child import run_call
from autograder.sandbox.runner import Export
from conftest import run_submission_cells

pytestmark = pytest.mark.slow

SEEDS = (1, 2)
BACKEND = "jax"
WRONG_KIND = {  # assignment -> (the strongest wrong kind, the metric checks it must fail)
    "perceptron": ("mlp_linear_hidden", ["test_mlp_accuracy"]),
    "cnn": ("gru_rows", ["test_cnn_accuracy"]),  # a GRU reading rows: 0.63-0.73
    "rnn": ("conv_stack", ["test_rnn_accuracy"]),  # the strongest family that is not recurrent
    "transformer": ("no_positions", ["test_transformer_accuracy"]),  # 0.49
    "gan": ("frozen_generator",  # untrained noise: inception score up to 1.42, the strongest
            ["test_gan_inception_score", "test_gan_classes", "test_gan_frechet_distance"]),
}


@pytest.fixture(scope="module")
def assignment(request) -> str:
    """The importing test file's ``ASSIGNMENT``."""
    return request.module.ASSIGNMENT


def _grade(pool, spec, namespace, seed) -> dict:
    """{grade id: points} for the functions in ``namespace`` at grading seed ``seed``."""
    plan = Plan(spec, grading_seed=seed)
    export = Export(True, calls={c["key"]: run_call(c, namespace) for c in plan.calls})
    futures = {name: pool.submit(job) for name, job in plan.jobs(export).items()}
    results = {name: TaskResult.from_json(f.result()) for name, f in futures.items()}
    return {r.grade_id: (r.points, r.max_points, r.message)
            for r in checks.evaluate(spec, export, results, figures=False)}


@pytest.fixture(scope="module")
def pool():
    pytest.importorskip(BACKEND)
    env = {"KERAS_BACKEND": BACKEND, "CUDA_VISIBLE_DEVICES": ""}
    with WorkerPool(size=1, envs=[env]) as workers:  # one trainer: other files use the cores
        yield workers


def test_reference_full_marks(pool, assignment):
    spec = specs.load(assignment)
    scored = _grade(pool, spec, run_submission_cells(assignment, None), SEEDS[0])
    lost = {gid: msg for gid, (pts, full, msg) in scored.items() if pts < full}
    assert not lost, f"{assignment} on {BACKEND}, grading seed {SEEDS[0]}: {lost}"


def test_textbook_models_earn_full_marks(pool, assignment):
    spec = specs.load(assignment)
    for fixture in fixtures.passing(assignment):
        namespace = run_submission_cells(assignment, fixture)
        scored = _grade(pool, spec, namespace, SEEDS[0])
        lost = {gid: msg for gid, (pts, full, msg) in scored.items() if pts < full}
        assert not lost, f"{assignment}/{fixture} on {BACKEND}: {lost}"


def test_the_wrong_kind_of_model_misses_on_every_seed(pool, assignment):
    fixture, metric_checks = WRONG_KIND[assignment]
    spec = specs.load(assignment)
    namespace = run_submission_cells(assignment, fixture)
    for seed in SEEDS:
        scored = _grade(pool, spec, namespace, seed)
        for gid in metric_checks:
            points, _, message = scored[gid]
            assert points == 0, f"{assignment}/{fixture}, seed {seed}: {gid} {message}"
