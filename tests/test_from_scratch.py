"""The from-scratch functions of every assignment, graded as ``values`` tasks: the reference
passes on every grading seed tested, other correct styles pass too, each common mistake (kept
as a fixture under ``autograder/fixtures/``) loses the check with a per-case message that names
the case, what was expected and what came back, and odd returns never raise.

This is the calibration of these checks: they do not train, so ten seeds cost under a second
each. The sandbox and trusted sides are exercised by the demo (tests/test_roundtrip.py) and the
calibration net, which grade every assignment with these checks in its spec.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = range(10)

# grade id -> (assignment, function, challenge, challenge kwargs)
CHECKS = {
    "test_conv2d_forward": ("cnn", "conv2d_forward", "conv2d", {}),
    "test_max_pool2d": ("cnn", "max_pool2d", "max_pool", {}),
    "test_lstm_forward": ("rnn", "lstm_forward", "lstm", {}),
    "test_discriminator_loss": ("gan", "discriminator_loss", "gan_losses",
                                {"loss": "discriminator"}),
    "test_generator_loss": ("gan", "generator_loss", "gan_losses", {"loss": "generator"}),
    "test_mlp_backward": ("perceptron", "mlp_backward", "backprop", {}),
}

# (grade id, fixture, share of cases it still matches at most, what the message must say)
MISTAKES = [
    ("test_conv2d_forward", "conv_flipped", 0.0, "the kernel is flipped"),
    ("test_conv2d_forward", "conv_same_one_side", 0.75, "'same' padding is all on one side"),
    ("test_max_pool2d", "pool_average", 0.0, "it averages each window"),
    ("test_lstm_forward", "lstm_gate_order", 0.0, "CS231n's order"),
    ("test_lstm_forward", "lstm_no_recurrence", 0.2, "recurrent kernel is not used"),
    ("test_discriminator_loss", "loss_naive_log", 0.75, "np.logaddexp(0, -z)"),
    ("test_generator_loss", "loss_naive_log", 0.75, "np.logaddexp(0, -z)"),
    ("test_discriminator_loss", "loss_saturating", 0.2, "real and fake means are added"),
    ("test_generator_loss", "loss_saturating", 0.0, "the saturating loss"),
    ("test_mlp_backward", "backward_sum", 0.2, "n times too large"),
    ("test_mlp_backward", "backward_no_tanh_slope", 0.0, "leave out tanh's slope"),
]


def _challenge(grade_id):
    _, _, name, kwargs = CHECKS[grade_id]
    return importlib.import_module(f"autograder.trusted.challenges.{name}"), kwargs


def _reference(grade_id):
    assignment, function, _, _ = CHECKS[grade_id]
    return getattr(importlib.import_module(f"solutions.{assignment}"), function)


def _fixture(assignment, name, function):
    namespace = {}
    exec((ROOT / "autograder" / "fixtures" / assignment / f"{name}.py").read_text(), namespace)
    return namespace[function]


def _score(grade_id, fn, seed=0):
    """What the trusted side scores for ``fn`` on the calls the sandbox would make."""
    module, kwargs = _challenge(grade_id)
    outputs = []
    for call in module.make(seed, **kwargs):
        try:
            with np.errstate(all="ignore"):
                outputs.append({"value": fn(*call["args"], **call["kwargs"]), "error": None})
        except Exception as err:  # a student's function may raise: recorded, not raised
            outputs.append({"value": None, "error": f"{type(err).__name__}: {err}"})
    return module.score(seed, outputs, **kwargs)


def test_every_spec_check_on_a_from_scratch_function_is_covered_here():
    from autograder import spec as specs

    found = {}
    for assignment in ("perceptron", "cnn", "rnn", "transformer", "gan"):
        spec = specs.load(assignment)
        for check in spec.raw["checks"]:
            task = spec.raw["tasks"][check["task"]]
            if task["kind"] == "values" and task["challenge"]["name"] not in (
                    "attention", "perceptron"):  # tested in test_sequences / test_perceptron
                found[check["grade_id"]] = (assignment, task["function"],
                                            task["challenge"]["name"],
                                            task["challenge"]["kwargs"])
                assert (check["metric"], check["floor"], check["threshold"]) == ("match", 0, 1)
    assert found == CHECKS


@pytest.mark.parametrize("grade_id", sorted(CHECKS))
def test_reference_matches_on_every_seed(grade_id):
    for seed in SEEDS:
        scored = _score(grade_id, _reference(grade_id), seed)
        assert scored["metrics"]["match"] == 1.0, (seed, scored["message"])
        assert scored["metrics"]["max_error"] < 1e-9
        assert scored["message"].startswith("All ")


@pytest.mark.parametrize("grade_id", sorted(CHECKS))
def test_inputs_are_drawn_from_the_seed(grade_id):
    module, kwargs = _challenge(grade_id)
    a, b, c = (module.make(s, **kwargs) for s in (3, 3, 4))
    assert all(np.array_equal(x, y) for ca, cb in zip(a, b) for x, y in zip(ca["args"], cb["args"]))
    assert not all(np.array_equal(x, y) for ca, cc in zip(a, c)
                   for x, y in zip(ca["args"], cc["args"]))
    assert len(a) >= 6


def _keras_layer_output(layer, x, weights):
    layer.build(x.shape)
    layer.set_weights(weights)
    import keras

    return keras.ops.convert_to_numpy(layer(x))


def test_other_correct_styles_pass():
    """float32 arithmetic, Keras' own layers and losses, loops instead of vectorised code."""
    import keras

    def conv_with_keras(x, kernel, bias, stride=1, padding="valid"):
        layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], strides=stride,
                                    padding=padding)
        return _keras_layer_output(layer, x, [kernel, bias])

    def pool_with_keras(x, pool_size=2, stride=None):
        return keras.ops.convert_to_numpy(keras.layers.MaxPooling2D(pool_size, stride)(x))

    def lstm_with_keras(x, kernel, recurrent_kernel, bias):
        layer = keras.layers.LSTM(recurrent_kernel.shape[0], return_sequences=True)
        return _keras_layer_output(layer, x, [kernel, recurrent_kernel, bias])

    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def d_loss_with_keras(real_logits, fake_logits):
        real, fake = real_logits.reshape(-1, 1), fake_logits.reshape(-1, 1)
        labels = np.concatenate([np.ones_like(real), np.zeros_like(fake)])
        return keras.ops.convert_to_numpy(bce(labels, np.concatenate([real, fake])))

    def g_loss_float32(fake_logits):  # a stable form, in float32, as an array of shape (1,)
        z = fake_logits.astype("float32")
        return (np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z)))).mean(keepdims=True)[None]

    def backward_loops(X, y, W1, b1, W2, b2):  # one example at a time, float32, y as (n, 1)
        grads = [np.zeros_like(w) for w in (W1, b1, W2, b2)]
        for x, t in zip(X, np.reshape(y, (-1, 1))):
            h = np.tanh(x @ W1 + b1)
            delta = 1 / (1 + np.exp(-(h @ W2 + b2))) - t
            back = (W2[:, 0] * delta) * (1 - h * h)
            for g, part in zip(grads, (np.outer(x, back), back, np.outer(h, delta), delta)):
                g += part / len(X)
        return {"dW1": grads[0], "db1": grads[1], "dW2": grads[2], "db2": grads[3]}

    styles = {"test_conv2d_forward": conv_with_keras, "test_max_pool2d": pool_with_keras,
              "test_lstm_forward": lstm_with_keras, "test_discriminator_loss": d_loss_with_keras,
              "test_generator_loss": g_loss_float32, "test_mlp_backward": backward_loops}
    for grade_id, fn in styles.items():
        for seed in (0, 1):
            scored = _score(grade_id, fn, seed)
            assert scored["metrics"]["match"] == 1.0, (grade_id, seed, scored["message"])


