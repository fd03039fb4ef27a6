"""What the from-scratch challenges share: read what a student's function returned as numbers,
compare it with the reference case by case, name the common mistake it matches, and say which
case failed, what was expected and what came back.

A challenge module builds its cases (inputs drawn from the grading seed, the reference's answer
and, lazily, what each common mistake would return) and hands them to :func:`score`, which gives
the ``values`` kind its ``{"metrics", "message"}``: ``match`` is the share of cases that agree
within the tolerance, ``max_error`` the largest difference seen.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

UNMEASURABLE = 1e6  # max_error when no output could be compared (wrong shape, NaN, error)
GUESS_TOLERANCE = 1e-4  # how close a returned value must be to a mistake's to name it


@dataclass
class Case:
    """One call the sandbox makes, and what it should return."""
    label: str  # what the case exercises, in words ("stride 2, 'same' padding")
    call: dict  # {"args": [...], "kwargs": {...}}, as sent to the sandbox
    expected: object  # an array or a number; a tuple of them where the function returns several
    guesses: Callable[[], list] = field(default=lambda: [])  # [(hint, what that mistake gives)]
    names: tuple[str, ...] = ()  # the function's positional parameters, to name the inputs


def solution(path: str):
    """A reference function from the course content (``"solutions.cnn:conv2d_forward"``);
    students' installs do not hold it, so the challenges hold no answer code of their own."""
    from ... import content

    return content.solution_function(path)


def keywords(**given) -> dict:
    """The keyword arguments a call sets: those not None (None leaves the function's default,
    so the default itself is tested)."""
    return {k: v for k, v in given.items() if v is not None}


def from_calls(layout, calls, reference, guesses, names=()) -> list[Case]:
    """A case per call: its label is the first item of its ``layout`` row, its answer the
    reference's on the call's arrays in float64 (and its keyword arguments), its guesses
    ``guesses(reference, args, **kwargs)``, the common mistakes' answers (worked out when
    asked)."""
    out = []
    for (label, *_), call in zip(layout, calls):
        args = [np.asarray(a, dtype=np.float64) for a in call["args"]]
        kwargs = call.get("kwargs", {})
        out.append(Case(label, call, reference(*args, **kwargs),
                        guesses(reference, args, **kwargs), names))
    return out


def as_array(value):
    """The received value as a float64 array, or (None, why not)."""
    if value is None:
        return None, "nothing (None); did you forget to return the result?"
    if isinstance(value, dict):
        return None, "a dict, not an array of numbers"
    try:
        arr = np.asarray(value, dtype=np.float64)
    except Exception as err:  # strings, ragged lists ...
        return None, f"a {type(value).__name__} that is not an array of numbers ({err})"
    return arr, None


def _fit(arr, shape):
    """``arr`` in ``shape`` when only size-1 axes differ (a (n, 1) for an (n,), a (1,) for a
    number): the numbers are right, so accept them; None when the shapes really differ."""
    if arr.shape == shape:
        return arr
    squeezed = tuple(n for n in arr.shape if n != 1)
    if squeezed == tuple(n for n in shape if n != 1):
        return arr.reshape(shape)
    return None


def _shape(shape) -> str:
    return "a number" if shape == () else f"shape {shape}"


def _one(received, expected: np.ndarray, name: str, atol: float, rtol: float):
    """(ok, largest difference or None, why not) for one returned array."""
    arr, bad = as_array(received)
    if bad:
        return False, None, f"received {bad}"
    fitted = _fit(arr, expected.shape)
    if fitted is None:
        return False, None, (f"received {name}{_shape(arr.shape)} where {_shape(expected.shape)} "
                             "was expected")
    if not np.all(np.isfinite(fitted)):
        return False, None, f"received NaN or infinite values{' in ' + name if name else ''}"
    diff = float(np.max(np.abs(fitted - expected))) if fitted.size else 0.0
    ok = bool(np.allclose(fitted, expected, atol=atol, rtol=rtol))
    return ok, diff, None if ok else f"received {name}values that differ by up to {diff:.3g}"


