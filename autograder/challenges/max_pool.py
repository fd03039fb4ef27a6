"""Challenge for `max_pool2d_forward` (cnn): a MaxPooling2D layer's forward pass by hand, on
inputs drawn from the secret seed, scored case by case against the reference. One case is all
negative, so a maximum that starts from 0 shows; mistakes are recognised from the reference's
own outputs (this module holds no pooling code)."""
from __future__ import annotations

import numpy as np

from . import cases as scoring

ATOL = 1e-6  # a maximum is exact
RTOL = 1e-6
REFERENCE = "solutions.cnn:max_pool2d_forward"  # course content only
WHAT = "the maximum of each pool_size x pool_size window, windows every `stride` pixels"

# (name, x shape, pool_size, stride or None, offset added to x)
_LAYOUT = [
    ("2x2 windows, stride None (= pool_size)", (2, 8, 8, 3), 2, None, 0.0),
    ("3x3 windows on a 9x9 image, stride None", (2, 9, 9, 2), 3, None, 0.0),
    ("3x3 windows, stride 2 (overlapping)", (1, 9, 9, 4), 3, 2, 0.0),
    ("2x2 windows, stride 1", (2, 5, 6, 2), 2, 1, 0.0),
    ("7x7 image, 2x2 windows: the last row and column are left out", (2, 7, 7, 1), 2, None,
     0.0),
    ("every value negative", (2, 6, 6, 2), 2, None, -5.0),
]


def _reference():
    from .. import content

    return content.solution_function(REFERENCE)


def cases(seed: int, *, expected: bool = True) -> list[scoring.Case]:
    rng = np.random.default_rng([int(seed), 2024, 2])
    ref = _reference() if expected else None
    made = []
    for name, shape, size, stride, offset in _LAYOUT:
        x = (rng.normal(0.0, 1.0, shape) + offset).astype("float32")
        kwargs = {"pool_size": size, "stride": stride}
        case = scoring.Case(name, [x], kwargs,
                            f"x {x.shape}, pool_size {size}, stride {stride}")
        if ref is not None:
            x64 = x.astype(np.float64)
            case.parts = [(None, ref(x64, size, stride))]
            case.guesses = [
                ("the maximum starts from 0: start from the window's own values (or -inf), "
                 "since every value here is negative", [(None, np.maximum(ref(x64, size, stride),
                                                                          0.0))]),
                ("`stride` is ignored: windows start every `stride` pixels (None means "
                 "pool_size)", [(None, ref(x64, size, 1 if stride != 1 else size))]),
                ("the minimum is taken, not the maximum", [(None, -ref(-x64, size, stride))]),
            ]
        made.append(case)
    return made


def make(seed: int, **kwargs) -> list[dict]:
    """The calls: ``max_pool2d_forward(x, pool_size=..., stride=...)``."""
    return [c.call() for c in cases(seed, expected=False)]


def score(seed: int, outputs: list[dict], **kwargs) -> dict:
    return scoring.score(cases(seed), outputs, what=WHAT, atol=ATOL, rtol=RTOL)
