"""Challenge for ``lstm_forward``: Keras' LSTM (return_sequences=True, zero initial states) on
weights and sequences drawn from the grading seed, against the reference within ``ATOL``.

The weights come in Keras' layout: ``kernel`` (D, 4 units), ``recurrent_kernel`` (units,
4 units), ``bias`` (4 units,), the gates side by side as input, forget, candidate, output. The
cases cover one step, long sequences, more units than features, Keras' initial forget bias of 1
and saturated gates. A failing case is checked against the gates read in another order (the
order of CS231n's notes, or input and forget swapped) and a cell that ignores the recurrent
kernel.
"""
from __future__ import annotations

import numpy as np

from . import compare

ATOL = RTOL = 1e-5  # hidden states lie in (-1, 1); float32 arithmetic errs by about 1e-6
REFERENCE = "solutions.rnn:lstm_forward"

# (what the case exercises, batch, T, D, units, bias: "random" / "keras", input scale)
_LAYOUT = [
    ("one time step", 2, 1, 3, 4, "random", 1.0),
    ("6 steps, 4 features, 5 units", 3, 6, 4, 5, "random", 1.0),
    ("a batch of one, 20 steps", 1, 20, 2, 3, "random", 1.0),
    ("more units than features", 2, 5, 2, 8, "random", 1.0),
    ("Keras' initial bias: forget gate 1, the others 0", 2, 7, 3, 4, "keras", 1.0),
    ("large inputs (saturated gates)", 2, 5, 3, 4, "random", 6.0),
]

_ORDERS = [  # how a mistaken reading sees Keras' blocks (i, f, c, o), and what to say
    ((0, 1, 3, 2), "the gates are read as input, forget, output, candidate (CS231n's order); "
                   "Keras stores them as input, forget, candidate, output"),
    ((1, 0, 2, 3), "the input and forget gates are swapped; Keras stores input, forget, "
                   "candidate, output"),
]
NO_RECURRENCE = ("the recurrent kernel is not used: every step adds h_prev @ recurrent_kernel "
                 "to x_t @ kernel + bias")


def make(seed: int, **kwargs) -> list[dict]:
    """The calls the sandbox makes: ``lstm_forward(x, kernel, recurrent_kernel, bias)``."""
    rng = np.random.default_rng([int(seed), 4])
    calls = []
    for _label, batch, steps, features, units, bias_kind, scale in _LAYOUT:
        x = (rng.normal(0.0, 1.0, (batch, steps, features)) * scale).astype("float32")
        kernel = rng.normal(0.0, 0.5, (features, 4 * units)).astype("float32")
        recurrent = rng.normal(0.0, 0.5, (units, 4 * units)).astype("float32")
        if bias_kind == "keras":
            bias = np.concatenate([np.zeros(units), np.ones(units), np.zeros(2 * units)])
        else:
            bias = rng.normal(0.0, 0.5, 4 * units)
        calls.append({"args": [x, kernel, recurrent, bias.astype("float32")], "kwargs": {}})
    return calls


def _reorder(weights, order):
    """Keras' gate blocks of ``weights`` (last axis) put in ``order``."""
    blocks = np.split(weights, 4, axis=-1)
    return np.concatenate([blocks[k] for k in order], axis=-1)


def _guesses(reference, args):
    x, kernel, recurrent, bias = args

    def made():
        out = [(hint, reference(x, _reorder(kernel, order), _reorder(recurrent, order),
                                _reorder(bias, order))) for order, hint in _ORDERS]
        return out + [(NO_RECURRENCE, reference(x, kernel, 0.0 * recurrent, bias))]
    return made


def cases(seed: int) -> list[compare.Case]:
    return compare.from_calls(_LAYOUT, make(seed), compare.solution(REFERENCE), _guesses,
                              names=("x", "kernel", "recurrent_kernel", "bias"))


def score(seed: int, outputs: list[dict], **kwargs) -> dict:
    return compare.score(cases(seed), outputs, atol=ATOL, rtol=RTOL,
                         what="every hidden state, (batch, T, units), as keras.layers.LSTM("
                              "units, return_sequences=True) computes with these weights")
