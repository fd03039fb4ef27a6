"""Challenge for ``mlp_backward``: the gradients of a one-hidden-layer network's mean binary
cross-entropy, p = sigmoid(tanh(X W1 + b1) W2 + b2), against the reference (the analytic
gradients, which tests/test_perceptron.py checks against Keras' own) within ``ATOL`` / ``RTOL``.

The weights come in Keras' layout (``W1`` (D, H), ``b1`` (H,), ``W2`` (H, 1), ``b2`` (1,)), so
the notebook can compare the function with Keras on its tiny model. The cases cover that model's
size, wider ones, a single example, saturated hidden units and labels all 1. A failing case is
checked against a sum over the examples instead of the mean, the sign of (p - y) reversed, and
the tanh's slope left out or taken at the wrong place.
"""
from __future__ import annotations

import numpy as np

from . import compare

ATOL, RTOL = 1e-6, 1e-4  # gradients are O(0.01-1); float32 arithmetic errs by about 1e-7
REFERENCE = "solutions.perceptron:mlp_backward"
PARTS = ("dW1", "db1", "dW2", "db2")

# (what the case exercises, n examples, D features, H hidden units, W1 scale, labels)
_LAYOUT = [
    ("8 examples, 2 features, 3 hidden units (the notebook's tiny model)", 8, 2, 3, 1.0, "mixed"),
    ("32 examples, 5 features, 7 hidden units", 32, 5, 7, 1.0, "mixed"),
    ("one example", 1, 3, 4, 1.0, "mixed"),
    ("large first-layer weights (saturated tanh units)", 16, 4, 6, 4.0, "mixed"),
    ("every label 1", 12, 3, 5, 1.0, "ones"),
    ("64 examples, 10 features, 16 hidden units", 64, 10, 16, 1.0, "mixed"),
]


def make(seed: int, **kwargs) -> list[dict]:
    """The calls the sandbox makes: ``mlp_backward(X, y, W1, b1, W2, b2)``."""
    rng = np.random.default_rng([int(seed), 7])
    calls = []
    for _label, n, d, h, scale, labels in _LAYOUT:
        X = rng.normal(0.0, 1.0, (n, d)).astype("float32")
        y = (np.ones(n) if labels == "ones" else rng.integers(0, 2, n)).astype("int64")
        weights = [rng.normal(0.0, scale / np.sqrt(d), (d, h)), rng.normal(0.0, 0.3, h),
                   rng.normal(0.0, 1.0 / np.sqrt(h), (h, 1)), rng.normal(0.0, 0.3, 1)]
        calls.append({"args": [X, y] + [w.astype("float32") for w in weights], "kwargs": {}})
    return calls


def _slope_mistake(X, y, W1, b1, W2, b2, slope):
    """The gradients with tanh's slope replaced by ``slope(pre-activation, activation)``."""
    a = X @ W1 + b1
    h = np.tanh(a)
    p = 0.5 * (1.0 + np.tanh(0.5 * (h @ W2 + b2)))
    dz = (p - y.reshape(-1, 1)) / len(X)
    da = (dz @ W2.T) * slope(a, h)
    return X.T @ da, da.sum(axis=0), h.T @ dz, dz.sum(axis=0)


def _guesses(reference, args):
    def made():
        grads = reference(*args)
        n = len(args[0])
        return [
            ("the gradients are n times too large: the loss is the MEAN over the n examples, "
             "so divide by n", None if n == 1 else tuple(g * n for g in grads)),
            ("every gradient has the wrong sign: the slope at the output's logit is p - y",
             tuple(-g for g in grads)),
            ("dW1 and db1 leave out tanh's slope: multiply by 1 - h**2 on the way back",
             _slope_mistake(*args, lambda a, h: np.ones_like(h))),
            ("tanh's slope is taken as 1 - a**2 of the pre-activation a; it is 1 - tanh(a)**2 "
             "= 1 - h**2", _slope_mistake(*args, lambda a, h: 1.0 - a ** 2)),
        ]
    return made


def cases(seed: int) -> list[compare.Case]:
    return compare.from_calls(_LAYOUT, make(seed), compare.solution(REFERENCE), _guesses,
                              names=("X", "y", "W1", "b1", "W2", "b2"))


def score(seed: int, outputs: list[dict], **kwargs) -> dict:
    return compare.score(cases(seed), outputs, atol=ATOL, rtol=RTOL, parts=PARTS,
                         what="(dW1, db1, dW2, db2), each the shape of its weight, the "
                              "gradients of the mean binary cross-entropy")
