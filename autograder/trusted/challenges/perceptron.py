"""Challenge for ``perceptron_fit``: learn a hyperplane from points, be scored on fresh points.

From the grading seed, one draw of :func:`course.points.separable_problem` gives both the
training points (sent to the sandbox) and the held-out points (kept here): the same hyperplane,
disjoint points. The true hyperplane does not pass through the origin, so a rule that never
updates the bias scores near chance, and so does one that moves the weights the wrong way.
"""
from __future__ import annotations

import numpy as np

from course.points import separable_problem

DEFAULTS = {"n_train": 200, "n_test": 1000, "dim": 4, "offset": 3.0, "gap": 0.2,
            "epochs": 20, "learning_rate": 0.1}


def _options(kwargs: dict) -> dict:
    unknown = set(kwargs) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown perceptron challenge options {sorted(unknown)}; "
                         f"expected some of {sorted(DEFAULTS)}")
    return {**DEFAULTS, **kwargs}


def problem(seed: int, **kwargs):
    """``(X_train, y_train, X_test, y_test)`` for ``seed``: one draw, split in two."""
    o = _options(kwargs)
    rng = np.random.default_rng([int(seed), 57])
    X, y, _, _ = separable_problem(rng, o["n_train"] + o["n_test"], o["dim"],
                                   offset=o["offset"], gap=o["gap"])
    n = o["n_train"]
    return X[:n], y[:n], X[n:], y[n:]


def make(seed: int, **kwargs) -> list[dict]:
    """One call: ``perceptron_fit(X_train, y_train, epochs=..., learning_rate=...)``."""
    o = _options(kwargs)
    X_train, y_train, _, _ = problem(seed, **kwargs)
    return [{"args": [X_train, y_train],
             "kwargs": {"epochs": int(o["epochs"]), "learning_rate": float(o["learning_rate"])}}]


def _unpack(value, dim: int):
    """``(w, b)`` as a float vector of length ``dim`` and a float, or a reason why not."""
    if isinstance(value, dict):
        return None, None, ("expected a tuple (w, b), received a dict; "
                            "return w, b (the weight vector and the bias)")
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
        return None, None, (f"expected a tuple (w, b), received {type(value).__name__}; "
                            "end perceptron_fit with `return w, b`")
    if isinstance(value, np.ndarray) and value.dtype != object:
        return None, None, (f"expected a tuple (w, b), received one array of shape "
                            f"{value.shape}; return the weights and the bias separately: "
                            "`return w, b`")
    if len(value) != 2:
        return None, None, (f"expected a tuple (w, b) of 2 items, received {len(value)} items; "
                            "end perceptron_fit with `return w, b`")
    try:
        w = np.asarray(value[0], dtype=float)
        b = np.asarray(value[1], dtype=float)
    except (TypeError, ValueError) as err:
        return None, None, (f"expected numbers in (w, b), received something else "
                            f"({type(err).__name__}: {str(err)[:80]})")
    if w.ndim == 2 and 1 in w.shape:
        w = w.ravel()  # (dim, 1) or (1, dim): the numbers are right, accept them
    if w.shape != (dim,):
        return None, None, (f"expected w of shape ({dim},) for {dim} features, received shape "
                            f"{w.shape}; w needs one weight per column of X")
    if b.size != 1:
        return None, None, (f"expected a scalar bias b, received an array of shape {b.shape}; "
                            "b is a single number")
    b = float(b.reshape(()))
    if not (np.all(np.isfinite(w)) and np.isfinite(b)):
        return None, None, "expected finite numbers, received NaN or infinity in w or b"
    return w, b, None


def score(seed: int, outputs: list[dict], **kwargs) -> dict:
    """Accuracy of ``X @ w + b > 0`` on the held-out points (and on the training points)."""
    zero = {"heldout_accuracy": 0.0, "train_accuracy": 0.0}
    try:
        o = _options(kwargs)
        X_train, y_train, X_test, y_test = problem(seed, **kwargs)
    except Exception as err:  # a broken spec: say so, never raise into the grader
        return {"metrics": zero, "message": f"challenge misconfigured: {err}"}
    try:
        first = outputs[0]
        error, value = first.get("error"), first.get("value")
    except Exception:
        return {"metrics": zero, "message": "perceptron_fit was not called (no output came back)"}
    if error:
        return {"metrics": zero, "message": "perceptron_fit raised an error on the grading "
                f"data: {str(error)[:200]}"}
    try:
        w, b, why = _unpack(value, o["dim"])
    except Exception as err:  # anything odd that slipped through: still a clean zero
        w, b, why = None, None, f"could not read (w, b): {type(err).__name__}"
    if why:
        return {"metrics": zero, "message": why}
    with np.errstate(all="ignore"):
        heldout = float(((X_test @ w + b > 0).astype(int) == y_test).mean())
        train = float(((X_train @ w + b > 0).astype(int) == y_train).mean())
    message = (f"Held-out accuracy {heldout:.3f} (training {train:.3f}) on {len(y_test)} "
               f"fresh points in {o['dim']} dimensions, with b = {b:.3g}.")
    if heldout < 0.9:
        if b == 0.0:
            message += (" Your bias stayed 0: these points' dividing line does not pass through "
                        "the origin, so update b by learning_rate * (y - prediction) too.")
        elif heldout < 0.4:
            message += (" That is worse than guessing: check the sign of the update, "
                        "w += learning_rate * (y - prediction) * x.")
        else:
            message += (" A working rule gets close to 1.0 here: update w and b only on "
                        "mistakes, by learning_rate * (y - prediction), with labels 0/1.")
    return {"metrics": {"heldout_accuracy": heldout, "train_accuracy": train},
            "message": message,
            "summary": f"on {len(y_test)} fresh points drawn at grading time"}
