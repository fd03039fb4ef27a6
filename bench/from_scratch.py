"""Calibration of the from-scratch checks: the reference and every fixture that defines the
function, scored on challenge seeds 0..N-1 exactly as the trusted side scores the sandbox's
outputs (no training, so every seed costs milliseconds).

    .venv/bin/python bench/from_scratch.py [--seeds 20] [--out bench/results/from_scratch.md]

For each check: the share of cases that match (the check's points follow it linearly, floor 0,
threshold 1) as min-max over the seeds, and the hint of the first failing case on seed 0. The
calls go the grader's way (encoded, made by the sandbox's ``run_call``, scored by the
``values`` kind), in this process.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import fixtures  # noqa: E402
from autograder import spec as specs  # noqa: E402
from autograder.sandbox.child import run_call  # noqa: E402
from autograder.trusted.kinds import values  # noqa: E402

ASSIGNMENTS = ["perceptron", "cnn", "rnn", "transformer", "gan"]
SKIP = {"attention", "perceptron"}  # measured by bench/measure_perceptron.py and the calibration


def _checks():
    """(assignment, spec, check, task) of each from-scratch check measured here."""
    for assignment in ASSIGNMENTS:
        spec = specs.load(assignment)
        for check in spec.checks:
            task = spec.tasks[check.task]
            if task.kind == "values" and task.options["challenge"]["name"] not in SKIP:
                yield assignment, spec, check, task


def _score(spec, task, fn, seed):
    """As grading scores ``fn``: the challenge's calls as sent to the sandbox, made by the
    sandbox's own ``run_call`` (here, in process), scored by the ``values`` kind."""
    with np.errstate(all="ignore"):
        exports = {call["key"]: run_call(call, {task.function: fn})
                   for call in values.calls(spec, task, seed)}
    return values.run(task, exports, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/from_scratch.md")
    args = parser.parse_args()
    lines = [f"# From-scratch checks: reference and common mistakes ({datetime.date.today()})",
             "", f"Command: `.venv/bin/python bench/from_scratch.py --seeds {args.seeds}`  ",
             f"Challenge seeds 0..{args.seeds - 1}; `match` is the share of a seed's cases "
             "within the tolerance (points = match x the check's points).", "",
             "| check | points | submission | match (min-max) | points (min-max) "
             "| hint on seed 0 |",
             "| --- | ---: | --- | --- | --- | --- |"]
    for assignment, spec, check, task in _checks():
        function = task.function
        candidates = {"reference": getattr(importlib.import_module(f"solutions.{assignment}"),
                                           function)}
        for name in (n for n in fixtures.names(assignment)
                     if function in fixtures._defined(fixtures.code(assignment, n))):
            namespace: dict = {}
            exec(fixtures.code(assignment, name), namespace)
            candidates[name] = namespace[function]
        for name, fn in candidates.items():
            scored = [_score(spec, task, fn, seed) for seed in range(args.seeds)]
            match = [s.metrics["match"] for s in scored]
            message = scored[0].message
            hint = ("" if match[0] == 1 else message.split("it looks like ")[-1].rstrip(".")
                    if "it looks like" in message else message.split(", received ")[-1][:120])
            points = check.points
            lines.append(f"| `{check.grade_id}` | {points:g} | `{name}` | {min(match):.3f}-"
                         f"{max(match):.3f} | {min(match) * points:.2f}-{max(match) * points:.2f}"
                         f" | {hint.replace('|', '/')} |")
            print(lines[-1], flush=True)
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
