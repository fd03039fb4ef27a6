"""Per assignment: what is graded, the thresholds, the reference's score, and grading seconds
per submission on each Keras backend.

    .venv/bin/python bench/assignments.py [--repeats 3] [--backend tensorflow --backend jax ...]
                                          [--out bench/results/assignments.md]

Grades the reference submission of every assignment ``--repeats`` times, one submission at a
time (sandbox -> trusted tasks -> checks, as ``course grade`` does, with warm trainers), on each
``--backend`` (default: this process's backend) in turn, and reports the median seconds per
submission. Task, floor and threshold come from the specs. The grading process never imports
Keras, so a backend is a fresh pool of trainers (and sandboxes) with ``KERAS_BACKEND`` set.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import fixtures, pipeline  # noqa: E402
from autograder import spec as specs  # noqa: E402
from autograder.demo import ORDER  # noqa: E402
from autograder.trusted.pool import WorkerPool  # noqa: E402
from course import runtime  # noqa: E402


def thresholds(spec) -> str:
    def name(c):  # a from-scratch function's share of matching cases is named by the function
        return (f"`{spec.tasks[c.task].function}` cases" if c.metric == "match"
                else c.metric.replace("_", " "))

    return "; ".join(f"{name(c)}: floor {c.floor:g}, threshold {c.threshold:g}"
                     for c in spec.checks if c.kind == "metric")


def grade_reference(assignment: str, tmp: str, repeats: int, pool) -> tuple[set, float]:
    spec = specs.load(assignment)
    path = Path(tmp) / f"{assignment}.ipynb"
    path.write_text(json.dumps(fixtures.submissions(assignment, {"ref": "reference"})["ref"]))
    seconds, scores = [], set()
    for _ in range(repeats):
        t0 = time.perf_counter()
        run = pipeline.grade(spec, {"ref": path}, pool=pool, progress=False)
        seconds.append(time.perf_counter() - t0)
        scores.add(run.graded["ref"].score)
    return scores, statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", action="append", choices=["tensorflow", "jax", "torch"])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "assignments.md")
    args = parser.parse_args()
    backends = args.backend or [runtime.backend_name()]
    measured: dict[tuple[str, str], tuple[set, float]] = {}
    devices = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            os.environ["KERAS_BACKEND"] = backend  # trainers and sandboxes inherit it
            with WorkerPool() as pool:
                pool.start()
                devices[backend] = pool.devices[0]
                for assignment in ORDER:
                    measured[backend, assignment] = grade_reference(assignment, tmp,
                                                                    args.repeats, pool)
                    print(backend, assignment, measured[backend, assignment], flush=True)
    command = "".join(f" --backend {b}" for b in backends)
    lines = [f"# Assignments: what is graded and what it costs ({datetime.date.today()})", "",
             f"Command: `.venv/bin/python bench/assignments.py --repeats {args.repeats}"
             f"{command}`  ",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores; trainers: "
             + ", ".join(f"{b}: {d}" for b, d in devices.items())
             + f"; warm trainers; one submission at a time; median of {args.repeats} gradings "
             "of the reference (sandbox + trusted tasks + checks).", "",
             "| assignment | task | what separates the concept | metrics | reference score | "
             + " | ".join(f"s per submission, {b}" for b in backends) + " |",
             "| --- | --- | --- | --- | --- | " + " | ".join("---:" for _ in backends) + " |"]
    for assignment in ORDER:
        spec = specs.load(assignment)
        about = spec.raw.get("about", {})
        scores = set().union(*(measured[b, assignment][0] for b in backends))
        lines.append(f"| `{assignment}` | {about.get('task', spec.title)} | "
                     f"{about.get('separates', '')} | {thresholds(spec)} | "
                     + "/".join(f"{s:g}" for s in sorted(scores)) + f" of {spec.max_score:g} | "
                     + " | ".join(f"{measured[b, assignment][1]:.1f}" for b in backends) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
