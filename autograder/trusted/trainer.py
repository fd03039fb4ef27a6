"""The trusted side of one task: rebuild, train or score what the sandbox exported.

Runs in processes that never import student code. A :class:`Job` travels as plain JSON: the spec
(validated again on arrival by the same :func:`autograder.spec.from_dict` as in the grading
process: budgets, data, options), the task's name, the sandbox's exports for that task's calls,
and the task's seed. The result is plain JSON too (:class:`autograder.trusted.kinds.TaskResult`).
"""
from __future__ import annotations

import dataclasses

from . import kinds
from .. import spec as specs


class JobError(ValueError):
    """A job that is not what :meth:`Job.to_json` writes (a grader bug, never a student's)."""


@dataclasses.dataclass(frozen=True)
class Job:
    """One task of one submission, for a trainer."""

    spec: specs.Spec
    task: str
    seed: int
    exports: dict  # call key -> what the sandbox returned for it
    public: bool = False  # train and score on the loader's public split (``course preview``)

    def to_json(self) -> dict:
        out = {"spec": self.spec.raw, "task": self.task, "seed": int(self.seed),
               "exports": dict(self.exports)}
        if self.public:
            out["public"] = True
        return out

    @classmethod
    def from_json(cls, raw: dict) -> "Job":
        """The job ``raw`` describes, checked with the spec's own types."""
        if not isinstance(raw, dict) or not isinstance(raw.get("spec"), dict):
            raise JobError(f"expected a job object with a spec, received {type(raw).__name__}")
        spec = specs.from_dict(raw["spec"], f"job for {raw['spec'].get('assignment')}")
        task, seed, exports = raw.get("task"), raw.get("seed"), raw.get("exports")
        if task not in spec.tasks:
            raise JobError(f"job task {task!r}: expected one of {', '.join(spec.tasks)}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise JobError(f"job seed: expected an integer, received {seed!r}")
        if not isinstance(exports, dict):
            raise JobError(f"job exports: expected an object, received {type(exports).__name__}")
        return cls(spec, task, seed, exports, bool(raw.get("public", False)))


def job(spec: specs.Spec, task: str, exports: dict, seed: int, *, public: bool = False) -> dict:
    """The plain-JSON job for ``task`` (``exports``: call key -> what the sandbox returned);
    ``public``: train and score on the loader's public split (``course preview``)."""
    return Job(spec, task, int(seed), exports, public).to_json()


def run(raw: dict, *, progress: bool = False) -> dict:
    """Run one job; a bad submission is a result, never an exception."""
    checked = Job.from_json(raw)
    task = checked.spec.tasks[checked.task]
    if checked.public:
        task = dataclasses.replace(task, options={**task.options, kinds.PUBLIC_DATA: True})
    result = kinds.module(task.kind).run(task, checked.exports, checked.seed, progress=progress)
    return result.to_json()
