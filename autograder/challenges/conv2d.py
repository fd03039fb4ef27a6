"""Challenge for `conv2d_forward` (cnn): a Conv2D layer's forward pass by hand, on inputs drawn
from the secret seed (several channels, strides, paddings and kernel shapes), scored case by
case against the reference (float64 from the same float32 inputs).

The common mistakes are recognised from what they return, made from the reference itself (so
this module holds no convolution code): a flipped kernel (mathematics' convolution; Keras and
every deep-learning library compute the unflipped cross-correlation), padding on one side
only, a forgotten bias, an ignored stride.
"""
from __future__ import annotations

import numpy as np

from . import cases as scoring

ATOL = 1e-4  # outputs are sums of up to 100 products of O(1) numbers; float32 errs by ~1e-6
RTOL = 1e-4
REFERENCE = "solutions.cnn:conv2d_forward"  # course content only
WHAT = ("the cross-correlation of x (zero-padded by `padding` on every side) with kernel, "
        "every `stride` pixels, plus bias")

# (name, x shape, kernel (kh, kw, C_out), stride, padding)
_LAYOUT = [
    ("one channel in and out, stride 1, no padding", (2, 7, 7, 1), (3, 3, 1), 1, 0),
    ("3 channels in, 4 out, padding 1 keeps the size", (2, 8, 8, 3), (3, 3, 4), 1, 1),
    ("stride 2, no padding", (2, 9, 9, 2), (3, 3, 3), 2, 0),
    ("stride 2, padding 1", (3, 8, 8, 3), (3, 3, 2), 2, 1),
    ("a 2x3 kernel, padding 2", (1, 6, 7, 2), (2, 3, 3), 1, 2),
    ("a 5x5 kernel on a 10x12 image, stride 3, padding 2", (2, 10, 12, 1), (5, 5, 4), 3, 2),
    ("a 1x1 kernel: it only mixes channels", (2, 5, 5, 4), (1, 1, 3), 1, 0),
    ("a 4x4 kernel, stride 2, padding 1, large bias", (2, 8, 6, 2), (4, 4, 2), 2, 1),
]


def _reference():
    from .. import content

    return content.solution_function(REFERENCE)


def _guesses(ref, x, kernel, bias, stride, padding) -> list:
    def one_side(top_left: bool, amount: int):
        pad = (amount, 0) if top_left else (0, amount)
        return ref(np.pad(x, ((0, 0), pad, pad, (0, 0))), kernel, bias, stride, 0)

    out = [("the kernel is flipped (that is mathematics' convolution): Keras slides the kernel "
            "as it is, out[i, j] = sum(patch * kernel)", ref(x, kernel[::-1, ::-1], bias,
                                                           stride, padding))]
    if padding:
        side = ("the zeros are added on one side only: add `padding` rows and columns on every "
                "side (top, bottom, left and right)")
        out += [(side, one_side(False, 2 * padding)), (side, one_side(True, 2 * padding)),
                (side, one_side(False, padding)), (side, one_side(True, padding)),
                ("the padding is ignored: add `padding` rows and columns of zeros on every "
                 "side first", ref(x, kernel, bias, stride, 0))]
    out.append(("the bias is not added", ref(x, kernel, np.zeros_like(bias), stride, padding)))
    if stride > 1:
        out.append(("the stride is ignored: the window moves `stride` pixels at a time",
                    ref(x, kernel, bias, 1, padding)))
    return [(hint, [(None, g)]) for hint, g in out]


def cases(seed: int, *, expected: bool = True) -> list[scoring.Case]:
    rng = np.random.default_rng([int(seed), 2024, 1])
    ref = _reference() if expected else None
    made = []
    for name, x_shape, (kh, kw, c_out), stride, padding in _LAYOUT:
        x = rng.normal(0.0, 1.0, x_shape).astype("float32")
        kernel = rng.normal(0.0, 0.5, (kh, kw, x_shape[-1], c_out)).astype("float32")
        scale = 5.0 if "large bias" in name else 0.5
        bias = rng.normal(0.0, scale, (c_out,)).astype("float32")
        case = scoring.Case(name, [x, kernel, bias], {"stride": stride, "padding": padding},
                            f"x {x.shape}, kernel {kernel.shape}, bias {bias.shape}, "
                            f"stride {stride}, padding {padding}")
        if ref is not None:
            x64, k64, b64 = (a.astype(np.float64) for a in (x, kernel, bias))
            case.parts = [(None, ref(x64, k64, b64, stride, padding))]
            case.guesses = _guesses(ref, x64, k64, b64, stride, padding)
        made.append(case)
    return made


def make(seed: int, **kwargs) -> list[dict]:
    """The calls: ``conv2d_forward(x, kernel, bias, stride=..., padding=...)``."""
    return [c.call() for c in cases(seed, expected=False)]


def score(seed: int, outputs: list[dict], **kwargs) -> dict:
    return scoring.score(cases(seed), outputs, what=WHAT, atol=ATOL, rtol=RTOL)