def compare(received, expected, parts, atol: float, rtol: float):
    """(ok, largest difference or None, why not); ``parts`` names the arrays of a tuple result
    (``received`` may then be a tuple, a list or a dict with those names)."""
    if not parts:
        return _one(received, np.asarray(expected, dtype=np.float64), "", atol, rtol)
    if isinstance(received, dict) and set(parts) <= set(received):
        received = [received[p] for p in parts]
    if not isinstance(received, (list, tuple)) or len(received) != len(parts):
        got = (f"{len(received)} items" if isinstance(received, (list, tuple))
               else type(received).__name__)
        return False, None, (f"expected a tuple ({', '.join(parts)}), received {got}; end with "
                             f"`return {', '.join(parts)}`")
    worst = 0.0
    for name, got, want in zip(parts, received, expected):
        ok, diff, why = _one(got, np.asarray(want, dtype=np.float64), f"{name} ", atol, rtol)
        if not ok:
            return False, diff, why
        worst = max(worst, diff)
    return True, worst, None


def describe(call: dict, names=()) -> str:
    """The inputs of a call in words: shapes of arrays (and dtypes other than float32), values
    of the rest; ``x (2, 6, 6, 1), kernel (3, 3, 1, 2), bias (2,), stride=2``."""
    def one(value):
        if isinstance(value, np.ndarray):
            return f"{value.shape}" + ("" if value.dtype == np.float32 else f" {value.dtype}")
        return repr(value)

    args = call.get("args", [])
    names = list(names)[:len(args)] + [f"argument {i + 1}" for i in range(len(names), len(args))]
    words = [f"{name} {one(a)}" for name, a in zip(names, args)]
    words += [f"{k}={one(v)}" for k, v in call.get("kwargs", {}).items()]
    return ", ".join(words)


def _guess(received, cases_guesses, parts) -> str:
    """The hint of the first common mistake the received value matches, or ""."""
    for hint, wrong in cases_guesses:
        if wrong is None:
            continue
        with np.errstate(all="ignore"):
            ok, _, _ = compare(received, wrong, parts, GUESS_TOLERANCE, GUESS_TOLERANCE)
        if ok:
            return f"; it looks like {hint}"
    return ""


def score(cases: list[Case], outputs, *, what: str, atol: float, rtol: float,
          parts: tuple[str, ...] = (), nonfinite_hint: str = "") -> dict:
    """The ``values`` result of a challenge: one metric, ``match``, the share of cases that
    agree with the reference, and a message naming the first case that does not."""
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else []
    passed, errors, failure = [], [], None
    for i, case in enumerate(cases):
        out = outputs[i] if i < len(outputs) and isinstance(outputs[i], dict) else {}
        if out.get("error"):
            ok, diff, why = False, None, f"your function raised: {str(out['error'])[:300]}"
        else:
            with np.errstate(all="ignore"):
                ok, diff, why = compare(out.get("value"), case.expected, parts, atol, rtol)
            if not ok and diff is not None and failure is None:  # only the first is said
                why += _guess(out.get("value"), case.guesses(), parts)
            elif not ok and "NaN" in why and nonfinite_hint:
                why += f" ({nonfinite_hint})"
        passed.append(ok)
        errors.append(UNMEASURABLE if diff is None else diff)
        if not ok and failure is None:
            failure = (f"Case {i + 1} of {len(cases)} ({case.label}; "
                       f"{describe(case.call, case.names)}): "
                       f"expected {what} within {atol}, {why}.")
    n_ok = sum(passed)
    message = (f"All {len(cases)} cases match the reference within {atol}." if failure is None
               else f"{n_ok} of {len(cases)} cases match. {failure}")
    return {"metrics": {"match": n_ok / len(cases) if cases else 0.0,
                        "max_error": max(errors) if errors else UNMEASURABLE},
            "message": message}
