"""The perceptron assignment: its data, its values challenge, its fixtures and its thresholds."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from autograder.trusted.challenges import perceptron as challenge
from course import points

ROOT = Path(__file__).resolve().parent.parent
SPEC = json.loads((ROOT / "autograder/specs/perceptron.json").read_text())
FIXTURES = ROOT / "autograder/fixtures/perceptron"
FIT_KWARGS = SPEC["tasks"]["fit"]["challenge"]["kwargs"]


def metric_check(task: str) -> dict:
    return next(c for c in SPEC["checks"] if c["task"] == task and c["kind"] == "metric")


def fixture_fit(name: str):
    namespace = {"np": np}
    exec((FIXTURES / f"{name}.py").read_text(), namespace)
    return namespace["perceptron_fit"]


def reference_fit():
    # solutions.perceptron imports Keras at the top; read the function alone to stay fast
    import ast

    source = (ROOT / "solutions/perceptron.py").read_text()
    node = next(n for n in ast.parse(source).body
                if isinstance(n, ast.FunctionDef) and n.name == "perceptron_fit")
    namespace = {"np": np}
    exec(ast.get_source_segment(source, node), namespace)
    return namespace["perceptron_fit"]


def run_challenge(fn, seed: int) -> dict:
    outputs = []
    for call in challenge.make(seed, **FIT_KWARGS):
        w, b = fn(*call["args"], **call["kwargs"])
        outputs.append({"value": [np.asarray(w), b], "error": None})
    return challenge.score(seed, outputs, **FIT_KWARGS)


# ---- loaders ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(points.LOADERS))
def test_loaders_are_deterministic_binary_splits(name):
    loader = points.LOADERS[name]
    first = loader(seed=3)
    loader.cache_clear()
    again = loader(seed=3)
    other = loader(seed=4)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert np.array_equal(getattr(first, field), getattr(again, field)), field
    assert not np.array_equal(first.x_train, other.x_train)
    assert first.num_classes == 2
    assert first.x_train.dtype == np.float32 and first.x_train.ndim == 2
    assert first.y_train.dtype == np.int32 and set(np.unique(first.y_test)) == {0, 1}
    assert 0.35 < first.y_train.mean() < 0.65


def test_separable_points_need_a_bias():
    from sklearn.linear_model import LogisticRegression

    s = points.load_separable_points(seed=0)
    with_bias = LogisticRegression(C=1e4, max_iter=5000).fit(s.x_train, s.y_train)
    through_origin = LogisticRegression(C=1e4, max_iter=5000, fit_intercept=False).fit(
        s.x_train, s.y_train)
    assert with_bias.score(s.x_test, s.y_test) >= 0.98
    assert through_origin.score(s.x_test, s.y_test) <= 0.65


def test_separable_problem_is_separable_with_a_margin():
    X, y, w, b = points.separable_problem(np.random.default_rng(0), 500, 4, gap=0.2)
    margin = X @ w + b
    assert np.array_equal(y, (margin > 0).astype("int32"))
    assert np.abs(margin).min() >= 0.2 - 1e-5 and abs(b) > 1.0


def test_xor_points_defeat_a_linear_model():
    from sklearn.linear_model import LogisticRegression

    s = points.load_xor_points(seed=0)
    linear = LogisticRegression(max_iter=1000).fit(s.x_train, s.y_train)
    assert linear.score(s.x_test, s.y_test) <= 0.6


# ---- the values challenge ---------------------------------------------------------------------

def test_challenge_is_deterministic_and_keeps_test_points_hidden():
    a = challenge.make(5, **FIT_KWARGS)
    b = challenge.make(5, **FIT_KWARGS)
    assert len(a) == 1 and a[0]["kwargs"] == {"epochs": FIT_KWARGS["epochs"],
                                              "learning_rate": FIT_KWARGS["learning_rate"]}
    assert all(np.array_equal(x, y) for x, y in zip(a[0]["args"], b[0]["args"]))
    X_train, y_train, X_test, _ = challenge.problem(5, **FIT_KWARGS)
    assert np.array_equal(a[0]["args"][0], X_train) and np.array_equal(a[0]["args"][1], y_train)
    assert X_train.shape == (FIT_KWARGS["n_train"], FIT_KWARGS["dim"])
    shared = {row.tobytes() for row in X_train} & {row.tobytes() for row in X_test}
    assert not shared
    assert not np.array_equal(challenge.make(6, **FIT_KWARGS)[0]["args"][0], X_train)


@pytest.mark.parametrize("seed", list(range(10)) + [SPEC["tasks"]["fit"]["seed"]])
def test_reference_rule_passes(seed):
    result = run_challenge(reference_fit(), seed)
    assert result["metrics"]["heldout_accuracy"] >= metric_check("fit")["threshold"]
    assert result["metrics"]["train_accuracy"] >= 0.95
    assert "Held-out accuracy" in result["message"]


@pytest.mark.parametrize("name", ["fit_no_bias", "fit_wrong_sign", "fit_labels_pm1"])
@pytest.mark.parametrize("seed", list(range(10)) + [SPEC["tasks"]["fit"]["seed"]])
def test_wrong_rules_fail(name, seed):
    result = run_challenge(fixture_fit(name), seed)
    assert result["metrics"]["heldout_accuracy"] <= metric_check("fit")["floor"], result


def test_no_bias_message_names_the_bias():
    result = run_challenge(fixture_fit("fit_no_bias"), 0)
    assert "bias" in result["message"]


DIM = FIT_KWARGS["dim"]


@pytest.mark.parametrize("output", [
    {"value": "w, b", "error": None},
    {"value": None, "error": None},
    {"value": 3.0, "error": None},
    {"value": [np.ones(DIM)], "error": None},
    {"value": [np.ones(DIM), 0.5, 1.0], "error": None},
    {"value": np.ones(DIM + 1), "error": None},
    {"value": {"w": np.ones(DIM), "b": 0.0}, "error": None},
    {"value": [np.ones(DIM + 1), 0.5], "error": None},
    {"value": [np.ones((DIM, 2)), 0.5], "error": None},
    {"value": [np.ones(DIM), np.ones(3)], "error": None},
    {"value": [np.full(DIM, np.nan), 0.5], "error": None},
    {"value": [np.ones(DIM), float("inf")], "error": None},
    {"value": ["abc", 0.5], "error": None},
    {"value": [[1, [2, 3]], 0.5], "error": None},
    {"value": [np.ones(DIM), None], "error": None},
    {"value": None, "error": "ZeroDivisionError: division by zero"},
])
def test_bad_outputs_score_zero_with_a_reason(output):
    result = challenge.score(0, [output], **FIT_KWARGS)
    assert result["metrics"] == {"heldout_accuracy": 0.0, "train_accuracy": 0.0}
    assert isinstance(result["message"], str) and len(result["message"]) > 20


@pytest.mark.parametrize("outputs", [[], None, [None], ["x"]])
def test_missing_outputs_score_zero(outputs):
    result = challenge.score(0, outputs, **FIT_KWARGS)
    assert result["metrics"]["heldout_accuracy"] == 0.0 and result["message"]


def test_lenient_shapes_are_accepted():
    w, b = reference_fit()(*challenge.make(0, **FIT_KWARGS)[0]["args"])
    for value in ([w, np.array([b])], (w[:, None], b), [w.tolist(), np.float32(b)]):
        result = challenge.score(0, [{"value": value, "error": None}], **FIT_KWARGS)
        assert result["metrics"]["heldout_accuracy"] >= metric_check("fit")["threshold"]


# ---- Keras builders, trained as the grader trains them (slow) ---------------------------------

def _train(task: str, builder) -> float:
    from course import runtime

    runtime.configure(threads=1)
    from course import training

    spec_task = SPEC["tasks"][task]
    splits = points.LOADERS[spec_task["data"]["name"]](**spec_task["data"]["kwargs"])
    runtime.seed_everything(spec_task["seed"])
    model = builder(*SPEC["functions"][spec_task["function"]]["args"])
    training.fit(model, splits.x_train, splits.y_train,
                 budget=training.Budget(**spec_task["budget"]),
                 validation_data=(splits.x_val, splits.y_val), progress=False)
    return training.accuracy(model, splits.x_test, splits.y_test)
