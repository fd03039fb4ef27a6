"""The trusted side of one task: rebuild, train or score what the sandbox exported.

Runs in processes that never import student code. A job is plain JSON: the spec (validated again
here by the same :func:`autograder.spec.from_dict` as in the grading process), the task's name,
the sandbox's exports for that task's calls, and the task's seed. The result is plain JSON too
(:class:`autograder.kinds.TaskResult`).
"""
from __future__ import annotations

import dataclasses

from . import kinds
from . import spec as specs


def job(spec: specs.Spec, task: str, exports: dict, seed: int, *, public: bool = False) -> dict:
    """The plain-JSON job for ``task`` (``exports``: call key -> what the sandbox returned);
    ``public``: train and score on the loader's public split (``course preview``)."""
    out = {"spec": spec.raw, "task": task, "seed": int(seed),
           "exports": {k: v for k, v in exports.items()}}
    if public:
        out["public"] = True
    return out


def run(job: dict, *, progress: bool = False) -> dict:
    """Run one job; a bad submission is a result, never an exception."""
    spec = specs.from_dict(job["spec"], f"job for {job['spec'].get('assignment')}")
    task = spec.tasks[job["task"]]
    if job.get("public"):
        task = dataclasses.replace(task, options={**task.options, kinds.PUBLIC_DATA: True})
    result = kinds.module(task.kind).run(task, job["exports"], int(job["seed"]),
                                         progress=progress)
    return result.to_json()
