"""Challenge for ``discriminator_loss`` and ``generator_loss`` (option ``loss``): binary
cross-entropy from logits, against the reference within ``ATOL`` / ``RTOL``.

The discriminator's loss is the mean over all real and fake logits together (real labelled 1,
fake 0), as ``course.gan`` trains it; the generator's is the non-saturating -log D(G(z)). The
cases cover moderate logits, flat and column vectors, unequal numbers of real and fake logits,
confident right and wrong answers and logits of +-1000, where log(sigmoid(z)) written naively
gives inf or NaN. A failing case is checked against computing the loss on probabilities as if
they were logits, swapped labels, the sum or the plain average of the two halves' means, and the
saturating generator loss.
"""
from __future__ import annotations

import numpy as np

from . import compare

ATOL = RTOL = 1e-5
FUNCTIONS = {"discriminator": "discriminator_loss", "generator": "generator_loss"}
REFERENCE = "solutions.gan"  # where both references live: course content only
NAMES = {"discriminator": ("real_logits", "fake_logits"), "generator": ("fake_logits",)}
STABLE = ("a naive log(sigmoid(z)) overflows at |z| = 1000: use -log sigmoid(z) = "
          "log(1 + exp(-z)) = np.logaddexp(0, -z)")

# (what the case exercises, (kind, shape) of the real logits, of the fake ones): "m" moderate,
# "right"/"wrong" confident (8 to 30) either way, "extreme" +-1000 at random, "extreme_wrong"
# 1000 the wrong way
_LAYOUT = [
    ("moderate logits, shape (8, 1)", ("m", (8, 1)), ("m", (8, 1))),
    ("moderate logits, flat vectors (16,)", ("m", (16,)), ("m", (16,))),
    ("6 real and 10 fake logits", ("m", (6, 1)), ("m", (10, 1))),
    ("confident and right", ("right", (8, 1)), ("right", (8, 1))),
    ("confident and wrong", ("wrong", (8, 1)), ("wrong", (8, 1))),
    ("logits of +-1000 (needs a stable form)", ("extreme", (8, 1)), ("extreme", (8, 1))),
    ("logits of 1000, every one wrong (the loss is 1000)", ("extreme_wrong", (4, 1)),
     ("extreme_wrong", (4, 1))),
]


def _logits(rng, kind, shape, sign):
    """``sign`` is +1 for real logits (right = large), -1 for fake (right = very negative)."""
    if kind == "m":
        return rng.normal(0.0, 2.0, shape).astype("float32")
    if kind == "extreme":
        return (rng.choice([-1000.0, 1000.0], size=shape)).astype("float32")
    if kind == "extreme_wrong":
        return np.full(shape, -1000.0 * sign, dtype="float32")
    size = rng.uniform(8.0, 30.0, shape)
    return (size * (sign if kind == "right" else -sign)).astype("float32")


def _options(kwargs):
    loss = kwargs.get("loss", "discriminator")
    if loss not in FUNCTIONS:
        raise ValueError(f"the gan_losses challenge takes loss='discriminator' or 'generator', "
                         f"got {loss!r}")
    return loss


def make(seed: int, **kwargs) -> list[dict]:
    """``discriminator_loss(real_logits, fake_logits)`` or ``generator_loss(fake_logits)``."""
    loss = _options(kwargs)
    rng = np.random.default_rng([int(seed), 5 if loss == "discriminator" else 6])
    calls = []
    for _label, (real_kind, real_shape), (fake_kind, fake_shape) in _LAYOUT:
        real = _logits(rng, real_kind, real_shape, +1)
        fake = _logits(rng, fake_kind, fake_shape, -1)
        if loss == "generator" and fake_kind == "extreme_wrong":
            fake = -fake  # wrong for the generator: the discriminator sees through every fake
        calls.append({"args": [real, fake] if loss == "discriminator" else [fake], "kwargs": {}})
    return calls


def _guesses(reference, loss, args):
    """What the common mistakes return, made with the reference itself."""
    def made():
        with np.errstate(over="ignore"):
            probs = [1.0 / (1.0 + np.exp(-a)) for a in args]
        out = [("the loss is computed on probabilities sigmoid(z) as if they were logits: the "
                "inputs are already logits", reference(*probs))]
        if loss == "generator":
            (fake,) = args
            as_fake = reference(-fake)  # the generated images labelled 0
            return out + [("this is the saturating loss log(1 - D(G(z))); the non-saturating "
                           "loss is -log D(G(z)) = log(1 + exp(-z))", -as_fake),
                          ("the generated images are labelled fake (0); the generator's loss "
                           "labels them real (1)", as_fake)]
        real, fake = args
        none = np.zeros(0)
        mean_real, mean_fake = reference(real, none), reference(none, fake)
        return out + [("the labels are swapped: real logits are labelled 1, fake logits 0",
                       reference(-real, -fake)),
                      ("the real and fake means are added (the TensorFlow DCGAN tutorial's "
                       "convention); this loss is the mean over all the logits together",
                       mean_real + mean_fake),
                      ("the two means are averaged; with unequal numbers of real and fake "
                       "logits, take the mean over all of them together",
                       (mean_real + mean_fake) / 2)]
    return made


def cases(seed: int, **kwargs) -> list[compare.Case]:
    loss = _options(kwargs)
    return compare.from_calls(_LAYOUT, make(seed, **kwargs),
                              compare.solution(f"{REFERENCE}:{FUNCTIONS[loss]}"),
                              lambda reference, args: _guesses(reference, loss, args),
                              names=NAMES[loss])


def score(seed: int, outputs: list[dict], **kwargs) -> dict:
    loss = _options(kwargs)
    what = ("one number: the mean binary cross-entropy over the real (label 1) and fake "
            "(label 0) logits together" if loss == "discriminator" else
            "one number: the mean of -log sigmoid(z) over the fake logits")
    return compare.score(cases(seed, **kwargs), outputs, atol=ATOL, rtol=RTOL, what=what,
                         nonfinite_hint=STABLE)
