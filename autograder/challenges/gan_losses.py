"""Challenge for `discriminator_loss` and `generator_loss` (gan): the two GAN losses from
logits, on logits drawn from the secret seed, half of the cases moderate and half extreme
(|logit| up to 10,000, where a sigmoid followed by a log gives 0, log 0 = -inf and NaN), scored
case by case against the reference.

``kwargs``: ``{"loss": "discriminator"}`` or ``{"loss": "generator"}``. Mistakes are recognised
from the reference's own outputs on transformed logits (this module holds no loss code).
"""
from __future__ import annotations

import numpy as np

from . import cases as scoring

ATOL = 1e-5
RTOL = 1e-5  # losses reach 10,000 on the extreme cases: relative tolerance there
REFERENCES = {"discriminator": "solutions.gan:discriminator_loss",
              "generator": "solutions.gan:generator_loss"}
REFERENCE = REFERENCES["discriminator"]  # course content only (``course preview`` reads this)
WHAT = {"discriminator": ("mean(-log sigmoid(real_logits)) + mean(-log(1 - sigmoid("
                          "fake_logits))), computed stably from the logits"),
        "generator": "mean(-log sigmoid(fake_logits)), computed stably from the logits"}
EPSILON = 1e-7  # what clipping probabilities (as Keras does for probabilities) typically uses

# (name, batch, shape kind, logit scale)
_LAYOUT = [
    ("moderate logits, shape (batch, 1)", 8, "column", 1.0),
    ("moderate logits, shape (batch,)", 16, "flat", 2.0),
    ("a confident discriminator (logits around +-8)", 8, "column", 8.0),
    ("batch of 1", 1, "column", 1.5),
    ("extreme logits around +-100 (beyond float32's exp)", 8, "column", 100.0),
    ("extreme logits around +-1,000 (beyond float64's exp)", 8, "flat", 1000.0),
    ("mixed: moderate and +-10,000 in one batch", 12, "column", None),
    ("every logit at +-10,000", 4, "column", 1e4),
]


def _loss(kwargs: dict) -> str:
    loss = kwargs.get("loss", "discriminator")
    if loss not in REFERENCES:
        raise ValueError(f"unknown gan_losses loss {loss!r}; expected one of {list(REFERENCES)}")
    return loss


def _reference(loss: str):
    from .. import content

    return content.solution_function(REFERENCES[loss])


def _logits(rng, batch: int, kind: str, scale) -> np.ndarray:
    if scale is None:
        z = rng.normal(0.0, 1.0, batch)
        z[::3] = rng.choice([-1e4, 1e4], size=len(z[::3]))
    else:
        z = rng.normal(0.0, 1.0, batch) * scale
        if scale >= 100:  # both signs, all far from 0
            z = np.sign(z + 1e-9) * np.maximum(np.abs(z), scale / 2)
    z = z.astype("float32")
    return z[:, None] if kind == "column" else z


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _guesses(loss: str, ref, args: list) -> list:
    n = args[0].size
    per_logit = _reference("generator")  # softplus(-z), averaged: used on single logits

    def clipped(z, sign):  # -log(clip(sigmoid(sign * z))) averaged
        values = [per_logit(np.array([sign * v])) for v in np.ravel(z)]
        return float(np.mean(np.clip(values, -np.log(1 - EPSILON), -np.log(EPSILON))))

    probs = ("the logits are treated as probabilities (a sigmoid applied twice, or the loss "
             "for probabilities used on logits): the discriminator outputs logits")
    out = [(probs, ref(*[_sigmoid(a) for a in args])),
           ("the loss is summed over the batch: take the mean", ref(*args) * n)]
    if loss == "discriminator":
        real, fake = args
        out += [("the labels are swapped: real images have label 1, generated ones label 0",
                 ref(-real, -fake)),
                ("the two terms are averaged: add the real term and the generated term",
                 ref(real, fake) / 2),
                ("the sigmoid's output is clipped before the log, which caps the loss near "
                 "16: write -log sigmoid(z) as log(1 + exp(-z)) with np.logaddexp",
                 clipped(real, 1) + clipped(fake, -1))]
    else:
        (fake,) = args
        saturating = ("this is the saturating loss log(1 - D(G(z))), whose gradient vanishes "
                      "while the discriminator wins: minimise -log D(G(z)) instead")
        out += [(saturating, -ref(-fake)), (saturating, ref(-fake)),
                ("the sigmoid's output is clipped before the log, which caps the loss near "
                 "16: write -log sigmoid(z) as log(1 + exp(-z)) with np.logaddexp",
                 clipped(fake, 1))]
    return [(hint, [(None, np.asarray(g, dtype=np.float64))]) for hint, g in out]


def cases(seed: int, *, expected: bool = True, loss: str = "discriminator"
          ) -> list[scoring.Case]:
    salt = {"discriminator": 4, "generator": 5}[loss]
    rng = np.random.default_rng([int(seed), 2024, salt])
    ref = _reference(loss) if expected else None
    made = []
    for name, batch, kind, scale in _LAYOUT:
        fake = _logits(rng, batch, kind, scale)
        args = [_logits(rng, batch, kind, scale), fake] if loss == "discriminator" else [fake]
        names = ("real_logits", "fake_logits") if loss == "discriminator" else ("fake_logits",)
        case = scoring.Case(name, args, {}, ", ".join(
            f"{n} {a.shape} from {a.min():.3g} to {a.max():.3g}" for n, a in zip(names, args)))
        if ref is not None:
            args64 = [a.astype(np.float64) for a in args]
            case.parts = [(None, np.asarray(ref(*args64), dtype=np.float64))]
            with np.errstate(all="ignore"):
                case.guesses = _guesses(loss, ref, args64)
        made.append(case)
    return made


def make(seed: int, **kwargs) -> list[dict]:
    """The calls: ``discriminator_loss(real_logits, fake_logits)`` or
    ``generator_loss(fake_logits)``."""
    return [c.call() for c in cases(seed, expected=False, loss=_loss(kwargs))]


def score(seed: int, outputs: list[dict], **kwargs) -> dict:
    loss = _loss(kwargs)
    return scoring.score(cases(seed, loss=loss), outputs, what=WHAT[loss], atol=ATOL,
                         rtol=RTOL)
