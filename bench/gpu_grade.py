"""Grade the cnn reference and the demo fixtures on each Keras backend, on a GPU when there is one.

    python bench/gpu_grade.py --backends jax,torch --out bench/out/gpu

Each backend runs in its own process (``KERAS_BACKEND`` must be set before Keras is imported), and
grades the submissions through ``autograder.pipeline.grade``: sandbox -> inspect -> train ->
checks. Without a GPU the same run trains on the CPU (what CI exercises). Writes
``gpu_<assignment>.md`` (a Markdown table) and ``gpu_<assignment>.json`` to ``--out``.

The submitted notebooks are made from the assignment source (which needs nbformat) into
``--notebooks`` the first time; a machine without nbformat (the GPU machines) reuses the ones
prepared and carried there.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTEBOOKS = HERE / "out" / "gpu_notebooks"


def prepare_notebooks(assignment: str, folder: Path) -> dict[str, str]:
    """``{student: fixture}`` from ``folder/students.json``; makes the notebooks if missing."""
    manifest = folder / "students.json"
    if manifest.exists():
        students = json.loads(manifest.read_text())
        if all((folder / f"{s}.ipynb").exists() for s in students):
            return students
    from autograder import demo  # imports nbformat: only where the notebooks are made

    students = demo.DEMO_STUDENTS[assignment]
    folder.mkdir(parents=True, exist_ok=True)
    for student, nb in demo.submissions(assignment, students).items():
        (folder / f"{student}.ipynb").write_text(json.dumps(nb, indent=1))
    manifest.write_text(json.dumps(students, indent=1))
    return students


def grade_one_backend(assignment: str, folder: Path, students: dict[str, str]) -> dict:
    """Run in the backend's own process: grade every notebook, return plain JSON."""
    from autograder import pipeline, spec

    subs = {s: folder / f"{s}.ipynb" for s in students}
    start = time.perf_counter()
    run = pipeline.grade(spec.load(assignment), subs, progress=False)
    rows = [{"student": s, "fixture": students[s], "score": g.score, "max_score": g.max_score,
             "reason": g.reason, "device": g.device, "isolation": g.export.isolation,
             "timings": g.timings,
             "sandbox_log": g.export.log[-1500:] if g.export.error else ""}
            for s, g in run.graded.items()]
    return {"backend": os.environ["KERAS_BACKEND"], "stages": run.stages, "rows": rows,
            "total_seconds": round(time.perf_counter() - start, 2)}


def run_backend(backend: str, args) -> dict:
    """One backend in a fresh process; its result comes back as JSON in a file."""
    result_path = args.out / f"{args.assignment}_{backend}.json"
    env = {**os.environ, "KERAS_BACKEND": backend, "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
           "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", backend,
           "--assignment", args.assignment, "--notebooks", str(args.notebooks),
           "--out", str(args.out)]
    # own process group: a timeout kills its trainers too (sandboxes end by their own limits)
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        code = proc.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        code = f"none: stopped after {args.timeout:.0f} s"
    if code != 0 or not result_path.exists():
        return {"backend": backend, "error": f"exit code {code}", "rows": [],
                "stages": {}}
    return json.loads(result_path.read_text())


def device_of(result: dict) -> str:
    return next((r["device"] for r in result["rows"] if r["device"]), "unknown")


def reference_fit(result: dict) -> str:
    for r in result["rows"]:
        if r["fixture"] == "reference" and "train.fit" in r["timings"]:
            return f"{r['timings']['train.fit']:.1f}"
    return "-"


def markdown(assignment: str, results: list[dict], command: str) -> str:
    lines = [f"# Grading `{assignment}` per Keras backend (GPU when present)", "",
             f"- date: {datetime.date.today().isoformat()}",
             f"- host: {platform.node() or '?'}, Python {platform.python_version()}, "
             f"{os.cpu_count()} CPU cores",
             f"- command: `{command}`", "",
             "| backend | device | sandbox isolation | sandbox s | inspect s | train s | "
             "reference fit s | total s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for res in results:
        st = res["stages"]
        iso = next((r["isolation"] for r in res["rows"]), "-")
        cells = [res["backend"], res.get("error") or device_of(res), iso]
        cells += [f"{st[k]:.1f}" if k in st else "-" for k in ("sandbox", "inspect", "train")]
        cells += [reference_fit(res), str(res.get("total_seconds", "-"))]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| backend | student | fixture | score | fit s | reason |",
              "| --- | --- | --- | --- | --- | --- |"]
    for res in results:
        for r in res["rows"]:
            fit = r["timings"].get("train.fit")
            reason = r["reason"].replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {res['backend']} | {r['student']} | {r['fixture']} | "
                         f"{r['score']:g}/{r['max_score']:g} | "
                         f"{'-' if fit is None else f'{fit:.1f}'} | {reason} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backends", default="jax", help="comma-separated: jax,torch,tensorflow")
    p.add_argument("--assignment", default="cnn")
    p.add_argument("--out", type=Path, help="folder for the table and JSON (required)")
    p.add_argument("--notebooks", type=Path, help="folder of submitted notebooks, made if "
                   "missing (default: bench/out/gpu_notebooks/<assignment>)")
    p.add_argument("--command", help="the command to record in the table (default: this one)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per backend")
    p.add_argument("--prepare-only", action="store_true", help="only make the notebooks")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: grade in this process
    args = p.parse_args(argv)
    args.notebooks = (args.notebooks or NOTEBOOKS / args.assignment).resolve()
    if args.prepare_only:
        students = prepare_notebooks(args.assignment, args.notebooks)
        print(f"{len(students)} notebooks in {args.notebooks}")
        return 0
    if args.out is None:
        p.error("--out is required")
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)

    if args.one:
        students = prepare_notebooks(args.assignment, args.notebooks)
        result = grade_one_backend(args.assignment, args.notebooks, students)
        (args.out / f"{args.assignment}_{args.one}.json").write_text(json.dumps(result, indent=1))
        return 0

    prepare_notebooks(args.assignment, args.notebooks)
    results = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        print(f"== {backend}", flush=True)
        res = run_backend(backend, args)
        results.append(res)
        if res.get("error"):
            print(f"   FAILED: {res['error']}", flush=True)
            continue
        print(f"   device: {device_of(res)}; isolation: {res['rows'][0]['isolation']}; "
              f"stages: {res['stages']}; reference fit: {reference_fit(res)} s", flush=True)
        for r in res["rows"]:
            print(f"   {r['student']:6} {r['fixture']:13} {r['score']:g}/{r['max_score']:g}  "
                  f"{r['reason']}", flush=True)
            if r.get("sandbox_log"):
                print("      sandbox log: " + r["sandbox_log"].replace("\n", "\n      "))
    command = args.command or shlex.join(["python", *sys.argv])
    table = markdown(args.assignment, results, command)
    (args.out / f"gpu_{args.assignment}.md").write_text(table)
    (args.out / f"gpu_{args.assignment}.json").write_text(json.dumps(results, indent=1))
    print("\n" + table)
    full = all(r["score"] == r["max_score"] for res in results for r in res["rows"]
               if r["fixture"] == "reference")
    return 0 if full and all(not res.get("error") for res in results) else 1


if __name__ == "__main__":
    sys.exit(main())
