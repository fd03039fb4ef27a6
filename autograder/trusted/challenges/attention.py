"""Challenge for `scaled_dot_product_attention`: inputs drawn from a secret seed, scored against
the reference (computed in float64 from the same float32 inputs).

Cases cover no batch dimension, one and two batch dimensions, Tq != Tk, dv != d, and masks of
several kinds (bool / int / float 0-1; causal, padding, random; broadcast over queries and
heads). One unmasked case uses the identity matrix as ``value``, so its output *is* the attention
weight matrix; ``score`` returns it (expected and received) for a heat-map picture.
"""
from __future__ import annotations

import numpy as np

from .compare import UNMEASURABLE, as_array, solution

ATOL = 1e-5  # absolute tolerance: outputs are O(1); float32 arithmetic errs by about 1e-6
RTOL = 1e-5

# (name, batch dims, Tq, Tk, d, dv, mask kind)
_LAYOUT = [
    ("no batch, self-attention", (), 5, 5, 8, 8, None),
    ("batch, Tq != Tk, dv != d", (3,), 4, 7, 16, 5, None),
    ("two batch dims (batch, heads)", (2, 3), 6, 9, 32, 4, None),
    ("identity value: output = attention weights", (), 8, 8, 16, None, None),
    ("causal mask (bool, Tq x Tk)", (2,), 6, 6, 8, 8, "causal"),
    ("padding mask (int 0/1, batch x 1 x Tk)", (3,), 5, 7, 16, 3, "padding"),
    ("random mask (float 0/1, batch x Tq x Tk)", (2,), 4, 6, 8, 5, "random"),
    ("causal mask broadcast over heads (bool, batch x 1 x Tq x Tk)", (2, 2), 5, 5, 16, 6,
     "causal_heads"),
]
IDENTITY_CASE = 3


def _mask(kind, rng, batch, tq, tk):
    if kind in ("causal", "causal_heads"):
        causal = np.tril(np.ones((tq, tk), dtype=bool))
        return causal if kind == "causal" else causal[None, None].repeat(batch[0], axis=0)
    if kind == "padding":
        lengths = rng.integers(2, tk + 1, size=batch)
        lengths[0] = tk - 2  # at least one sequence really is padded
        return (np.arange(tk)[None, :] < lengths[:, None]).astype("int32")[:, None, :]
    mask = rng.random(batch + (tq, tk)) < 0.6
    mask[..., rng.integers(0, tk)] = True  # every query may attend to at least one key
    return mask.astype("float32")


def make(seed: int, **kwargs) -> list[dict]:
    """The calls the sandbox makes: [{"args": [q, k, v], "kwargs": {"mask": m}}, ...]."""
    rng = np.random.default_rng(seed)
    calls = []
    for _name, batch, tq, tk, d, dv, kind in _LAYOUT:
        q = rng.normal(0.0, 1.0, batch + (tq, d)).astype("float32")
        k = rng.normal(0.0, 1.0, batch + (tk, d)).astype("float32")
        if dv is None:  # identity value: the output is the weight matrix itself
            q = q * np.float32(1.5)  # sharper weights make a more readable picture
            v = np.eye(tk, dtype="float32")
        else:
            v = rng.normal(0.0, 1.0, batch + (tk, dv)).astype("float32")
        kw = {} if kind is None else {"mask": _mask(kind, rng, batch, tq, tk)}
        calls.append({"args": [q, k, v], "kwargs": kw})
    return calls


REFERENCE = "solutions.transformer:scaled_dot_product_attention"  # course content only


def _mistaken(reference, q, k, v, mask, mistake: str):
    """What a typical mistake returns, made from the reference itself: scaling the query
    undoes or doubles the 1/sqrt(d); swapping the roles of query and key normalises over the
    queries instead of the keys."""
    d = q.shape[-1]
    allowed = None if mask is None else np.asarray(mask).astype(bool)
    if mistake == "no_scale":
        return reference(q * np.sqrt(d), k, v, mask=allowed)
    if mistake == "scale_d":
        return reference(q / np.sqrt(d), k, v, mask=allowed)
    if mistake == "ignore_mask":
        return reference(q, k, v)
    if mistake == "invert_mask":
        return None if allowed is None else reference(q, k, v, mask=~allowed)
    # wrong axis: weights normalised over the queries, as the transpose of key-to-query weights
    flipped = None if allowed is None else np.swapaxes(allowed, -1, -2)
    weights = reference(k, q, np.eye(q.shape[-2]), mask=flipped)  # (..., Tk, Tq)
    return np.swapaxes(weights, -1, -2) @ v


def _looks_like(arr, guess) -> bool:
    """``arr`` matches ``guess`` where the guess is defined (rows with every key masked are
    not: students' -1e9 gives uniform weights there)."""
    if guess is None or guess.shape != arr.shape:
        return False
    with np.errstate(all="ignore"):
        defined = np.isfinite(guess)
        return bool(defined.any()) and np.allclose(arr[defined], guess[defined], atol=1e-4,
                                                   rtol=1e-4)


