"""Task kinds: what the sandbox exports for a task and what the trusted side does with it.

A spec's tasks each name a kind; one module per kind, each with the same three functions:

- ``calls(spec, task, seed) -> list[dict]``, in the grading process (no Keras): the calls the
  sandbox makes for this task (function, arguments, and whether the result is exported as a
  model config or as values);
- ``run(task, exports, seed) -> TaskResult``, in a trusted worker that never imports student
  code: rebuild, train or score what came back;
- ``figures(task, result, threshold) -> {title: PNG bytes}``, in the grading process: the
  pictures for the feedback page.

Adding an assignment of an existing kind needs a spec, a solution, a notebook and fixtures; no
code here changes.
"""
from __future__ import annotations

import importlib

import numpy as np

from .result import ModelInfo, TaskResult  # noqa: F401  (the kinds' shared result type)

MODULES = {"classifier": "classifier", "values": "values", "gan": "gan"}
PUBLIC_DATA = "public_data"  # task option set for ``course preview``: the students' own split
PRIVATE_HELD_OUT = "held-out images you have not seen (a private pool no notebook loads)"


def module(kind: str):
    """The module implementing ``kind``."""
    if kind not in MODULES:
        raise ValueError(f"unknown task kind {kind!r}: expected one of {', '.join(MODULES)}")
    return importlib.import_module(f"{__name__}.{MODULES[kind]}")


def task_seed(task, grading_seed: int) -> int:
    """The seed a task runs with: the spec's seed mixed with the course's secret grading seed
    (kept in the course directory, never shown to the sandbox)."""
    state = np.random.SeedSequence([int(grading_seed), int(task.seed)]).generate_state(1)[0]
    return int(state) % 2**31  # every loader and backend accepts it


def model_calls(spec, task) -> list[dict]:
    """One call per function of ``task``, with the spec's arguments, exported as a model."""
    out = []
    for fn in task.functions:
        how = spec.functions.get(fn, {})
        out.append({"key": fn, "function": fn, "export": "model",
                    "args": how.get("args", []), "kwargs": how.get("kwargs", {})})
    return out


def graded_data(task, seed: int):
    """The task's data as grading draws it: the loader's public ``seed`` (the one students use)
    replaced by the task's seed, so the graded train/validation split is a fresh draw that no
    notebook can reproduce or fit; loaders with a private pool (the digits: ``graded=True``)
    take the graded test split from it, images no notebook loads, while synthetic tasks draw
    fresh examples. A preview (``task.options[PUBLIC_DATA]``) uses the loader's own default seed
    and public pool instead, the split every notebook loads: the student's own."""
    from course import data

    kwargs = dict(task.data.get("kwargs", {}))
    if public(task):
        kwargs.pop("seed", None)
        return data.load(task.data["name"], **kwargs)
    if data.has_private_pool(task.data["name"]):
        kwargs["graded"] = True
    return data.load(task.data["name"], **{**kwargs, "seed": seed})


def public(task) -> bool:
    """Whether ``task`` runs on the public data (``course preview``), not a grading draw."""
    return bool(task.options.get(PUBLIC_DATA))


def held_out(splits, task) -> str:
    """How the test split of ``splits`` was drawn, for the feedback ("accuracy 0.93 on ...")."""
    if public(task):
        return "your notebook's held-out split (x_test)"
    if getattr(splits, "private_test", False):
        return f"{len(splits.x_test)} {PRIVATE_HELD_OUT}"
    return "freshly drawn held-out data"
