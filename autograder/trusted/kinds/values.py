"""Values tasks: a from-scratch function is called in the sandbox on inputs the grader makes at
grading time (from a seed the notebook never sees); only numbers come back, and the trusted
side scores them.

The inputs and the scoring come from a *challenge*, a small NumPy module in
``autograder/trusted/challenges/`` (hidden from the sandbox) with two functions:
``make(seed, **kwargs) -> [{"args": [...], "kwargs": {...}}, ...]`` and
``score(seed, outputs, **kwargs) -> {"metrics": {...}, "message": str, ...}``, where
``outputs[i]`` is ``{"value": ..., "error": None}`` or ``{"value": None, "error": why}``.
Optional in the score: ``"summary"`` (how the metrics were measured, e.g. on how many held-out
points; default: on how many calls), and ``"messages"``/``"summaries"`` keyed by metric, for
checks that each score their own part of the cases.
"""
from __future__ import annotations

import importlib

from ...sandbox import protocol
from . import public
from .result import TaskResult


def challenge(task):
    name = task.options["challenge"]["name"]
    return importlib.import_module(f"autograder.trusted.challenges.{name}")


def _kwargs(task) -> dict:
    return dict(task.options["challenge"].get("kwargs", {}))


def calls(spec, task, seed: int) -> list[dict]:
    made = challenge(task).make(seed, **_kwargs(task))
    return [{"key": f"{task.function}#{i}", "function": task.function, "export": "values",
             "args": [protocol.encode(a) for a in call.get("args", [])],
             "kwargs": {k: protocol.encode(v) for k, v in call.get("kwargs", {}).items()}}
            for i, call in enumerate(made)]


def _output(exported: dict) -> dict:
    if not exported.get("ok"):
        return {"value": None, "error": exported.get("error", "no result")}
    try:
        value = protocol.decode(exported["value"])
    except (protocol.DecodeError, RecursionError) as err:
        return {"value": None, "error": f"the returned value could not be read ({err})"}
    if isinstance(value, protocol.Unsupported):
        return {"value": None, "error": f"it returned a {value}, not numbers or arrays"}
    return {"value": value, "error": None}


def run(task, exports: dict, seed: int, *, progress: bool = False) -> TaskResult:
    """Score what the function returned on each challenge input."""
    module = challenge(task)
    keys = sorted((k for k in exports if k.startswith(f"{task.function}#")),
                  key=lambda k: int(k.rsplit("#", 1)[1]))
    outputs = [_output(exports[k]) for k in keys]
    scored = module.score(seed, outputs, **_kwargs(task))
    errors = [o["error"] for o in outputs if o["error"]]
    result = TaskResult(task.name, "values", ok=True,
                        metrics={k: float(v) for k, v in scored["metrics"].items()},
                        message=scored.get("message", ""),
                        summary=scored.get("summary")
                        or f"on {len(outputs)} inputs drawn "
                        + ("with the public seed" if public(task) else "at grading time"),
                        messages=dict(scored.get("messages") or {}),
                        summaries=dict(scored.get("summaries") or {}))
    if errors and len(errors) == len(outputs):
        result.message, result.messages = errors[0], {}
    result.extra = {k: v for k, v in scored.items()
                    if k not in ("metrics", "message", "summary", "messages", "summaries")}
    return result


def figures(task, result: TaskResult, *, threshold: float | None = None,
            metric: str = "") -> dict:
    """Expected and received attention weights, where the challenge gives them."""
    weights = result.extra.get("weights") or {}
    if not weights.get("expected"):
        return {}
    from course import plots

    return {"Attention weights on a challenge input": plots.to_png(plots.heatmaps(
        {"expected (reference)": weights["expected"],
         "received (your function)": weights.get("received")},
        xlabel="key position", ylabel="query position"))}
