"""The ``compile_cache`` setting on JAX: a trainer process that finds XLA's compiled programs in
the cache against one that compiles them, on each classifier task's reference.

    .venv/bin/python bench/jax_cache.py [--assignment rnn ...] [--out bench/results/jax_cache.md]

For each task, three fresh trainer processes run the reference's whole trusted job
(``trainer.run``) one after the other: without a cache, with an empty cache (it compiles and
fills it), and with that cache filled (it loads). The table gives each one's job seconds and
whether the three histories are identical (they must be: the cache holds the same programs).
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
ASSIGNMENTS = ["perceptron", "cnn", "rnn", "transformer"]


def child(job_file: Path, cache: str) -> None:
    from course import runtime

    runtime.configure(backend="jax", threads=1, compile_cache=cache)  # as a trainer worker
    from overhead import history_digest

    from autograder.trusted.trainer import run

    start = time.perf_counter()
    result = run(json.loads(job_file.read_text()))
    print(json.dumps({"seconds": time.perf_counter() - start,
                      "history": history_digest(result["history"]),
                      "accuracy": result["metrics"]["accuracy"]}))


def _trainer(job_file: Path, cache: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", str(job_file), "--cache", cache],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", action="append", choices=ASSIGNMENTS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "jax_cache.md")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.cache)
    from overhead import classifier_jobs

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for assignment in args.assignment or ASSIGNMENTS:
            for name, _task, _export, job in classifier_jobs(assignment, Path(tmp)):
                job_file = Path(tmp) / f"{name}.json"
                job_file.write_text(json.dumps(job))
                cache = str(Path(tmp) / f"xla-{name}")
                runs = [_trainer(job_file, ""), _trainer(job_file, cache),
                        _trainer(job_file, cache)]
                rows.append({"assignment": assignment, "task": name, "runs": runs})
    lines = [f"# JAX trainers with and without the compile cache ({datetime.date.today()})", "",
             f"Command: `python bench/jax_cache.py {' '.join(sys.argv[1:])}`".rstrip() + "  ",
             f"Machine: {platform.machine()}, one thread; each reference's whole trusted job in a "
             "fresh trainer process, one after the other (noisy machine: compare within a row).",
             "", "| assignment | task | no cache s | empty cache s (fills it) | filled cache s | "
             "ratio filled / none | histories identical | accuracy |",
             "|---|---|---:|---:|---:|---:|---|---|"]
    for r in rows:
        none, cold, warm = (run["seconds"] for run in r["runs"])
        same = len({run["history"] for run in r["runs"]}) == 1
        lines.append(f"| {r['assignment']} | {r['task']} | {none:.1f} | {cold:.1f} | {warm:.1f}"
                     f" | {warm / none:.2f} | {'yes' if same else '**no**'} | "
                     f"{r['runs'][0]['accuracy']} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
