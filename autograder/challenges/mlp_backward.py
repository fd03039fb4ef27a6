"""Challenge for `mlp_backward` (perceptron): the backward pass of a one-hidden-layer network
(tanh hidden layer, sigmoid output, mean binary cross-entropy) by hand, on data and weights
drawn from the secret seed, scored case by case against the reference's analytic gradients
(which tests/test_from_scratch.py checks against numeric ones).

Mistakes are recognised from the reference's own outputs (this module holds no backward-pass
code): a sign flipped, a sum over the batch instead of the mean; a wrong step through tanh
shows as dW2, db2 right and dW1, db1 wrong.
"""
from __future__ import annotations

import numpy as np

from . import cases as scoring

ATOL = 1e-6  # gradients are O(0.1); float32 arithmetic errs by about 1e-8
RTOL = 1e-4
REFERENCE = "solutions.perceptron:mlp_backward"  # course content only
LABELS = ("dW1", "db1", "dW2", "db2")
WHAT = ("the gradients of the mean binary cross-entropy of sigmoid(tanh(X @ W1 + b1) @ W2 + "
        "b2) with respect to W1, b1, W2, b2")

# (name, n examples, d features, k hidden units, weight scale, labels)
_LAYOUT = [
    ("8 examples, 2 features, 3 hidden units", 8, 2, 3, 0.5, "mixed"),
    ("16 examples, 4 features, 5 hidden units", 16, 4, 5, 0.5, "mixed"),
    ("one hidden unit", 5, 3, 1, 0.5, "mixed"),
    ("32 examples, 16 hidden units", 32, 2, 16, 0.5, "mixed"),
    ("large weights: tanh saturates", 10, 3, 4, 3.0, "mixed"),
    ("every label 1", 6, 2, 3, 0.5, "ones"),
]


def _reference():
    from .. import content

    return content.solution_function(REFERENCE)


def cases(seed: int, *, expected: bool = True) -> list[scoring.Case]:
    rng = np.random.default_rng([int(seed), 2024, 6])
    ref = _reference() if expected else None
    made = []
    for name, n, d, k, scale, labels in _LAYOUT:
        X = rng.normal(0.0, 1.0, (n, d)).astype("float32")
        y = (np.ones(n) if labels == "ones" else rng.integers(0, 2, n)).astype("int64")
        W1 = rng.normal(0.0, scale, (d, k)).astype("float32")
        b1 = rng.normal(0.0, 0.3, (k,)).astype("float32")
        W2 = rng.normal(0.0, scale, (k, 1)).astype("float32")
        b2 = rng.normal(0.0, 0.3, (1,)).astype("float32")
        args = [X, y, W1, b1, W2, b2]
        case = scoring.Case(name, args, {}, ", ".join(
            f"{label} {a.shape}" for label, a in zip(("X", "y", "W1", "b1", "W2", "b2"), args)))
        if ref is not None:
            grads = ref(*(a.astype(np.float64) for a in args))
            case.parts = [(label, np.asarray(g, dtype=np.float64))
                          for label, g in zip(LABELS, grads)]
            case.guesses = [
                ("every sign is flipped: the gradient points uphill (prediction - label, not "
                 "label - prediction)", [(lb, -g) for lb, g in case.parts]),
                (f"the gradients are summed over the batch: the loss is the mean over the {n} "
                 f"examples, so divide by {n}", [(lb, n * g) for lb, g in case.parts]),
            ]
            case.partial = {frozenset({"dW1", "db1"}): (
                "the step back through the hidden layer is off: multiply by tanh's derivative, "
                "1 - h**2 with h = tanh(X @ W1 + b1), and use W2 transposed")}
        made.append(case)
    return made


def make(seed: int, **kwargs) -> list[dict]:
    """The calls: ``mlp_backward(X, y, W1, b1, W2, b2)``."""
    return [c.call() for c in cases(seed, expected=False)]


def score(seed: int, outputs: list[dict], **kwargs) -> dict:
    return scoring.score(cases(seed), outputs, what=WHAT, atol=ATOL, rtol=RTOL)
