"""Calibration of the from-scratch checks: the reference and every fixture that defines the
function, scored on challenge seeds 0..N-1 exactly as the trusted side scores the sandbox's
outputs (no training, so every seed costs milliseconds).

    .venv/bin/python bench/from_scratch.py [--seeds 20] [--out bench/results/from_scratch.md]

For each check: the share of cases that match (the check's points follow it linearly, floor 0,
threshold 1) as min-max over the seeds, and the hint of the first failing case on seed 0.
"""
from __future__ import annotations

import argparse
import ast
import datetime
import importlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import fixtures  # noqa: E402
from autograder import spec as specs  # noqa: E402

ASSIGNMENTS = ["perceptron", "cnn", "rnn", "transformer", "gan"]
SKIP = {"attention", "perceptron"}  # measured by bench/measure_perceptron.py and the calibration


def _checks():
    """(assignment, grade id, points, function, challenge module, kwargs) of each check."""
    for assignment in ASSIGNMENTS:
        spec = specs.load(assignment)
        for check in spec.checks:
            task = spec.raw["tasks"][check.task]
            if task["kind"] == "values" and task["challenge"]["name"] not in SKIP:
                module = importlib.import_module(
                    f"autograder.trusted.challenges.{task['challenge']['name']}")
                yield (assignment, check.grade_id, check.points, task["function"], module,
                       task["challenge"].get("kwargs", {}))


def _defining(assignment: str, function: str) -> list[str]:
    """The fixtures of ``assignment`` that define ``function``."""
    out = []
    for name in fixtures.names(assignment):
        tree = ast.parse(fixtures.code(assignment, name))
        if any(isinstance(n, ast.FunctionDef) and n.name == function for n in tree.body):
            out.append(name)
    return out


def _score(module, kwargs, fn, seed):
    outputs = []
    for call in module.make(seed, **kwargs):
        try:
            with np.errstate(all="ignore"):
                outputs.append({"value": fn(*call["args"], **call["kwargs"]), "error": None})
        except Exception as err:
            outputs.append({"value": None, "error": f"{type(err).__name__}: {err}"})
    return module.score(seed, outputs, **kwargs)


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
    for assignment, grade_id, points, function, module, kwargs in _checks():
        candidates = {"reference": getattr(importlib.import_module(f"solutions.{assignment}"),
                                           function)}
        for name in _defining(assignment, function):
            namespace: dict = {}
            exec(fixtures.code(assignment, name), namespace)
            candidates[name] = namespace[function]
        for name, fn in candidates.items():
            scored = [_score(module, kwargs, fn, seed) for seed in range(args.seeds)]
            match = [s["metrics"]["match"] for s in scored]
            message = scored[0]["message"]
            hint = ("" if match[0] == 1 else message.split("it looks like ")[-1].rstrip(".")
                    if "it looks like" in message else message.split(", received ")[-1][:120])
            lines.append(f"| `{grade_id}` | {points:g} | `{name}` | {min(match):.3f}-"
                         f"{max(match):.3f} | {min(match) * points:.2f}-{max(match) * points:.2f}"
                         f" | {hint.replace('|', '/')} |")
            print(lines[-1], flush=True)
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
