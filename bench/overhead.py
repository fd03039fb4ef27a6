"""Trusted training against a bare ``model.fit`` of the same config, per assignment and backend.

    .venv/bin/python bench/overhead.py [--assignment cnn ...] [--repeats 3]
        [--out bench/results/overhead.md]

For every classifier task of every assignment, in this process and on this process's backend
(``KERAS_BACKEND``; the script runs itself once per backend when given ``--backend`` several
times): the reference's exported config goes through the trusted path (``trainer.run``: data,
allow-list, parameter count, rebuild, seeding, fit with validation and the grader's early
stopping, test predictions, confusion matrix) and through a bare script doing the same work
by hand: make the data, ``model.fit`` the same config with the same seed, batch size and
validation data for the number of epochs the trusted run trained, predict the test set. Runs
alternate; medians are reported; the goal is a ratio <= 1.05, for the whole and for the fit
alone. Each side's stages are reported too (the profile). The GAN task has no bare ``fit`` to
compare with (its trainer is the course's own loop) and is left out.
"""
from __future__ import annotations

import argparse
import copy
import datetime
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ASSIGNMENTS = ["perceptron", "cnn", "rnn", "transformer"]


def exports_of(assignment: str, tmp: Path):
    from autograder import fixtures
    from autograder import spec as specs
    from autograder.pipeline import Plan
    from autograder.sandbox import runner

    spec = specs.load(assignment)
    path = tmp / f"{assignment}.ipynb"
    path.write_text(json.dumps(fixtures.submissions(assignment, {"r": "reference"})["r"]))
    export = runner.run_notebook(path, spec, Plan(spec).calls)
    assert export.ok, export.error
    return spec, export


def bare_fit(task, exported: dict, epochs: int) -> dict:
    """The same work by hand; seconds per stage and in all."""
    import keras
    import numpy as np

    from course import data, runtime

    t0 = time.perf_counter()
    splits = data.load(task.data["name"], **task.data.get("kwargs", {}))
    t1 = time.perf_counter()
    runtime.seed_everything(task.seed)
    config = copy.deepcopy({k: v for k, v in exported["config"].items()
                            if k != "compile_config"})
    model = keras.saving.deserialize_keras_object(config)
    model.compile_from_config(copy.deepcopy(exported["compile_config"]))
    t2 = time.perf_counter()
    model.fit(splits.x_train, splits.y_train, epochs=epochs,
              batch_size=task.budget.get("batch_size", 64),
              validation_data=(splits.x_val, splits.y_val), verbose=0)
    t3 = time.perf_counter()
    np.argmax(model.predict(splits.x_test, verbose=0), axis=-1)
    t4 = time.perf_counter()
    return {"data": t1 - t0, "rebuild": t2 - t1, "fit": t3 - t2, "evaluate": t4 - t3,
            "total": t4 - t0}


def medians(runs: list[dict]) -> dict:
    return {k: statistics.median(r.get(k, 0.0) for r in runs) for k in runs[0]}


def history_digest(history: dict) -> str:
    """A short fingerprint of a training history: equal digests, bit-identical histories."""
    return hashlib.sha256(json.dumps(history, sort_keys=True).encode()).hexdigest()[:12]


def classifier_jobs(assignment: str, tmp: Path):
    """(task name, task, the reference's export, its trusted job) per classifier task."""
    from autograder.trusted.trainer import job

    spec, export = exports_of(assignment, tmp)
    for name, task in spec.tasks.items():
        if task.kind == "classifier":
            exported = export.calls[task.function]
            yield name, task, exported, job(spec, name, {task.function: exported}, task.seed)


def measure(assignment: str, repeats: int, tmp: Path) -> list[dict]:
    from autograder.trusted.trainer import run

    rows = []
    for name, task, exported, the_job in classifier_jobs(assignment, tmp):
        first = run(the_job)  # warm-up for both sides; also tells how many epochs trusted ran
        epochs = len(first["history"].get("loss", [])) or int(task.budget["epochs"])
        bare_fit(task, exported, epochs)
        trusted, bare, scores = [], [], set()
        for _ in range(repeats):
            start = time.perf_counter()
            result = run(the_job)
            trusted.append({**result["timings"], "total": time.perf_counter() - start})
            scores.add(result["metrics"].get("accuracy"))
            bare.append(bare_fit(task, exported, epochs))
        rows.append({"assignment": assignment, "task": name, "epochs": epochs,
                     "trusted": medians(trusted), "bare": medians(bare),
                     "scores": sorted(scores)})
    return rows


def child(args) -> None:
    from course import runtime

    runtime.configure(threads=1)  # as the trainer workers run
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for assignment in args.assignment:
            rows += measure(assignment, args.repeats, Path(tmp))
    import keras

    print(json.dumps({"backend": keras.backend.backend(), "device": str(runtime.detect_device()),
                      "rows": rows}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", action="append", choices=ASSIGNMENTS)
    parser.add_argument("--backend", action="append", choices=["tensorflow", "jax", "torch"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "overhead.md")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.assignment = args.assignment or ASSIGNMENTS
    if args.child:
        return child(args)
    backends = args.backend or ["tensorflow"]
    results = []
    for backend in backends:
        cmd = [sys.executable, __file__, "--child", "--repeats", str(args.repeats),
               *[a for x in args.assignment for a in ("--assignment", x)]]
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
               "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "")}
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    command = ("python bench/overhead.py --repeats " + str(args.repeats) + "".join(
        f" --backend {b}" for b in backends) + ("" if args.assignment == ASSIGNMENTS else "".join(
            f" --assignment {a}" for a in args.assignment)))
    lines = [f"# Trusted training vs bare `model.fit` ({datetime.date.today()})", "",
             f"Command: `{command}`  ",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores; one thread per process; "
             f"medians of {args.repeats} alternating runs; the bare script trains as many "
             "epochs as the trusted run did (early stopping included). Stages: data, rebuild "
             "(allow-list, deserialize, compile), fit, evaluate (test predictions); the "
             "trusted run's other seconds are its seeding, checks and confusion matrix.", "",
             "| backend | assignment | task | epochs | trusted s | bare s | ratio (goal <= "
             "1.05) | trusted fit s | bare fit s | fit ratio | trusted data / rebuild / "
             "evaluate / other s | bare data / rebuild / evaluate s | accuracy over repeats |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|"]
    for res in results:
        for r in res["rows"]:
            t, b = r["trusted"], r["bare"]
            other = t["total"] - sum(t.get(k, 0.0) for k in ("data", "rebuild", "fit",
                                                              "evaluate"))
            lines.append(
                f"| {res['backend']} ({res['device']}) | {r['assignment']} | {r['task']} | "
                f"{r['epochs']} | {t['total']:.2f} | {b['total']:.2f} | "
                f"{t['total'] / b['total']:.3f} | {t['fit']:.2f} | {b['fit']:.2f} | "
                f"{t['fit'] / b['fit']:.3f} | {t.get('data', 0):.2f} / "
                f"{t.get('rebuild', 0):.2f} / {t.get('evaluate', 0):.2f} / {other:.2f} | "
                f"{b['data']:.2f} / {b['rebuild']:.2f} / {b['evaluate']:.2f} | "
                f"{[round(x, 3) for x in r['scores']]} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
