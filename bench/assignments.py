"""Per assignment: what is graded, the thresholds, the reference's score, and grading seconds.

    .venv/bin/python bench/assignments.py [--repeats 3] [--out bench/results/assignments.md]

Grades the reference submission of every assignment ``--repeats`` times, one submission at a
time (sandbox -> trusted tasks -> checks, as ``course grade`` does, with warm trainers), and
reports the median seconds per submission. Task, floor and threshold come from the specs.
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
from autograder.pool import WorkerPool  # noqa: E402
from course import runtime  # noqa: E402


def thresholds(spec) -> str:
    return "; ".join(f"{c.metric.replace('_', ' ')}: floor {c.floor:g}, threshold {c.threshold:g}"
                     for c in spec.checks if c.kind == "metric")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "assignments.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, WorkerPool() as pool:
        pool.start()
        for assignment in ORDER:
            spec = specs.load(assignment)
            path = Path(tmp) / f"{assignment}.ipynb"
            path.write_text(json.dumps(fixtures.submissions(assignment, {"ref": "reference"})["ref"]))
            seconds, scores = [], set()
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                run = pipeline.grade(spec, {"ref": path}, pool=pool, progress=False)
                seconds.append(time.perf_counter() - t0)
                scores.add(run.graded["ref"].score)
            about = spec.raw.get("about", {})
            rows.append((assignment, about.get("task", spec.title), about.get("separates", ""),
                         thresholds(spec), "/".join(f"{s:g}" for s in sorted(scores))
                         + f" of {spec.max_score:g}", statistics.median(seconds)))
            print(rows[-1], flush=True)
    lines = [f"# Assignments: what is graded and what it costs ({datetime.date.today()})", "",
             f"Command: `.venv/bin/python bench/assignments.py --repeats {args.repeats}`  ",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, backend "
             f"{runtime.backend_name()}; warm trainers; one submission at a time; median of "
             f"{args.repeats} gradings of the reference.", "",
             "| assignment | task | what separates the concept | metrics | reference score | "
             "grading s per submission |", "| --- | --- | --- | --- | --- | ---: |"]
    lines += [f"| `{a}` | {t} | {sep} | {th} | {sc} | {s:.1f} |" for a, t, sep, th, sc, s in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
