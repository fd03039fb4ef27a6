"""Offline data sets with fixed train/validation/test splits.

Everything here works without a network: scikit-learn ships the 8x8 digits. Loaders for the full
data sets (MNIST, Fashion-MNIST) use Keras' own readers and say clearly what to do when the files
are not on this machine.

The digits come in two pools, a fixed partition (:func:`digit_pools`): a **public** pool of
1,437 digits, the only one the loaders hand out (every notebook's train, validation and test
splits come from it), and a **private** pool of 360 (20 % of each class) that only grading
loads (``graded=True``): the graded model trains on the public pool and is scored on the private
one, images no notebook has shown. Held out from the course's material, not secret: scikit-learn
itself ships all 1,797.
"""
from __future__ import annotations

import dataclasses
import inspect
import math
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Splits:
    """Train / validation / test arrays. Images are float32 in [0, 1] shaped (N, H, W, 1)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    private_test: bool = False  # the test split is the private pool (a graded draw)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.x_train), "val": len(self.x_val), "test": len(self.x_test)}


def _stratified_split(x, y, *, val: float, test: float, seed: int) -> Splits:
    from sklearn.model_selection import train_test_split

    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test, stratify=y, random_state=seed
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val / (1.0 - test), stratify=y_rest, random_state=seed
    )
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, int(y.max()) + 1)


def digits_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 handwritten digits as float32 (N, 8, 8) in [0, 1], and int labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype("float32")
    return images, bunch.target.astype("int32")


POOL_SEED = 1797  # fixes which digits are public and which private (never change: grades move)
PRIVATE_SHARE = 0.2  # of each class: 360 of the 1,797 digits, the size of the old test split
POOL_BINARIZE = 0.5  # digits that look the same in black and white (rnn's input) share a pool


@lru_cache(maxsize=1)
def digit_pools() -> tuple[np.ndarray, np.ndarray]:
    """(public, private): sorted indices into :func:`digits_images`, a fixed partition.

    Stratified: the private pool takes ``PRIVATE_SHARE`` of every class (rounded so that the
    total is ``ceil(0.2 * 1797) = 360``), digits chosen with ``POOL_SEED``. Digits that are the
    same image in black and white (the rnn's input; 24 groups of 2-7 digits) are kept in one
    pool, so no graded input equals a public one in any task.
    """
    images, labels = digits_images()
    counts = np.bincount(labels)
    share = counts * PRIVATE_SHARE
    target = np.floor(share).astype(int)
    missing = math.ceil(len(labels) * PRIVATE_SHARE) - int(target.sum())
    target[np.argsort(target - share, kind="stable")[:missing]] += 1  # largest remainders
    patterns = (images > POOL_BINARIZE).reshape(len(images), -1)
    rng = np.random.default_rng(POOL_SEED)
    private = []
    for digit, want in enumerate(target):
        members = np.flatnonzero(labels == digit)
        _, group = np.unique(patterns[members], axis=0, return_inverse=True)
        taken = 0
        for g in rng.permutation(int(group.max()) + 1):
            chosen = members[group.ravel() == g]
            if taken + len(chosen) <= want:
                private.extend(chosen.tolist())
                taken += len(chosen)
        assert taken == want, f"digit {digit}: {taken} private digits, expected {want}"
    private = np.sort(np.asarray(private))
    return np.setdiff1d(np.arange(len(labels)), private), private


def digit_split(*, seed: int, val: float = 0.2, test: float = 0.2,
                graded: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, validation, test) indices into :func:`digits_images`.

    ``graded=False`` (every notebook): a stratified split of the public pool, fixed by ``seed``
    (shares ``val`` and ``test`` of the pool). ``graded=True`` (the grader, with its secret
    seed): train and validation split the whole public pool (validation ``val / (1 - test)``
    of it, as it would be of the rest after a test split), and the test split is the private
    pool, in an order drawn from ``seed``.
    """
    from sklearn.model_selection import train_test_split

    public, private = digit_pools()
    labels = digits_images()[1]
    if not graded:
        s = _stratified_split(public, labels[public], val=val, test=test, seed=seed)
        return s.x_train, s.x_val, s.x_test
    train, validation = train_test_split(public, test_size=val / (1.0 - test),
                                         stratify=labels[public], random_state=seed)
    return train, validation, np.random.default_rng(seed).permutation(private)


def _take(x: np.ndarray, y: np.ndarray, parts, graded: bool) -> Splits:
    """The Splits of ``x``/``y`` at the (train, validation, test) indices ``parts``."""
    train, validation, test = parts
    return Splits(x[train], y[train], x[validation], y[validation], x[test], y[test],
                  int(y.max()) + 1, private_test=graded)


def drawn(task, seed: int, sizes: tuple[int, int, int], num_classes: int, **kwargs) -> Splits:
    """Train, validation and test splits of ``sizes`` examples drawn one after the other from
    ``task(n, rng=..., **kwargs)`` with one generator seeded by ``seed``."""
    rng = np.random.default_rng(seed)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
        task(n, rng=rng, **kwargs) for n in sizes)
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, num_classes)


def place_on_canvas(images: np.ndarray, canvas: int, rng: np.random.Generator) -> np.ndarray:
    """Put each (h, w) image at a random offset on a blank canvas x canvas image."""
    n, h, w = images.shape
    if canvas < max(h, w):
        raise ValueError(f"canvas must be at least {max(h, w)} pixels, got {canvas}")
    out = np.zeros((n, canvas, canvas), dtype="float32")
    rows = rng.integers(0, canvas - h + 1, size=n)
    cols = rng.integers(0, canvas - w + 1, size=n)
    for i, (r, c) in enumerate(zip(rows, cols)):
        out[i, r:r + h, c:c + w] = images[i]
    return out


