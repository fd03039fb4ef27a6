"""Challenge for ``max_pool2d``: Keras' MaxPooling2D ("valid" padding, channels last) on inputs
drawn from the grading seed, against the reference.

The cases cover the default 2 x 2 pool, sizes that do not divide evenly (the last row and
column are dropped), overlapping windows (stride smaller than the pool), a pool of 3, and inputs
that are all negative (a running maximum started at 0 fails there). A failing case is checked
against average pooling and against a maximum started at 0.
"""
from __future__ import annotations

import numpy as np

from . import compare

ATOL = RTOL = 1e-6  # a maximum is one of the inputs: nothing is rounded
REFERENCE = "solutions.cnn:max_pool2d"

# (what the case exercises, x shape, pool_size, stride, all negative); None: the default
_LAYOUT = [
    ("the defaults: 2 x 2 windows, stride 2", (2, 6, 6, 1), None, None, False),
    ("3 channels, sizes that do not divide by 2 (the last row and column are dropped)",
     (2, 7, 9, 3), 2, None, False),
    ("3 x 3 windows, stride 2 (windows overlap)", (1, 9, 9, 2), 3, 2, False),
    ("2 x 2 windows, stride 1", (2, 5, 6, 2), 2, 1, False),
    ("every input negative", (1, 6, 6, 2), 2, None, True),
    ("3 x 3 windows, the default stride (3)", (1, 9, 10, 1), 3, None, False),
]

_MISTAKES = {
    "average": "it averages each window; max pooling keeps its largest value",
    "zero": "the running maximum starts at 0, so negative windows come out 0; start from the "
            "window's own values (or -inf)",
}


def make(seed: int, **kwargs) -> list[dict]:
    """The calls the sandbox makes: ``max_pool2d(x[, pool_size=, stride=])``."""
    rng = np.random.default_rng([int(seed), 3])
    calls = []
    for _label, shape, pool, stride, negative in _LAYOUT:
        x = rng.normal(0.0, 1.0, shape).astype("float32")
        if negative:
            x = -np.abs(x) - np.float32(0.1)
        calls.append({"args": [x], "kwargs": compare.keywords(pool_size=pool, stride=stride)})
    return calls


def _average(x, pool, stride):
    rows, cols = (x.shape[1] - pool) // stride + 1, (x.shape[2] - pool) // stride + 1
    total = sum(x[:, i:i + stride * (rows - 1) + 1:stride, j:j + stride * (cols - 1) + 1:stride]
                for i in range(pool) for j in range(pool))
    return total / pool ** 2


def _guesses(reference, args, pool_size=2, stride=None):
    (x,) = args
    stride = stride or pool_size

    def made():
        expected = reference(x, pool_size, stride)
        return [(_MISTAKES["average"], _average(x, pool_size, stride)),
                (_MISTAKES["zero"], np.maximum(expected, 0.0) if (expected < 0).any() else None)]
    return made


def cases(seed: int) -> list[compare.Case]:
    return compare.from_calls(_LAYOUT, make(seed), compare.solution(REFERENCE), _guesses,
                              names=("x",))


def score(seed: int, outputs: list[dict], **kwargs) -> dict:
    return compare.score(cases(seed), outputs, atol=ATOL, rtol=RTOL,
                         what="the output of keras.layers.MaxPooling2D(pool_size, stride)")
