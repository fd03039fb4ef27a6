"""TensorFlow's steps per execution in the trusted trainer: one step per call of the compiled
function against ``rebuild.TF_STEPS_PER_EXECUTION``, on each classifier task's reference.

    KERAS_BACKEND=tensorflow .venv/bin/python bench/tf_steps.py [--assignment cnn ...]
        [--repeats 1] [--out bench/results/tf_steps.md]

Both sides run the whole trusted job (``trainer.run``: rebuild, seeding, fit with the grader's
early stopping, test predictions), alternating, in this process with one thread, as the trainer
workers run. The table gives the fit's seconds (medians) and their ratio, and whether the
histories and the accuracy are identical (they must be: the same steps run in the same order).
"""
from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
ASSIGNMENTS = ["perceptron", "cnn", "rnn", "transformer"]


def measure(assignment: str, repeats: int, tmp: Path) -> list[dict]:
    from overhead import classifier_jobs, history_digest

    from autograder.trusted import rebuild
    from autograder.trusted.trainer import run

    rows = []
    for name, _task, _export, the_job in classifier_jobs(assignment, tmp):
        seconds, digests, scores = {1: [], rebuild.TF_STEPS_PER_EXECUTION: []}, {}, {}
        for _ in range(repeats):
            for steps in seconds:
                rebuild.TF_STEPS_PER_EXECUTION = steps
                result = run(the_job)
                seconds[steps].append(result["timings"]["fit"])
                digests.setdefault(steps, set()).add(history_digest(result["history"]))
                scores.setdefault(steps, set()).add(result["metrics"]["accuracy"])
        one, many = (statistics.median(v) for v in seconds.values())
        rows.append({"assignment": assignment, "task": name,
                     "epochs": len(result["history"]["loss"]), "one": one, "many": many,
                     "identical": len({*digests[1], *digests[steps]}) == 1
                     and len({*scores[1], *scores[steps]}) == 1,
                     "accuracy": sorted(scores[steps])})
    rebuild.TF_STEPS_PER_EXECUTION = max(seconds)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", action="append", choices=ASSIGNMENTS)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tf_steps.md")
    args = parser.parse_args()
    from course import runtime

    runtime.configure(backend="tensorflow", threads=1)
    from autograder.trusted import rebuild

    steps = rebuild.TF_STEPS_PER_EXECUTION
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for assignment in args.assignment or ASSIGNMENTS:
            rows += measure(assignment, args.repeats, Path(tmp))
    lines = [f"# TensorFlow: {steps} training steps per execution against 1 "
             f"({datetime.date.today()})", "",
             f"Command: `python bench/tf_steps.py {' '.join(sys.argv[1:])}`".rstrip() + "  ",
             f"Machine: {platform.machine()}, one thread; each reference's whole trusted job, "
             f"the two settings alternating; fit seconds are medians of {args.repeats}.", "",
             f"| assignment | task | epochs | fit s, 1 step | fit s, {steps} steps | ratio | "
             "histories and accuracy identical | accuracy |",
             "|---|---|---:|---:|---:|---:|---|---|"]
    for r in rows:
        lines.append(f"| {r['assignment']} | {r['task']} | {r['epochs']} | {r['one']:.1f} | "
                     f"{r['many']:.1f} | {r['many'] / r['one']:.2f} | "
                     f"{'yes' if r['identical'] else '**no**'} | {r['accuracy']} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if not all(r["identical"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
