"""Grade each assignment's reference and demo fixtures on each Keras backend, on a GPU when
there is one, plus optionally a batch of N copies of one reference (throughput).

    python bench/gpu_grade.py --backends jax,torch --out bench/out/gpu [--batch 50 --batch-of cnn]

Each backend runs in its own process (``KERAS_BACKEND`` must be set before Keras is imported) and
grades every assignment through ``autograder.pipeline.grade`` with one shared pool of warm
trainers (``--per-gpu`` of them per GPU): sandbox -> trusted tasks -> checks, per submission.
Without a GPU the same run trains on the CPU (what CI exercises). Writes ``gpu_grade.md`` (a
Markdown table) and ``gpu_grade.json`` to ``--out``.

The submitted notebooks are made from the assignment sources (which needs nbformat) into
``--notebooks/<assignment>/`` the first time; a machine without nbformat (the GPU machines)
reuses the ones prepared and carried there.
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


ASSIGNMENTS = ["perceptron", "cnn", "rnn", "transformer", "gan"]  # demo.ORDER, without nbformat


def prepare_notebooks(assignment: str, folder: Path) -> dict[str, str]:
    """``{student: fixture}`` from ``folder/students.json``; makes the notebooks if missing."""
    manifest = folder / "students.json"
    if manifest.exists():
        students = json.loads(manifest.read_text())
        if all((folder / f"{s}.ipynb").exists() for s in students):
            return students
    from autograder import demo, fixtures  # imports nbformat: only where notebooks are made

    students = demo.students(assignment)
    folder.mkdir(parents=True, exist_ok=True)
    for student, nb in fixtures.submissions(assignment, students).items():
        (folder / f"{student}.ipynb").write_text(json.dumps(nb, indent=1))
    manifest.write_text(json.dumps(students, indent=1))
    return students


def _rows(run, students: dict[str, str]) -> list[dict]:
    return [{"student": s, "fixture": students[s], "score": g.score, "max_score": g.max_score,
             "reason": g.reason, "device": g.device, "isolation": g.export.isolation,
             "timings": g.timings,
             "sandbox_log": g.export.log[-1500:] if g.export.error else ""}
            for s, g in run.graded.items()]


def grade_one_backend(args, save) -> dict:
    """Run in the backend's own process: grade every assignment (and the batch) with one pool
    of warm trainers; ``save(result)`` after each, so a run stopped by its time limit still
    reports what it finished."""
    from autograder import pipeline, spec
    from autograder.trusted.pool import WorkerPool

    out = {"backend": os.environ["KERAS_BACKEND"], "assignments": {}}
    with WorkerPool(per_gpu=args.per_gpu or None) as pool:
        t0 = time.perf_counter()
        pool.start()
        out["pool"] = {"trainers": len(pool.workers), "start_seconds":
                       round(time.perf_counter() - t0, 2)}
        for assignment in args.assignments:
            folder = args.notebooks / assignment
            students = prepare_notebooks(assignment, folder)
            start = time.perf_counter()
            run = pipeline.grade(spec.load(assignment), {s: folder / f"{s}.ipynb"
                                                         for s in students},
                                 pool=pool, progress=False)
            out["assignments"][assignment] = {
                "stages": run.stages, "rows": _rows(run, students),
                "total_seconds": round(time.perf_counter() - start, 2)}
            save(out)
            print(f"   {out['backend']}: {assignment} done in "
                  f"{out['assignments'][assignment]['total_seconds']:.1f} s", flush=True)
        if args.batch:
            folder = args.notebooks / args.batch_of
            subs = {f"s{i:03d}": folder / "alice.ipynb" for i in range(args.batch)}
            start = time.perf_counter()
            run = pipeline.grade(spec.load(args.batch_of), subs, pool=pool, progress=False)
            wall = time.perf_counter() - start
            scores = sorted({g.score for g in run.graded.values()})
            best = max(g.max_score for g in run.graded.values())
            below = {s: {"score": g.score, "reason": g.reason, "timings": g.timings}
                     for s, g in sorted(run.graded.items()) if g.score < best}
            out["batch"] = {"assignment": args.batch_of, "n": args.batch,
                            "wall_seconds": round(wall, 2), "stages": run.stages,
                            "scores": scores, "below_full_marks": below,
                            "per_submission_seconds": round(wall / args.batch, 3)}
            save(out)
        out["pool"].update(trainers_at_end=len(pool.workers), sizing=pool.sizing)
        save(out)
    return out


def run_backend(backend: str, args) -> dict:
    """One backend in a fresh process; its result comes back as JSON in a file."""
    result_path = args.out / f"grade_{backend}.json"
    env = {**os.environ, "KERAS_BACKEND": backend, "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
           "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", backend,
           "--assignments", ",".join(args.assignments), "--notebooks", str(args.notebooks),
           "--out", str(args.out), "--per-gpu", str(args.per_gpu),
           "--batch", str(args.batch), "--batch-of", args.batch_of]
    # own process group: a timeout kills its trainers too (sandboxes end by their own limits)
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        code = proc.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        code = f"none: stopped after {args.timeout:.0f} s"
    if not result_path.exists():
        return {"backend": backend, "error": f"exit code {code}", "assignments": {}}
    result = json.loads(result_path.read_text())
    if code != 0:  # what finished before it stopped
        result["error"] = f"exit code {code} after {len(result['assignments'])} assignment(s)"
    return result


def rows(result: dict):
    for assignment, res in result["assignments"].items():
        for r in res["rows"]:
            yield assignment, r


def device_of(result: dict) -> str:
    return next((r["device"] for _, r in rows(result) if r["device"]), "unknown")


def fit_seconds(row: dict) -> float | None:
    fits = [v for k, v in row["timings"].items() if k.endswith(".fit")]
    return sum(fits) if fits else None


def reference_fit(res: dict) -> str:
    for r in res["rows"]:
        if r["fixture"] == "reference" and fit_seconds(r) is not None:
            return f"{fit_seconds(r):.1f}"
    return "-"


def trainers(res: dict) -> str:
    pool = res.get("pool", {})
    start, end = pool.get("trainers", "?"), pool.get("trainers_at_end", pool.get("trainers"))
    return f"{start}" if start == end else f"{start} -> {end}"


def projection(res: dict, n: int = 100) -> str:
    """``n`` submissions of every assignment, projected from the measured batch: each
    assignment's wall seconds per submission in its demo run, scaled by how much faster the
    batch graded its assignment per submission than the demo run did."""
    b, graded = res["batch"], res["assignments"]
    if b["assignment"] not in graded:
        return "no projection (the batch's assignment was not graded on its own)"
    own = graded[b["assignment"]]
    speedup = (own["stages"]["wall"] / len(own["rows"])) / b["per_submission_seconds"]
    seconds = sum(a["stages"]["wall"] / len(a["rows"]) / speedup for a in graded.values())
    return (f"{n} submissions x {len(graded)} assignments projected at {n * seconds / 60:.1f} "
            f"min (batch {speedup:.1f}x faster per submission than the demo run of "
            f"{b['assignment']}, applied to every assignment's demo run)")


def markdown(results: list[dict], command: str) -> str:
    lines = ["# Grading per Keras backend (GPU when present)", "",
             f"- date: {datetime.date.today().isoformat()}",
             f"- host: {platform.node() or '?'}, Python {platform.python_version()}, "
             f"{os.cpu_count()} CPU cores",
             f"- command: `{command}`", "",
             "| backend | device | trainers | assignment | reference | others below full | "
             "reference fit s | sandbox s (sum) | trusted s (sum) | wall s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for res in results:
        if res.get("error"):
            lines.append(f"| {res['backend']} | {res['error']} |  |  |  |  |  |  |  |  |")
        for assignment, a in res["assignments"].items():
            ref = next((r for r in a["rows"] if r["fixture"] == "reference"), None)
            others = [r for r in a["rows"] if r["fixture"] != "reference"]
            below = sum(r["score"] < r["max_score"] for r in others)
            st = a["stages"]
            lines.append(
                f"| {res['backend']} | {device_of(res)} | {trainers(res)} | "
                f"{assignment} | {ref['score']:g}/{ref['max_score']:g} | "
                f"{below}/{len(others)} | {reference_fit(a)} | {st['sandbox']:.1f} | "
                f"{st['trusted']:.1f} | {st['wall']:.1f} |" if ref else
                f"| {res['backend']} | {device_of(res)} | | {assignment} | missing | | | | | |")
    batches = [r for r in results if r.get("batch")]
    if batches:
        lines += ["", "| backend | batch | submissions | scores | wall s | s per submission |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for res in batches:
            b = res["batch"]
            lines.append(f"| {res['backend']} | {b['assignment']} reference copies | {b['n']} | "
                         f"{', '.join(f'{s:g}' for s in b['scores'])} | {b['wall_seconds']:.1f} "
                         f"| {b['per_submission_seconds']:.2f} |")
        lines += [""] + [f"- {res['backend']}: {projection(res)}" for res in batches]
        lines += [f"- {res['backend']}: batch copy {student} scored {row['score']:g}: "
                  f"{row['reason']} (timings {row['timings']})" for res in batches
                  for student, row in res["batch"].get("below_full_marks", {}).items()]
    sizing = [f"- {res['backend']}: {line}" for res in results
              for line in res.get("pool", {}).get("sizing", [])]
    if sizing:
        lines += ["", "Trainers per GPU (chosen from memory):", ""] + sizing
    lines += ["", "| backend | assignment | student | fixture | score | fit s | reason |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for res in results:
        for assignment, r in rows(res):
            fit = fit_seconds(r)
            reason = r["reason"].replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {res['backend']} | {assignment} | {r['student']} | {r['fixture']} | "
                         f"{r['score']:g}/{r['max_score']:g} | "
                         f"{'-' if fit is None else f'{fit:.1f}'} | {reason} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backends", default="jax", help="comma-separated: jax,torch,tensorflow")
    p.add_argument("--assignments", default=",".join(ASSIGNMENTS),
                   help="comma-separated (default: all five)")
    p.add_argument("--out", type=Path, help="folder for the table and JSON (required)")
    p.add_argument("--notebooks", type=Path, help="folder of submitted notebooks, one folder "
                   "per assignment, made if missing (default: bench/out/gpu_notebooks)")
    p.add_argument("--per-gpu", type=int, default=0, help="trainers per GPU (default: as "
                   "many as its memory holds at the first job's measured footprint)")
    p.add_argument("--batch", type=int, default=0, help="also grade N copies of a reference")
    p.add_argument("--batch-of", default="cnn", help="the assignment of the batch")
    p.add_argument("--command", help="the command to record in the table (default: this one)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per backend")
    p.add_argument("--prepare-only", action="store_true", help="only make the notebooks")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: grade in this process
    args = p.parse_args(argv)
    args.notebooks = (args.notebooks or NOTEBOOKS).resolve()
    args.assignments = [a.strip() for a in args.assignments.split(",") if a.strip()]
    if args.prepare_only:
        for assignment in args.assignments:
            students = prepare_notebooks(assignment, args.notebooks / assignment)
            print(f"{assignment}: {len(students)} notebooks in {args.notebooks / assignment}")
        return 0
    if args.out is None:
        p.error("--out is required")
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)

    if args.one:
        path = args.out / f"grade_{args.one}.json"
        grade_one_backend(args, lambda result: path.write_text(json.dumps(result, indent=1)))
        return 0

    for assignment in args.assignments:
        prepare_notebooks(assignment, args.notebooks / assignment)
    results = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        print(f"== {backend}", flush=True)
        res = run_backend(backend, args)
        results.append(res)
        if res.get("error"):
            print(f"   FAILED: {res['error']}", flush=True)
        if not res["assignments"]:
            continue
        print(f"   device: {device_of(res)}; trainers: {res['pool']}", flush=True)
        for assignment, r in rows(res):
            print(f"   {assignment:11} {r['student']:6} {r['fixture']:20} "
                  f"{r['score']:g}/{r['max_score']:g}  {r['reason']}", flush=True)
            if r.get("sandbox_log"):
                print("      sandbox log: " + r["sandbox_log"].replace("\n", "\n      "))
    command = args.command or shlex.join(["python", *sys.argv])
    table = markdown(results, command)
    (args.out / "gpu_grade.md").write_text(table)
    (args.out / "gpu_grade.json").write_text(json.dumps(results, indent=1))
    print("\n" + table)
    full = all(r["score"] == r["max_score"] for res in results for _, r in rows(res)
               if r["fixture"] == "reference")  # of what finished
    return 0 if full and all(not res.get("error") for res in results) else 1


if __name__ == "__main__":
    sys.exit(main())
