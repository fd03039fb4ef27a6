"""Challenge for ``conv2d_forward``: a batched, multi-channel 2-D convolution (Keras' Conv2D,
channels last) on inputs drawn from the grading seed, against the reference within ``ATOL``.

The cases cover the defaults (stride 1, "valid"), several channels and filters, a kernel that is
not square, "same" padding with an odd and an even total (where Keras puts the extra zero after
the input), and strides 2 and 3. Each failing case is checked against the common mistakes: a
flipped kernel (a textbook convolution; Conv2D computes cross-correlation), a missing bias, and
"same" padding split the wrong way or put on one side only.
"""
from __future__ import annotations

import numpy as np

from . import compare

ATOL = RTOL = 1e-4  # outputs are sums of up to 72 products of O(1) numbers, in float32
REFERENCE = "solutions.cnn:conv2d_forward"

# (what the case exercises, x shape, kernel shape, stride, padding); None: the default is used
_LAYOUT = [
    ("the defaults: stride 1, 'valid' padding", (2, 6, 6, 1), (3, 3, 1, 2), None, None),
    ("3 input channels, 4 filters", (2, 7, 8, 3), (3, 3, 3, 4), None, None),
    ("a 2 x 4 kernel", (1, 6, 9, 2), (2, 4, 2, 3), None, "valid"),
    ("'same' padding, stride 1 (one zero on every side)", (2, 7, 7, 2), (3, 3, 2, 3), 1, "same"),
    ("stride 2, 'valid' padding", (2, 9, 9, 2), (3, 3, 2, 2), 2, None),
    ("stride 2, 'same' padding on an even size (the one zero goes after)", (1, 8, 8, 3),
     (3, 3, 3, 2), 2, "same"),
    ("a 4 x 4 kernel, 'same' padding (1 zero before, 2 after)", (2, 6, 6, 1), (4, 4, 1, 2), 1,
     "same"),
    ("stride 3, 'same' padding", (1, 10, 11, 2), (3, 3, 2, 3), 3, "same"),
]

_MISTAKES = {
    "flipped": "the kernel is flipped (a textbook convolution); Keras' Conv2D does not flip "
               "it: out[n, i, j, f] = sum over a, b, c of x[n, i*stride + a, j*stride + b, c] "
               "* kernel[a, b, c, f]",
    "no_bias": "the bias is not added (one number per filter, to every output position)",
    "before": "'same' padding puts its odd zero before the input; Keras puts it after (at the "
              "bottom and the right)",
    "one_side": "'same' padding is all on one side; split it: total // 2 zeros before, the rest "
                "after",
}


def make(seed: int, **kwargs) -> list[dict]:
    """The calls the sandbox makes: ``conv2d_forward(x, kernel, bias[, stride=, padding=])``."""
    rng = np.random.default_rng([int(seed), 2])
    calls = []
    for _label, x_shape, k_shape, stride, padding in _LAYOUT:
        x = rng.normal(0.0, 1.0, x_shape).astype("float32")
        kernel = rng.normal(0.0, 0.5, k_shape).astype("float32")
        bias = rng.normal(0.0, 1.0, k_shape[-1:]).astype("float32")
        calls.append({"args": [x, kernel, bias],
                      "kwargs": compare.keywords(stride=stride, padding=padding)})
    return calls


def _padded(reference, x, kernel, bias, stride, split):
    """The reference on x padded by hand, "same" split the way a mistake splits it; None
    where that split is Keras' own (the mistake would not show on this case)."""
    totals = [max((-(-size // stride) - 1) * stride + k - size, 0)
              for size, k in zip(x.shape[1:3], kernel.shape[:2])]
    pads = [split(t) for t in totals]
    if pads == [(t // 2, t - t // 2) for t in totals]:
        return None
    x = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])
    return reference(x, kernel, bias, stride, "valid")


def _guesses(reference, args, stride=1, padding="valid"):
    x, kernel, bias = args

    def made():
        out = [(_MISTAKES["flipped"], reference(x, kernel[::-1, ::-1], bias, stride, padding)),
               (_MISTAKES["no_bias"], reference(x, kernel, 0.0 * bias, stride, padding))]
        if padding == "same":
            out += [(_MISTAKES["before"], _padded(reference, x, kernel, bias, stride,
                                                  lambda t: (t - t // 2, t // 2))),
                    (_MISTAKES["one_side"], _padded(reference, x, kernel, bias, stride,
                                                    lambda t: (0, t)))]
        return out
    return made


def cases(seed: int) -> list[compare.Case]:
    return compare.from_calls(_LAYOUT, make(seed), compare.solution(REFERENCE), _guesses,
                              names=("x", "kernel", "bias"))


def score(seed: int, outputs: list[dict], **kwargs) -> dict:
    return compare.score(cases(seed), outputs, atol=ATOL, rtol=RTOL,
                         what="the output of keras.layers.Conv2D with these weights")