@pytest.mark.parametrize("grade_id, fixture, at_most, hint", MISTAKES,
                         ids=[f"{g}-{f}" for g, f, _, _ in MISTAKES])
def test_each_common_mistake_loses_the_check_with_a_hint(grade_id, fixture, at_most, hint):
    assignment, function, _, _ = CHECKS[grade_id]
    fn = _fixture(assignment, fixture, function)
    for seed in SEEDS:
        scored = _score(grade_id, fn, seed)
        assert scored["metrics"]["match"] <= at_most, (seed, scored["message"])
        assert scored["metrics"]["match"] < 1.0
    message = scored["message"]
    assert hint in message, message
    assert "Case " in message and " of " in message and "expected " in message, message


@pytest.mark.parametrize("grade_id", sorted(CHECKS))
@pytest.mark.parametrize("bad", [
    lambda *a, **k: None,
    lambda *a, **k: "not an array",
    lambda *a, **k: {"x": 1},
    lambda *a, **k: [[1, 2], [3]],
    lambda *a, **k: np.full((2, 3), np.nan),
    lambda *a, **k: 1 / 0,
    lambda *a, **k: a[0],  # the input handed back
], ids=["none", "str", "dict", "ragged", "nan", "raises", "echo"])
def test_odd_returns_score_zero_with_a_message_and_never_raise(grade_id, bad):
    scored = _score(grade_id, bad)
    assert scored["metrics"]["match"] == 0.0
    assert scored["message"].startswith("0 of ") and "Case 1 of" in scored["message"]
    json.dumps(scored)  # plain JSON for the trusted side's result


@pytest.mark.parametrize("outputs", [[], None, "junk", [None] * 3])
def test_missing_outputs_never_raise(outputs):
    for grade_id in CHECKS:
        module, kwargs = _challenge(grade_id)
        assert module.score(0, outputs, **kwargs)["metrics"]["match"] == 0.0


def test_a_message_says_which_case_what_was_expected_and_what_came_back():
    scored = _score("test_conv2d_forward", _fixture("cnn", "conv_same_one_side",
                                                    "conv2d_forward"))
    message = scored["message"]
    # valid cases, and "same" with one zero to add, pass; the first other "same" case is named
    assert message.startswith("5 of 8 cases match. Case 4 of 8 ('same' padding"), message
    assert "x (2, 7, 7, 2), kernel (3, 3, 2, 3), bias (3,), stride=1, padding='same'" in message
    assert "differ by up to" in message
    shape = _score("test_lstm_forward", lambda x, k, r, b: np.zeros((3, 3)))
    assert "shape (3, 3) where shape (2, 1, 4) was expected" in shape["message"], shape
    tuple_ = _score("test_mlp_backward", lambda *a: (1, 2))
    assert "expected a tuple (dW1, db1, dW2, db2), received 2 items" in tuple_["message"]


def test_mlp_backward_reference_is_keras_gradient():
    """The reference the backprop challenge trusts agrees with Keras' own gradient."""
    import keras

    from solutions.perceptron import mlp_backward

    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(1, activation="sigmoid")])
    X = rng.normal(size=(16, 3)).astype("float32")
    y = rng.integers(0, 2, 16).astype("float32")
    before = model.get_weights()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0),
                  loss=keras.losses.BinaryCrossentropy())
    model.train_on_batch(X, y[:, None])  # one plain SGD step of rate 1: the step is the gradient
    steps = [old - new for old, new in zip(before, model.get_weights())]
    for ours, theirs in zip(mlp_backward(X, y, *before), steps):
        assert np.allclose(ours, theirs, atol=1e-5), (ours, theirs)
