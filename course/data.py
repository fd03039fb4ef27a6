"""Offline data sets with fixed train/validation/test splits.

Everything here works without a network: scikit-learn ships the 8x8 digits. Loaders for the full
data sets (MNIST, Fashion-MNIST) use Keras' own readers and say clearly what to do when the files
are not on this machine.
"""
from __future__ import annotations

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
                           test: float = 0.2, copies: int = 1) -> Splits:
    """The 8x8 digits, each placed at a random spot on a ``canvas`` x ``canvas`` blank image.

    A digit's position changes from image to image, so a model must recognise a stroke wherever
    it appears: convolution (shared, local filters) does this; a dense layer on raw pixels has to
    learn each position separately and fails. The split is stratified and fixed by ``seed``.
    ``copies`` > 1 places each *training* digit that many times, at independent spots (the
    validation and test digits stay unique, so no test digit is ever seen in training).
    """
    if copies < 1:
        raise ValueError(f"copies should be at least 1, got {copies}")
    images, labels = digits_images()
    rng = np.random.default_rng(seed)
    placed = place_on_canvas(images, canvas, rng)
    splits = _stratified_split(placed[..., None], labels, val=val, test=test, seed=seed)
    if copies == 1:
        return splits
    train = _stratified_split(np.arange(len(labels)), labels, val=val, test=test,
                              seed=seed).x_train  # the same split, as indices
    again = np.repeat(train, copies - 1)
    extra = place_on_canvas(images[again], canvas, rng)[..., None]
    return Splits(np.concatenate([splits.x_train, extra]),
                  np.concatenate([splits.y_train, labels[again]]),
                  splits.x_val, splits.y_val, splits.x_test, splits.y_test, splits.num_classes)


@lru_cache(maxsize=2)
def load_digits_8x8(seed: int = 0, val: float = 0.2, test: float = 0.2) -> Splits:
    """The plain 8x8 digits, (N, 8, 8, 1) in [0, 1], with a fixed stratified split."""
    images, labels = digits_images()
    return _stratified_split(images[..., None], labels, val=val, test=test, seed=seed)


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


TASK_MODULES = ("course.points", "course.sequences")  # more loaders: synthetic and sequence tasks


def loaders() -> dict:
    """Every loader by its spec name: the image sets here plus the task modules' ``LOADERS``."""
    import importlib

    found = dict(LOADERS)
    for module in TASK_MODULES:
        found.update(importlib.import_module(module).LOADERS)
    return found


def load(name: str, **kwargs) -> Splits:
    """Load a data set by its spec name (see :func:`loaders`)."""
    known = loaders()
    if name not in known:
        raise ValueError(f"unknown data set {name!r}: expected one of {', '.join(sorted(known))}")
    return known[name](**kwargs)
