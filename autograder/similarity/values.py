"""Values evidence: the same *wrong* answer on a grading challenge in two submissions.

Challenge inputs are drawn at grading time from a seed no notebook sees, so two submissions can
only return the same numbers by computing the same thing. The same right answer says little
(everyone correct agrees); the same wrong answer says the same bug. An answer is *right* when a
submission whose task earned full points returned it; every other answer is wrong. Answers are
compared after rounding (``DIGITS`` significant digits), so float noise does not hide a match.

A pair's score is, for the from-scratch function where it is highest, the share of that
function's challenge calls on which both returned the same wrong answer, each call weighted by
how rare that answer is: 1 when only these two gave it, 2/k when k did (a common mistake made
independently is weaker evidence). Per function, so that a bug copied in one function is not
diluted by the calls of the others, which both may have right.
"""
from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np

DIGITS = 6


def answer_key(value) -> str | None:
    """A hash of the value, rounded; None for what cannot be compared."""
    digest = hashlib.blake2b(digest_size=12)
    try:
        _feed(digest, value, 0)
    except (TypeError, ValueError, OverflowError):
        return None
    return digest.hexdigest()


def _feed(digest, value, depth: int) -> None:
    if depth > 16:
        raise ValueError("too deep")
    if isinstance(value, (list, tuple)):
        digest.update(f"[{len(value)}".encode())
        for v in value:
            _feed(digest, v, depth + 1)
        digest.update(b"]")
        return
    if isinstance(value, str):
        digest.update(b"s" + value.encode())
        return
    array = np.asarray(value, dtype=float)
    with np.errstate(all="ignore"):
        rounded = np.array([float(f"{x:.{DIGITS}g}") for x in array.ravel()]) + 0.0
    digest.update(f"a{array.shape}".encode() + rounded.tobytes())


def _function(key: str) -> str:
    """The function of a challenge call's key: "conv2d_forward#3" -> "conv2d_forward"."""
    return key.rsplit("#", 1)[0]


def scores(students: list[str], values: dict[str, dict], right: dict[str, set]
           ) -> tuple[np.ndarray, dict]:
    """``values``: call key -> {student: value}; ``right``: call key -> students whose task
    earned full marks. Returns (n x n scores, shared: call key -> [(students, answer)])."""
    n = len(students)
    index = {s: i for i, s in enumerate(students)}
    shared: dict[str, list] = {}
    calls = sorted(values)
    counts = Counter(_function(key) for key in calls)  # "conv2d_forward" -> its calls
    per_function = {function: np.zeros((n, n)) for function in counts}  # summed weights
    for key in calls:
        total = per_function[_function(key)]
        groups: dict[str, list] = {}
        for student, value in values[key].items():
            k = answer_key(value)
            if k is not None:
                groups.setdefault(k, []).append(student)
        right_keys = {k for k, members in groups.items() if set(members) & right.get(key, set())}
        for k, members in groups.items():
            if k in right_keys or len(members) < 2:
                continue
            rows = np.array([index[s] for s in members])
            total[np.ix_(rows, rows)] += 2.0 / len(members)
            shared.setdefault(key, []).append(sorted(members))
    best = np.zeros((n, n))
    for function, total in per_function.items():
        best = np.maximum(best, total / counts[function])
    np.fill_diagonal(best, 0.0)
    return np.clip(best, 0.0, 1.0), shared