_MISTAKES = [
    ("the 1/sqrt(d) scaling is missing: divide the scores query @ key^T by sqrt(d), where d is "
     "the last dimension of query", "no_scale"),
    ("the scores are divided by d instead of sqrt(d)", "scale_d"),
    ("the mask is ignored: set the scores where mask is false/0 to a very negative number "
     "(e.g. -1e9) before the softmax", "ignore_mask"),
    ("the mask is used the wrong way round: true/1 means the query MAY attend to that key",
     "invert_mask"),
    ("the softmax runs over the wrong axis: normalise over the keys (the last axis, so each row "
     "of weights sums to 1)", "wrong_axis"),
]


def _describe(call) -> str:
    q, k, v = call["args"]
    text = f"query {q.shape}, key {k.shape}, value {v.shape}"
    mask = call["kwargs"].get("mask")
    if mask is not None:
        text += f", mask {mask.shape} {mask.dtype}"
    return text


def score(seed: int, outputs: list[dict], **kwargs) -> dict:
    """Compare the student's outputs with the reference on the cases ``make(seed)`` produced."""
    reference = solution(REFERENCE)  # no attention code of its own
    calls = make(seed)
    passed = {"unmasked": [], "masked": []}
    errors, first_failure = [], {}  # group -> its first failing case, said in its own terms
    received_weights = None
    expected_weights = None
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else []
    for i, call in enumerate(calls):
        q, k, v = (a.astype(np.float64) for a in call["args"])
        mask = call["kwargs"].get("mask")
        expected = reference(q, k, v, mask=mask)
        group = "masked" if mask is not None else "unmasked"
        if i == IDENTITY_CASE:
            expected_weights = expected.tolist()
        out = outputs[i] if i < len(outputs) and isinstance(outputs[i], dict) else {}
        why, arr = None, None
        if out.get("error"):
            why = f"your function raised: {str(out['error'])[:300]}"
        else:
            arr, bad = as_array(out.get("value"))
            if bad:
                why = f"received {bad}"
            elif arr.shape != expected.shape:
                why = f"received an array of shape {arr.shape}"
            elif not np.all(np.isfinite(arr)):
                why = ("received NaN or infinite values (a row where every key is masked, or "
                       "exp of large scores without subtracting the row maximum?)")
        ok = False
        if why is None:
            diff = float(np.max(np.abs(arr - expected))) if arr.size else 0.0
            errors.append(diff)
            ok = bool(np.allclose(arr, expected, atol=ATOL, rtol=RTOL))
            if i == IDENTITY_CASE:
                received_weights = arr.tolist()
            if not ok:
                why = f"received values that differ by up to {diff:.3g}"
                for hint, mistake in _MISTAKES:
                    with np.errstate(all="ignore"):
                        guess = _mistaken(reference, q, k, v, mask, mistake)
                    if _looks_like(arr, guess):
                        why += f"; it looks like {hint}"
                        break
        else:
            errors.append(UNMEASURABLE)
        passed[group].append(ok)
        if not ok and group not in first_failure:
            first_failure[group] = (
                f"{group.capitalize()} case {len(passed[group])} of {_group_size(group)} "
                f"({_LAYOUT[i][0]}; {_describe(call)}): expected an array of shape "
                f"{expected.shape} equal to softmax(query @ key^T / sqrt(d), masked) @ value "
                f"within {ATOL}, {why}.")
    metrics = {group: float(np.mean(flags)) if flags else 0.0 for group, flags in passed.items()}
    metrics["max_error"] = float(max(errors)) if errors else UNMEASURABLE
    messages = {group: _group_message(group, flags, first_failure.get(group))
                for group, flags in passed.items()}
    failures = [first_failure[g] for g in passed if g in first_failure]
    n_ok = sum(sum(flags) for flags in passed.values())
    message = (f"All {len(calls)} cases match the reference within {ATOL}." if not failures
               else f"{n_ok} of {len(calls)} cases match. {failures[0]}")
    return {"metrics": metrics, "message": message, "messages": messages,
            "summaries": {g: f"on the {_group_size(g)} {g} cases drawn at grading time"
                          for g in passed},
            "weights": {"expected": expected_weights, "received": received_weights}}


def _group_size(group: str) -> int:
    """How many cases the ``masked`` or ``unmasked`` check scores (each check its own set)."""
    return sum((kind is not None) == (group == "masked") for *_, kind in _LAYOUT)


def _group_message(group: str, flags: list[bool], failure: str | None) -> str:
    """The message of one check: its own cases counted, its own first failure shown, so that
    "k of n" is the share the check's points follow."""
    if failure is None:
        return f"All {len(flags)} {group} cases match the reference within {ATOL}."
    return f"{sum(flags)} of {_group_size(group)} {group} cases match. {failure}"
