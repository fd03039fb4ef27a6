"""Training with a budget: fixed epochs, an optional wall-clock cap, a progress bar, history back.

The same helper serves students in notebooks and the trusted trainer in the autograder, so a
model is trained the same way in both places.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class Budget:
    """How much training a model gets."""

    epochs: int = 10
    batch_size: int = 64
    max_seconds: float | None = None  # stop after the epoch that crosses this wall-clock time
    steps_per_epoch: int | None = None  # batches per epoch (None: one pass over the data)

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"a budget needs epochs >= 1 and batch_size >= 1, got epochs={self.epochs}, "
                f"batch_size={self.batch_size}"
            )


class TimeCap(keras.callbacks.Callback):
    """Stops training at the end of the first epoch that ends past ``max_seconds``."""

    def __init__(self, max_seconds: float):
        super().__init__()
        self.max_seconds = max_seconds
        self.start = 0.0
        self.stopped_early = False

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if time.perf_counter() - self.start > self.max_seconds:
            self.stopped_early = True
            self.model.stop_training = True


class ProgressBar(keras.callbacks.Callback):
    """One tqdm bar over epochs, showing the latest loss and metrics."""

    def __init__(self, total: int, desc: str = "training"):
        super().__init__()
        self.total = total
        self.desc = desc
        self.bar = None

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.total, desc=self.desc, unit="epoch", leave=False)

    def on_epoch_end(self, epoch, logs=None):
        shown = {k: f"{float(v):.3f}" for k, v in (logs or {}).items() if "loss" in k or "acc" in k}
        self.bar.set_postfix(shown)
        self.bar.update(1)

    def on_train_end(self, logs=None):
        self.bar.close()


@dataclass
class FitResult:
    """What a budgeted fit returns: per-epoch history, seconds spent, whether the cap hit."""

    history: dict[str, list[float]]
    seconds: float
    epochs_run: int
    stopped_by_time: bool


def fit(model: keras.Model, x, y, *, budget: Budget = Budget(), validation_data=None,
        progress: bool = True, desc: str = "training") -> FitResult:
    """Train a compiled ``model`` within ``budget`` and return its history.

    ``progress`` shows a bar over epochs (Keras' own per-step output is turned off).
    """
    callbacks: list[keras.callbacks.Callback] = []
    cap = None
    if budget.max_seconds is not None:
        cap = TimeCap(budget.max_seconds)
        callbacks.append(cap)
    if progress:
        callbacks.append(ProgressBar(budget.epochs, desc))
    start = time.perf_counter()
    hist = model.fit(
        x, y, epochs=budget.epochs, batch_size=budget.batch_size, validation_data=validation_data,
        callbacks=callbacks, verbose=0, shuffle=True, steps_per_epoch=budget.steps_per_epoch,
    )
    seconds = time.perf_counter() - start
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    epochs_run = len(next(iter(history.values()), []))
    return FitResult(history, seconds, epochs_run, bool(cap and cap.stopped_early))


def predict_classes(model: keras.Model, x, batch_size: int = 256):
    """Class ids from a classifier's outputs (probabilities or logits: argmax either way)."""
    import numpy as np

    out = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    if out.ndim == 2 and out.shape[1] == 1:  # one sigmoid unit: binary
        return (out[:, 0] > 0.5).astype("int32")
    return out.argmax(axis=-1).astype("int32")


def accuracy(model: keras.Model, x, y) -> float:
    """Share of examples whose predicted class equals the label."""
    return float((predict_classes(model, x) == y).mean())
