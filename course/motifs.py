"""Small patterns stamped anywhere on a canvas: the image task of the `cnn` assignment.

Each class is one 3x3 binary motif. An image holds ``copies`` copies of its class's motif and
``distractors`` motifs from a shared pool that belongs to no class, each at a random spot (they
may overlap), on faint pixel noise. To name the class, a model must recognise a 3x3 arrangement
wherever it sits and tell it from the distractors. A convolution does exactly that with one
shared filter per pattern; a dense layer over the pixels, or a recurrent network reading the
image row by row (a dense map of each row), has to learn every position apart, and with 1,200
training images it cannot (bench/results/cnn_tasks.md).

Images come standardised (mean 0 and standard deviation 1 over the training images): with raw
pixels in [0, 1], mostly near 0, the textbook LeNet-5 (tanh, average pooling) stalls near chance.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .data import Splits, drawn

# '#' is ink. The four classes, then the distractors (two of them differ from a class in one row)
CLASSES = ("..#/.#./.##", "##./#../.##", "..#/.#./##.", "##./##./...")
DISTRACTORS = (".#./#.#/###", "#../.#./##.", ".#./##./###", "..#/#.#/##.",
               "##./.##/.#.", "..#/..#/#.#", "###/..#/..#", "#.#/##./#..")


def motif(rows: str) -> np.ndarray:
    """'..#/.#./.##' -> a float32 3x3 array of 0s and 1s."""
    return np.array([[ch == "#" for ch in row] for row in rows.split("/")], dtype="float32")


def motifs_task(n: int, *, canvas: int = 16, copies: int = 3, distractors: int = 4,
                noise: float = 0.1, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (float32, (n, canvas, canvas, 1), pixels in [0, 1]) and their classes.

    An image holds ``copies`` of its class's motif and ``distractors`` drawn from
    :data:`DISTRACTORS`, each at a uniformly random spot (where two overlap, each pixel keeps
    the brighter value), on Gaussian noise of scale ``noise``.
    """
    shapes = [motif(m) for m in CLASSES + DISTRACTORS]
    size = shapes[0].shape[0]
    if canvas < size or copies < 1 or distractors < 0:
        raise ValueError(f"motifs need canvas >= {size}, copies >= 1 and distractors >= 0, got "
                         f"canvas={canvas}, copies={copies}, distractors={distractors}")
    y = rng.integers(0, len(CLASSES), n)
    x = rng.normal(0.0, noise, (n, canvas, canvas)).astype("float32")
    for i in range(n):
        for j in range(copies + distractors):
            shape = shapes[y[i] if j < copies else len(CLASSES) + rng.integers(len(DISTRACTORS))]
            r, c = rng.integers(0, canvas - size + 1, 2)
            patch = x[i, r:r + size, c:c + size]
            np.maximum(patch, shape, out=patch)
    return np.clip(x, 0.0, 1.0)[..., None], y.astype("int32")


def standardised(splits: Splits) -> Splits:
    """``splits`` with every image scaled by the training images' mean and standard deviation."""
    import dataclasses

    mean, std = float(splits.x_train.mean()), float(splits.x_train.std())
    return dataclasses.replace(splits, **{
        k: ((getattr(splits, k) - mean) / std).astype("float32")
        for k in ("x_train", "x_val", "x_test")})


@lru_cache(maxsize=8)
def load_motifs(canvas: int = 16, copies: int = 3, distractors: int = 4, seed: int = 0,
                n_train: int = 1200, n_val: int = 300, n_test: int = 400) -> Splits:
    """"Which pattern is stamped on this canvas?" (:func:`motifs_task`), standardised.

    x is float32 (N, canvas, canvas, 1); y the class 0..3, near uniform. ``seed`` fixes the
    draw (the grader draws afresh from its secret seed).
    """
    return standardised(drawn(motifs_task, seed, (n_train, n_val, n_test), len(CLASSES),
                               canvas=canvas, copies=copies, distractors=distractors))


LOADERS = {"motifs": load_motifs}
