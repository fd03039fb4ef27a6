"""Calibrate the `rnn` assignment: reference and fixtures, seeds x backends, as the grader trains.

Run: .venv/bin/python bench/measure_rnn.py [--backends tensorflow,jax] [--seeds 0,1,2]
Prints a Markdown table (saved as bench/results/measure_rnn.md). Each backend runs in its own
process with one thread, the way the trusted trainer does.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = "rnn"
TASK = "rnn"
# (label, source): "ref" = the reference builder (kwargs allowed), "fixture:<name>" = a fixture file
MODELS = [
    ("reference LSTM(64)", "ref", {}),
    ("reference, GRU(64)", "ref", {"cell": "gru"}),
    ("reference, LSTM(32)", "ref", {"units": 32}),
    ("fixture bag_of_steps", "fixture:bag_of_steps", {}),
    ("fixture bag_of_steps_max", "fixture:bag_of_steps_max", {}),
]


def load_builder(assignment, function, source, kwargs):
    import functools
    import importlib

    import keras
    from keras import layers

    if source == "ref":
        return functools.partial(getattr(importlib.import_module(f"solutions.{assignment}"),
                                         function), **kwargs)
    if source.startswith("code:"):
        namespace = {"keras": keras, "layers": layers}
        exec(source[5:], namespace)
        return namespace[function]
    from autograder import fixtures

    namespace = {"keras": keras, "layers": layers}
    exec(fixtures.code(assignment, source.split(":", 1)[1]), namespace)
    return namespace[function]


def worker(spec_id, task_name, models, seeds, overrides):
    """Train every model on every seed in this process; print one JSON line per run."""
    from course import runtime

    runtime.configure(threads=1)
    import importlib

    from course import training

    spec = json.loads((ROOT / "autograder" / "specs" / f"{spec_id}.json").read_text())
    task = spec["tasks"][task_name]
    task = {**task, **overrides}
    loaders = importlib.import_module("course.sequences").LOADERS
    splits = loaders[task["data"]["name"]](**task["data"].get("kwargs", {}))
    call = spec["functions"][task["function"]]
    args = [tuple(a) if isinstance(a, list) else a for a in task.get("args", call["args"])]
    b = task["budget"]
    for label, source, kwargs in models:
        builder = load_builder(spec_id, task["function"], source, kwargs)
        for seed in seeds:
            runtime.seed_everything(seed)
            model = builder(*args)
            fitted = training.fit(model, splits.x_train, splits.y_train,
                                  budget=training.Budget(b["epochs"], b["batch_size"],
                                                         b.get("max_seconds")),
                                  validation_data=(splits.x_val, splits.y_val), progress=False)
            acc = float((training.predict_classes(model, splits.x_test) == splits.y_test).mean())
            print(json.dumps({"model": label, "seed": seed, "acc": acc,
                              "seconds": fitted.seconds, "params": model.count_params(),
                              "backend": runtime.backend_name()}), flush=True)


def run_backends(backends, seeds, models, overrides, spec_id=SPEC, task_name=TASK):
    rows = []
    for backend in backends:
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        payload = json.dumps({"spec": spec_id, "task": task_name, "models": models,
                              "seeds": seeds, "overrides": overrides})
        out = subprocess.run([sys.executable, __file__, "--worker", payload], env=env,
                             cwd=ROOT, capture_output=True, text=True)
        for line in out.stdout.splitlines():
            if line.startswith("{"):
                rows.append(json.loads(line))
        if out.returncode:
            print(out.stderr[-3000:], file=sys.stderr)
    return rows


def table(rows, title):
    lines = [f"### {title}", "",
             "| model | backend | params | test accuracy per seed | min | fit s (median) |",
             "| --- | --- | --- | --- | --- | --- |"]
    keys = []
    for r in rows:
        if (r["model"], r["backend"]) not in keys:
            keys.append((r["model"], r["backend"]))
    for model, backend in keys:
        rs = [r for r in rows if r["model"] == model and r["backend"] == backend]
        accs = " / ".join(f"{r['acc']:.3f}" for r in rs)
        lines.append(f"| {model} | {backend} | {rs[0]['params']} | {accs} | "
                     f"{min(r['acc'] for r in rs):.3f} | "
                     f"{statistics.median(r['seconds'] for r in rs):.1f} |")
    return "\n".join(lines)


def main(argv=None, *, spec_id=SPEC, task_name=TASK, models=MODELS):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default="", help="labels separated by ; (default: all)")
    parser.add_argument("--override", default="{}", help="JSON merged into the task")
    args = parser.parse_args(argv)
    if args.worker:
        job = json.loads(args.worker)
        worker(job["spec"], job["task"], job["models"], job["seeds"], job["overrides"])
        return
    chosen = [m for m in models if not args.models or m[0] in args.models.split(";")]
    seeds = [int(s) for s in args.seeds.split(",")]
    overrides = json.loads(args.override)
    rows = run_backends(args.backends.split(","), seeds, chosen, overrides, spec_id, task_name)
    spec = json.loads((ROOT / "autograder" / "specs" / f"{spec_id}.json").read_text())
    task = {**spec["tasks"][task_name], **overrides}
    print(table(rows, f"{spec_id}: data {json.dumps(task['data'])}, budget "
                      f"{json.dumps(task['budget'])}, 2-core CPU, one thread per process"))


if __name__ == "__main__":
    main()
