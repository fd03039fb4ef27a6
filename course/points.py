"""Point clouds for the perceptron assignment: one a line can split, one (XOR) it cannot.

Both are synthetic, offline and fixed by a seed. The separable cloud sits away from the origin
and its dividing hyperplane does not pass through the origin, so a model without a bias term
cannot fit it. The XOR cloud labels a point by whether its two coordinates have the same sign:
no line does better than chance there, one hidden layer does almost perfectly.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .data import Splits


def separable_problem(rng: np.random.Generator, n: int, dim: int = 2, *, offset: float = 3.0,
                      spread: float = 1.0, gap: float = 0.2):
    """``n`` linearly separable points in ``dim`` dimensions, labels 0/1, about half each.

    Returns ``(X, y, w_true, b_true)``: float32 ``X`` (n, dim), int32 ``y`` (n,), a unit vector
    ``w_true`` and a scalar ``b_true`` with ``y = 1`` exactly where ``X @ w_true + b_true > 0``.
    The cloud is a Gaussian of scale ``spread`` centred ``offset`` units from the origin along
    ``w_true``, and the true hyperplane passes through its centre, so ``b_true = -offset``: seen
    from the origin the two classes lie in the same direction (one nearer, one farther), and any
    hyperplane through the origin gets about half of them wrong. Points closer than ``gap`` to
    the hyperplane are redrawn, which leaves a margin on both sides.
    """
    if n < 1 or dim < 1:
        raise ValueError(f"separable_problem needs n >= 1 and dim >= 1, got n={n}, dim={dim}")
    w_true = rng.normal(size=dim)
    w_true /= np.linalg.norm(w_true)
    centre = offset * w_true
    b_true = -float(offset)
    kept: list[np.ndarray] = []
    count = 0
    while count < n:
        batch = centre + spread * rng.normal(size=(2 * n, dim))
        batch = batch[np.abs(batch @ w_true + b_true) >= gap]
        kept.append(batch)
        count += len(batch)
    X = np.concatenate(kept)[:n].astype("float32")
    y = (X @ w_true + b_true > 0).astype("int32")
    return X, y, w_true, b_true


def xor_problem(rng: np.random.Generator, n: int, *, noise: float = 0.0, gap: float = 0.05):
    """``n`` points uniform in the square [-1, 1]^2, label 1 where both coordinates share a sign.

    That is XOR of the two signs: the 1s fill two opposite quadrants, the 0s the other two.
    Points closer than ``gap`` to either axis are redrawn; ``noise`` flips that share of labels.
    """
    kept: list[np.ndarray] = []
    count = 0
    while count < n:
        batch = rng.uniform(-1.0, 1.0, size=(2 * n, 2))
        batch = batch[np.abs(batch).min(axis=1) >= gap]
        kept.append(batch)
        count += len(batch)
    X = np.concatenate(kept)[:n].astype("float32")
    y = (X[:, 0] * X[:, 1] > 0).astype("int32")
    if noise > 0:
        flip = rng.random(n) < noise
        y = np.where(flip, 1 - y, y).astype("int32")
    return X, y


def _splits(X, y, n_train: int, n_val: int) -> Splits:
    a, b = n_train, n_train + n_val
    return Splits(X[:a], y[:a], X[a:b], y[a:b], X[b:], y[b:], 2)


@lru_cache(maxsize=8)
def load_separable_points(seed: int = 0, n_train: int = 400, n_val: int = 200,
                          n_test: int = 1000, dim: int = 2, offset: float = 1.2,
                          spread: float = 0.4, gap: float = 0.08) -> Splits:
    """A linearly separable binary task away from the origin (see :func:`separable_problem`).

    Train, validation and test points come from one draw, so they share the same hyperplane.
    The defaults keep the coordinates small (about -1 to 2.5), so that a sigmoid unit reaches
    the bias it needs (-offset times the weights' length) within a short budget even with
    Adam's default learning rate; the geometry, and so the failure of a model without bias, is
    the same at any scale.
    """
    rng = np.random.default_rng([seed, 1957])
    X, y, _, _ = separable_problem(rng, n_train + n_val + n_test, dim, offset=offset,
                                   spread=spread, gap=gap)
    return _splits(X, y, n_train, n_val)


@lru_cache(maxsize=8)
def load_xor_points(seed: int = 0, n_train: int = 600, n_val: int = 200, n_test: int = 1000,
                    noise: float = 0.0, gap: float = 0.05) -> Splits:
    """The XOR task in 2 dimensions (see :func:`xor_problem`): a single layer stays near 0.5."""
    rng = np.random.default_rng([seed, 1969])
    X, y = xor_problem(rng, n_train + n_val + n_test, noise=noise, gap=gap)
    return _splits(X, y, n_train, n_val)


LOADERS = {
    "separable_points": load_separable_points,
    "xor_points": load_xor_points,
}
