"""Case-by-case scoring shared by the from-scratch challenges (convolution, pooling, LSTM, GAN
losses, backward pass): each case is one call with its expected result from the reference; the
score is the share of cases that match within a tolerance, and the message names the first case
that does not: which case, what was expected, what came back, and which common mistake it looks
like.

A challenge module builds its cases with :class:`Case` (``args``/``kwargs`` for the sandbox call,
``parts``: the expected result as named arrays, ``guesses``: what common mistakes return) and
calls :func:`score` with the outputs the sandbox brought back. Pure NumPy.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

UNMEASURABLE = 1e6  # max_error when no output could be compared (wrong shape, NaN, error)


@dataclass
class Case:
    name: str  # what the case tests, e.g. "stride 2, padding 1"
    args: list
    kwargs: dict = field(default_factory=dict)
    describe: str = ""  # the inputs in words, e.g. "x (2, 9, 9, 3), kernel (3, 3, 3, 4)"
    parts: list = field(default_factory=list)  # [(label or None, expected float64 array)]
    guesses: list = field(default_factory=list)  # [(hint, parts a mistake returns)]
    # for results of several parts: {labels of the parts that differ (a frozenset): hint}
    partial: dict = field(default_factory=dict)

    def call(self) -> dict:
        return {"args": self.args, "kwargs": self.kwargs}


def as_array(value):
    """``value`` as a float64 array, or (None, why not)."""
    if value is None:
        return None, "nothing (None); did you forget to return the result?"
    if isinstance(value, (str, bytes, dict)):
        return None, f"a {type(value).__name__}, not numbers"
    try:
        arr = np.asarray(value, dtype=np.float64)
    except Exception as err:  # ragged lists, objects ...
        return None, f"a {type(value).__name__} that is not an array of numbers ({err})"
    return arr, None


def _fit_shape(arr: np.ndarray, shape: tuple) -> np.ndarray:
    """``arr`` reshaped to ``shape`` when only axes of length 1 differ ((n, 1) for (n,), a
    one-element array for a scalar); otherwise unchanged."""
    if arr.shape != shape and arr.size == int(np.prod(shape)) and \
            tuple(d for d in arr.shape if d != 1) == tuple(d for d in shape if d != 1):
        return arr.reshape(shape)
    return arr


def _received_parts(value, parts: list):
    """The received value split like ``parts``: ([arrays], None) or (None, why not)."""
    if len(parts) == 1:
        arr, bad = as_array(value)
        return (None, bad) if bad else ([arr], None)
    labels = ", ".join(label for label, _ in parts)
    if not isinstance(value, (list, tuple)):
        return None, (f"a {type(value).__name__}, not a tuple of {len(parts)} ({labels}); end "
                      f"with `return {labels}`")
    if len(value) != len(parts):
        return None, f"{len(value)} items, not {len(parts)} ({labels})"
    out = []
    for (label, _), item in zip(parts, value):
        arr, bad = as_array(item)
        if bad:
            return None, f"{label} as {bad}"
        out.append(arr)
    return out, None


def _matches(received: list, parts: list, atol: float, rtol: float) -> bool:
    with np.errstate(all="ignore"):
        return all(r.shape == e.shape and bool(np.all(np.isfinite(r)))
                   and np.allclose(r, e, atol=atol, rtol=rtol)
                   for r, (_, e) in zip(received, parts))


def _shape_text(parts: list) -> str:
    if len(parts) == 1:
        shape = parts[0][1].shape
        return "a number" if shape == () else f"an array of shape {shape}"
    return "(" + ", ".join(f"{label} {e.shape if e.shape else 'a number'}"
                           for label, e in parts) + ")"


def _judge(case: Case, out: dict, atol: float, rtol: float):
    """(ok, error or None, why not)."""
    if out.get("error"):
        return False, None, f"your function raised: {str(out['error'])[:300]}"
    received, bad = _received_parts(out.get("value"), case.parts)
    if bad:
        return False, None, f"received {bad}"
    received = [_fit_shape(r, e.shape) for r, (_, e) in zip(received, case.parts)]
    for r, (label, e) in zip(received, case.parts):
        name = f"{label} " if label else "a result "
        if r.shape != e.shape:
            why = f"received {name}of shape {r.shape}"
            return False, None, _with_hint(why, case, received, atol, rtol, shape_only=True)
        if not np.all(np.isfinite(r)):
            return False, None, (f"received {name}with NaN or infinite values (exp of a large "
                                 "number, or log of 0?)")
    diffs = [float(np.max(np.abs(r - e))) if r.size else 0.0
             for r, (_, e) in zip(received, case.parts)]
    if _matches(received, case.parts, atol, rtol):
        return True, max(diffs), None
    worst = int(np.argmax(diffs))
    label = case.parts[worst][0]
    why = (f"received {label + ' with ' if label else ''}values that differ by up to "
           f"{diffs[worst]:.3g}")
    if len(case.parts) > 1:
        with np.errstate(all="ignore"):
            wrong = frozenset(lbl for r, (lbl, e) in zip(received, case.parts)
                              if not np.allclose(r, e, atol=atol, rtol=rtol))
        right = [lbl for lbl, _ in case.parts if lbl not in wrong]
        if right:
            why += f" ({', '.join(right)} right; {', '.join(sorted(wrong))} not)"
        hinted = _with_hint(why, case, received, atol, rtol)
        if hinted == why and wrong in case.partial:
            hinted = f"{why}; {case.partial[wrong]}"
        return False, max(diffs), hinted
    return False, max(diffs), _with_hint(why, case, received, atol, rtol)


def _with_hint(why: str, case: Case, received: list, atol: float, rtol: float, *,
               shape_only: bool = False) -> str:
    for hint, guess in case.guesses:
        if guess is None:
            continue
        if shape_only:
            fits = all(r.shape == np.shape(g) for r, (_, g) in zip(received, guess))
        else:
            fits = _matches(received, guess, max(atol, 1e-4), max(rtol, 1e-4))
        if fits:
            return f"{why}; it looks like {hint}"
    return why


def score(cases: list[Case], outputs: list[dict], *, what: str, atol: float, rtol: float,
          metric: str = "cases") -> dict:
    """Metrics ``{metric: share of cases that match, "max_error": ...}`` and a message that
    counts the cases and shows the first one that does not match. ``what`` says what the
    expected value is, e.g. "the convolution of x with kernel, plus bias"."""
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else []
    flags, errors, first = [], [], None
    for i, case in enumerate(cases):
        out = outputs[i] if i < len(outputs) and isinstance(outputs[i], dict) else {}
        ok, err, why = _judge(case, out, atol, rtol)
        flags.append(ok)
        errors.append(UNMEASURABLE if err is None else err)
        if not ok and first is None:
            first = (f"Case {i + 1} of {len(cases)} ({case.name}; {case.describe}): expected "
                     f"{_shape_text(case.parts)} equal to {what} within {atol:g}, {why}.")
    n_ok = sum(flags)
    message = (f"All {len(cases)} cases match the reference within {atol:g}." if first is None
               else f"{n_ok} of {len(cases)} cases match. {first}")
    return {"metrics": {metric: n_ok / len(cases) if cases else 0.0,
                        "max_error": max(errors) if errors else UNMEASURABLE},
            "message": message,
            "summary": f"on {len(cases)} cases drawn at grading time"}


def shape_of(name: str, value) -> str:
    """``"x (2, 9, 9, 3)"`` for an array, ``"stride 2"`` for a number."""
    arr = np.asarray(value)
    return f"{name} {arr.shape}" if arr.ndim else f"{name} {value}"
