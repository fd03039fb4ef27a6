"""Throughput as trainers and Dask workers grow: one batch of submissions graded several ways.

    .venv/bin/python bench/throughput.py [--assignment rnn] [--batch 8] [--trainers 1,2,4]
                                         [--dask-workers 1,2] [--out bench/results/throughput.md]

The batch is the demo's fixtures for the assignment, cycled to ``--batch`` submissions. It is
graded by ``autograder.pipeline.grade`` (sandboxes and trusted trainers side by side) with:

- a local pool of N warm trainers for each N in ``--trainers`` (on a GPU machine, N trainers
  *per GPU*, all sharing it; without one, N CPU trainers of one thread each);
- a loopback Dask cluster of W single-thread worker processes for each W in ``--dask-workers``
  (each worker runs its own warm trainer; sandboxes stay in this process's machine).

Every mode grades the same notebooks with the same grading seed, so every score, metric and
training history must be identical; the table says whether they are. Reports wall seconds,
submissions per minute and the speed-up over the first mode.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from autograder import demo, fixtures, pipeline  # noqa: E402
from autograder import spec as specs  # noqa: E402
from autograder.trusted.pool import WorkerPool, gpu_ids  # noqa: E402
from course import runtime  # noqa: E402

SEED = 12345  # one grading seed for every mode


def batch(assignment: str, n: int, folder: Path) -> dict[str, Path]:
    cycle = list(demo.students(assignment).values())
    chosen = {f"s{i + 1:03d}": cycle[i % len(cycle)] for i in range(n)}
    paths = {}
    for student, nb in fixtures.submissions(assignment, chosen).items():
        paths[student] = folder / f"{student}.ipynb"
        paths[student].write_text(json.dumps(nb))
    return paths


def outcome(run) -> dict:
    """What must not depend on the mode: per student, score and every task's metrics and
    training history."""
    return {s: (g.score, {t: (r.metrics, r.history) for t, r in g.results.items()})
            for s, g in run.graded.items()}


def graded(spec, subs: dict, pool) -> tuple[float, dict, list[str]]:
    t0 = time.perf_counter()
    run = pipeline.grade(spec, subs, pool=pool, progress=False, grading_seed=SEED)
    return time.perf_counter() - t0, outcome(run), sorted(set(pool.devices))


def local(spec, subs: dict, n: int) -> tuple[float, dict, list[str]]:
    gpus = gpu_ids()
    with (WorkerPool(per_gpu=n) if gpus else WorkerPool(size=n)) as pool:
        pool.start()  # warm trainers, as in `course grade` after the first submission
        return graded(spec, subs, pool)


def dask(spec, subs: dict, workers: int) -> tuple[float, dict, list[str]]:
    from distributed import LocalCluster

    from autograder.trusted.dask_pool import DaskPool

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=":0") as cluster, \
            DaskPool(cluster.scheduler_address) as pool:
        return graded(spec, subs, pool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="rnn", choices=demo.ORDER)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--trainers", default="1,2,4")
    parser.add_argument("--dask-workers", default="1,2")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "throughput.md")
    args = parser.parse_args()
    spec = specs.load(args.assignment)
    modes = [(f"local, {n} trainer(s)" + (" per GPU" if gpu_ids() else ""), local, int(n))
             for n in args.trainers.split(",") if n]
    modes += [(f"Dask, {w} worker(s)", dask, int(w)) for w in args.dask_workers.split(",") if w]
    rows, first = [], None
    with tempfile.TemporaryDirectory() as tmp:
        subs = batch(args.assignment, args.batch, Path(tmp))
        for name, fn, n in modes:
            seconds, result, devices = fn(spec, subs, n)
            first = first or (seconds, result)
            rows.append((name, seconds, result == first[1], devices))
            print(f"{name}: {seconds:.1f} s, same as first: {rows[-1][2]}", flush=True)
    cycle = list(demo.students(args.assignment).values())
    lines = [f"# Throughput as trainers and workers grow ({datetime.date.today()})", "",
             f"Command: `.venv/bin/python bench/throughput.py --assignment {args.assignment} "
             f"--batch {args.batch} --trainers {args.trainers} --dask-workers "
             f"{args.dask_workers}`  ",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
             f"{len(gpu_ids())} GPU(s), backend {runtime.backend_name()}. Batch: "
             f"{args.batch} `{args.assignment}` submissions ({', '.join(cycle)}, cycled); "
             "sandboxes run in parallel on this machine in every mode; trainers are started "
             "before the clock starts (Dask: on first use, inside the timing).", "",
             "| mode | wall s | submissions / min | speed-up | identical to the first mode | "
             "trainer devices |", "| --- | ---: | ---: | ---: | --- | --- |"]
    lines += [f"| {name} | {s:.1f} | {60 * args.batch / s:.1f} | {first[0] / s:.2f}x | "
              f"{'yes' if same else '**no**'} | {', '.join(devices)} |"
              for name, s, same, devices in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
