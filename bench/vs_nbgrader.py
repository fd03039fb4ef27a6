"""`course grade` vs plain `nbgrader autograde` of the same submissions, in the same run.

    .venv/bin/python bench/vs_nbgrader.py [--assignment cnn] [--submissions 20]
                                          [--out bench/results/vs_nbgrader.md]

Two course directories with the same released assignment, the same grading seed and the same
``--submissions`` notebooks (the demo's fixtures for the assignment, cycled: the reference and
its common mistakes):

- ``course grade <id>``: sandboxes and warm trusted trainers side by side, one trainer per core;
- ``nbgrader autograde <id>``: the notebooks' hidden test cells train the model *in the
  notebook's own kernel* (``bench/in_kernel.py``: the same job, trainer code and checks), one
  notebook after another, as a plain nbgrader course does.

Both are timed as the commands an instructor types (a fresh process each). Reports the wall
times, the speed-up (goal >= 3 on 2 cores), whether the scores agree, and where `course grade`'s
time goes (its per-submission stage times, summed).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from autograder import demo  # noqa: E402
from autograder.gradebook import notebooks
from autograder.gradebook.workspace import Workspace, read_csv  # noqa: E402
from course import runtime  # noqa: E402

INLINE = "from autograder.inline import grade_check"
IN_KERNEL = "from in_kernel import grade_check"


def cycled(assignment: str, n: int) -> dict[str, str]:
    """``{student: fixture}``: the demo's fixtures for ``assignment``, repeated to ``n``."""
    fixtures = list(demo.students(assignment).values())
    return {f"s{i + 1:02d}": fixtures[i % len(fixtures)] for i in range(n)}


def plain_course(ws: Workspace, assignment: str) -> None:
    """Release ``assignment`` with hidden test cells that train in the kernel."""
    ws.init()
    source = notebooks.write(assignment, ws.source(assignment).parent)
    nb = json.loads(source.read_text())
    patched = 0
    for cell in nb["cells"]:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if INLINE in text:
            cell["source"] = text.replace(INLINE, IN_KERNEL)
            patched += 1
    assert patched, f"no hidden test cell imports `{INLINE}` in {source}"
    source.write_text(json.dumps(nb, indent=1))
    result = ws._api().generate_assignment(assignment, force=True, create=True)
    assert result.get("success"), result.get("error") or result.get("log")


def timed(cmd: list[str], cwd: Path, env: dict) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def scores(ws: Workspace, assignment: str, name: str) -> dict[str, float]:
    rows = read_csv(ws.export_csv(ws.root / f"{name}.csv"))
    return {r["student_id"]: float(r["score"]) for r in rows if r["assignment"] == assignment}


def stage_profile(ws: Workspace, assignment: str) -> dict[str, float]:
    """`course grade`'s per-submission stage seconds, summed over the submissions."""
    totals: dict[str, float] = {}
    for path in sorted((ws.results_dir / assignment).glob("*.json")):
        for key, seconds in json.loads(path.read_text()).get("timings", {}).items():
            stage = key if key == "sandbox" else key.split(".", 1)[-1]
            totals[stage] = totals.get(stage, 0.0) + float(seconds)
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="cnn", choices=demo.ORDER)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "vs_nbgrader.md")
    args = parser.parse_args()
    a, students = args.assignment, cycled(args.assignment, args.submissions)
    bindir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
           "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryDirectory() as tmp:
        ours, plain = Workspace(Path(tmp) / "course"), Workspace(Path(tmp) / "plain")
        ours.release(a)
        plain_course(plain, a)
        (plain.root / "grading_seed").write_text(str(ours.grading_seed))  # the same draws
        demo.make_submissions(ours, a, students)
        demo.make_submissions(plain, a, students)
        print(f"{len(students)} submissions of {a}: "
              + ", ".join(f"{f} x{list(students.values()).count(f)}"
                          for f in dict.fromkeys(students.values())), flush=True)
        course_s = timed([os.path.join(bindir, "course"), "grade", a, "--course-dir",
                          str(ours.root)], ours.root, env)
        print(f"course grade: {course_s:.1f} s", flush=True)
        plain_s = timed([os.path.join(bindir, "nbgrader"), "autograde", a, "--force"],
                        plain.root, env)
        print(f"nbgrader autograde (in-kernel training): {plain_s:.1f} s", flush=True)
        ours_scores, plain_scores = scores(ours, a, "ours"), scores(plain, a, "plain")
        profile = stage_profile(ours, a)
    agree = sum(ours_scores.get(s) == plain_scores.get(s) for s in students)
    differ = [f"{s} ({students[s]}): {ours_scores.get(s)} vs {plain_scores.get(s)}"
              for s in students if ours_scores.get(s) != plain_scores.get(s)]
    ratio = plain_s / course_s
    lines = [
        f"# `course grade` vs plain `nbgrader autograde` ({datetime.date.today()})", "",
        f"Command: `.venv/bin/python bench/vs_nbgrader.py --assignment {a} --submissions "
        f"{len(students)}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, no GPU, backend "
        f"{runtime.backend_name()}. Both timed as the command an instructor types, one after the "
        "other in the same run, on the same notebooks and grading seed.", "",
        "| assignment | submissions | `course grade` s | `nbgrader autograde` s (in-kernel "
        "training) | speed-up (goal >= 3) | same score |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| `{a}` | {len(students)} | {course_s:.1f} | {plain_s:.1f} | {ratio:.2f}x | "
        f"{agree}/{len(students)} |", "",
        "Submissions: " + ", ".join(f"`{f}` x{list(students.values()).count(f)}"
                                    for f in dict.fromkeys(students.values())) + ".", "",
        "Where `course grade`'s time goes (seconds per stage, summed over the submissions; "
        f"wall {course_s:.1f} s on {os.cpu_count()} cores):", "",
        "| stage | s summed | s per submission |", "| --- | ---: | ---: |"]
    lines += [f"| {k} | {v:.1f} | {v / len(students):.2f} |" for k, v in profile.items()]
    if differ:
        lines += ["", "Scores that differ (`course grade` vs plain nbgrader). Plain nbgrader runs "
                  "the visible test cells on the student's own objects in the kernel; `course "
                  "grade` scores every check from what the trusted side can rebuild (a `Lambda` "
                  "layer cannot be), and in-kernel training runs on the framework's default "
                  "threads, the trainers on one each:", ""] + [f"- {d}" for d in differ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
