"""Challenge for `lstm_forward` (rnn): an LSTM layer's forward pass by hand, with weights laid
out as `keras.layers.LSTM` stores them (gates input, forget, cell candidate, output), on
inputs and weights drawn from the secret seed, scored case by case against the reference
(float64 from the same float32 inputs).

Gate-order mistakes are recognised by running the reference on weights whose gate blocks were
reordered, so this module holds no LSTM code.
"""
from __future__ import annotations

import numpy as np

from . import cases as scoring

ATOL = 1e-5  # states lie in (-1, 1); float32 arithmetic errs by about 1e-7
RTOL = 1e-5
REFERENCE = "solutions.rnn:lstm_forward"  # course content only
WHAT = ("every step's hidden state h_t of an LSTM started from zero states, gates in Keras' "
        "order (input, forget, cell candidate, output)")

# (name, batch, timesteps, features, units, weight scale, forget bias)
_LAYOUT = [
    ("2 sequences of 5 steps, 3 features, 4 units", 2, 5, 3, 4, 0.5, 0.0),
    ("one sequence of 8 steps, 2 features, 3 units", 1, 8, 2, 3, 0.5, 0.0),
    ("forget bias 1, as Keras initialises it", 3, 6, 4, 2, 0.5, 1.0),
    ("one feature per step, 12 steps, 5 units", 2, 12, 1, 5, 0.5, 0.0),
    ("large weights: gates near 0 or 1", 2, 6, 3, 3, 2.5, 0.0),
    ("one step only", 4, 1, 3, 2, 0.5, 0.0),
]
ORDERS = {  # a wrong reading of the four gate blocks -> what it is called
    (0, 2, 1, 3): "input, cell candidate, forget, output (TensorFlow 1's order)",
    (0, 1, 3, 2): "input, forget, output, cell candidate",
    (1, 0, 2, 3): "forget, input, cell candidate, output",
    (3, 1, 2, 0): "output, forget, cell candidate, input",
}


def _reference():
    from .. import content

    return content.solution_function(REFERENCE)


def _reordered(weights, units: int, order) -> list:
    """Each weight with its four gate blocks (along the last axis) taken in ``order``."""
    return [np.concatenate([np.split(w, 4, axis=-1)[k] for k in order], axis=-1)
            for w in weights]


def cases(seed: int, *, expected: bool = True) -> list[scoring.Case]:
    rng = np.random.default_rng([int(seed), 2024, 3])
    ref = _reference() if expected else None
    made = []
    for name, batch, steps, features, units, scale, forget in _LAYOUT:
        x = rng.normal(0.0, 1.0, (batch, steps, features)).astype("float32")
        kernel = rng.normal(0.0, scale, (features, 4 * units)).astype("float32")
        recurrent = rng.normal(0.0, scale, (units, 4 * units)).astype("float32")
        bias = rng.normal(0.0, 0.2, (4 * units,)).astype("float32")
        bias[units:2 * units] += forget
        case = scoring.Case(name, [x, kernel, recurrent, bias], {},
                            f"x {x.shape}, kernel {kernel.shape}, recurrent_kernel "
                            f"{recurrent.shape}, bias {bias.shape}")
        if ref is not None:
            x64, *w64 = (a.astype(np.float64) for a in (x, kernel, recurrent, bias))
            states = ref(x64, *w64)
            case.parts = [(None, states)]
            case.guesses = [
                (f"the gates are read in the order {words}: Keras lays them out as input, "
                 "forget, cell candidate, output (each `units` columns wide)",
                 [(None, ref(x64, *_reordered(w64, units, order)))])
                for order, words in ORDERS.items()]
            if steps > 1:
                case.guesses.append(
                    ("only the last hidden state came back: return every step's, shape "
                     "(batch, timesteps, units)", [(None, states[:, -1])]))
        made.append(case)
    return made


def make(seed: int, **kwargs) -> list[dict]:
    """The calls: ``lstm_forward(x, kernel, recurrent_kernel, bias)``."""
    return [c.call() for c in cases(seed, expected=False)]


def score(seed: int, outputs: list[dict], **kwargs) -> dict:
    return scoring.score(cases(seed), outputs, what=WHAT, atol=ATOL, rtol=RTOL)