@lru_cache(maxsize=8)
def load_translated_digits(canvas: int = 16, seed: int = 0, val: float = 0.2,
                           test: float = 0.2, copies: int = 1, graded: bool = False) -> Splits:
    """The 8x8 digits, each placed at a random spot on a ``canvas`` x ``canvas`` blank image.

    A digit's position changes from image to image, so a model must recognise a stroke wherever
    it appears: convolution (shared, local filters) does this; a dense layer on raw pixels has to
    learn each position separately and fails. The split (of the public pool; ``graded=True``:
    test from the private pool, see :func:`digit_split`) is stratified and fixed by ``seed``,
    and so are the positions. ``copies`` > 1 places each *training* digit that many times, at
    independent spots (the validation and test digits stay unique, so no test digit is ever
    seen in training).
    """
    if copies < 1:
        raise ValueError(f"copies should be at least 1, got {copies}")
    images, labels = digits_images()
    rng = np.random.default_rng(seed)
    placed = place_on_canvas(images, canvas, rng)
    parts = digit_split(seed=seed, val=val, test=test, graded=graded)
    splits = _take(placed[..., None], labels, parts, graded)
    if copies == 1:
        return splits
    again = np.repeat(parts[0], copies - 1)
    extra = place_on_canvas(images[again], canvas, rng)[..., None]
    return dataclasses.replace(splits, x_train=np.concatenate([splits.x_train, extra]),
                               y_train=np.concatenate([splits.y_train, labels[again]]))


@lru_cache(maxsize=4)
def load_digits_8x8(seed: int = 0, val: float = 0.2, test: float = 0.2,
                    graded: bool = False) -> Splits:
    """The plain 8x8 digits, (N, 8, 8, 1) in [0, 1], with a fixed stratified split of the
    public pool (``graded=True``: test from the private pool, see :func:`digit_split`)."""
    images, labels = digits_images()
    parts = digit_split(seed=seed, val=val, test=test, graded=graded)
    return _take(images[..., None], labels, parts, graded)


def _keras_dataset(name: str, hint: str) -> tuple:
    import keras

    loader = getattr(keras.datasets, name)
    try:
        return loader.load_data()
    except Exception as err:  # network failure or missing files, reported with the fix
        home = os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras"))
        raise FileNotFoundError(
            f"{name} is not available offline: expected its files under {home}/datasets/, "
            f"received {type(err).__name__}: {err}. {hint}"
        ) from err


def load_fashion_mnist(seed: int = 0, val: float = 1 / 6) -> Splits:
    """Fashion-MNIST (28x28, 10 classes) through Keras' own reader.

    Offline, Debian's ``dataset-fashion-mnist`` package provides the original files: link them
    into ``$KERAS_HOME/datasets/fashion-mnist/``.
    """
    (x, y), (x_test, y_test) = _keras_dataset(
        "fashion_mnist",
        "Install Debian's dataset-fashion-mnist and link its four files into "
        "$KERAS_HOME/datasets/fashion-mnist/, or connect to the internet once.",
    )
    return _with_val_split(x, y, x_test, y_test, seed=seed, val=val)


def load_mnist(seed: int = 0, val: float = 1 / 6) -> Splits:
    """MNIST (28x28 digits) through Keras' own downloader (needs the internet once)."""
    (x, y), (x_test, y_test) = _keras_dataset(
        "mnist",
        "Download it once with keras.datasets.mnist.load_data() on a connected machine "
        "(Keras checks its hash, so copies from elsewhere are rejected).",
    )
    return _with_val_split(x, y, x_test, y_test, seed=seed, val=val)


def _with_val_split(x, y, x_test, y_test, *, seed: int, val: float) -> Splits:
    from sklearn.model_selection import train_test_split

    scale = np.float32(1.0 / 255.0)
    x = (x.astype("float32") * scale)[..., None]
    x_test = (x_test.astype("float32") * scale)[..., None]
    x_train, x_val, y_train, y_val = train_test_split(
        x, y.astype("int32"), test_size=val, stratify=y, random_state=seed
    )
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test.astype("int32"),
                  int(y.max()) + 1)


LOADERS = {
    "translated_digits": load_translated_digits,
    "digits_8x8": load_digits_8x8,
    "fashion_mnist": load_fashion_mnist,
    "mnist": load_mnist,
}


TASK_MODULES = ("course.points", "course.sequences", "course.motifs")  # synthetic tasks


def loaders() -> dict:
    """Every loader by its spec name: the image sets here plus the task modules' ``LOADERS``."""
    import importlib

    found = dict(LOADERS)
    for module in TASK_MODULES:
        found.update(importlib.import_module(module).LOADERS)
    return found


def has_private_pool(name: str) -> bool:
    """Whether the loader called ``name`` draws its graded test split from a private pool
    (it takes ``graded=True``): the digit tasks do, synthetic tasks draw fresh examples."""
    loader = loaders().get(name)
    return loader is not None and "graded" in inspect.signature(loader).parameters


def load(name: str, **kwargs) -> Splits:
    """Load a data set by its spec name (see :func:`loaders`)."""
    known = loaders()
    if name not in known:
        raise ValueError(f"unknown data set {name!r}: expected one of {', '.join(sorted(known))}")
    return known[name](**kwargs)
