"""What grading the `cnn` reference costs, stage by stage, against a bare ``model.fit``.

    .venv/bin/python bench/cnn_overhead.py [--repeats 3] [--out bench/results/cnn_overhead.md]

All numbers come from one run of this script, in one process (plus the sandbox's and one
worker's child processes): the sandbox (student code, exports JSON), a warm trainer worker's
start-up, the trusted training of the exported config (``trainer.run``: allow-list,
parameter count, rebuild, seeding, fit with validation, test predictions), and a bare
``model.fit`` of the same config with the same data, epochs, batch size, validation data and
seed. Trusted and bare runs alternate; medians are reported. The goal: ratio <= 1.10.
"""
from __future__ import annotations

import argparse
import copy
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

from course import runtime  # noqa: E402

runtime.configure(threads=1)  # as the trainer workers run

import keras  # noqa: E402

from autograder import fixtures  # noqa: E402
from autograder import spec as specs  # noqa: E402
from autograder.pipeline import Plan  # noqa: E402
from autograder.pool import WorkerPool  # noqa: E402
from autograder.sandbox import runner  # noqa: E402
from autograder.trainer import job, run  # noqa: E402
from course import data  # noqa: E402


def reference_submission(tmp: Path) -> Path:
    path = tmp / "cnn.ipynb"
    path.write_text(json.dumps(fixtures.submissions("cnn", {"ref": "reference"})["ref"]))
    return path


def bare_fit(spec, export) -> float:
    """The same config, data, budget and seed, straight through Keras."""
    task = spec.tasks["cnn"]
    splits = data.load(task.data["name"], **task.data.get("kwargs", {}))
    runtime.seed_everything(task.seed)
    config = copy.deepcopy({k: v for k, v in export["config"].items() if k != "compile_config"})
    start = time.perf_counter()
    model = keras.saving.deserialize_keras_object(config)  # consumes its argument: a copy
    model.compile_from_config(copy.deepcopy(export["compile_config"]))
    model.fit(splits.x_train, splits.y_train, epochs=task.budget["epochs"],
              batch_size=task.budget["batch_size"], validation_data=(splits.x_val, splits.y_val),
              verbose=0)
    return time.perf_counter() - start


def trusted(spec, export) -> tuple[float, dict]:
    start = time.perf_counter()
    result = run(job(spec, "cnn", {"build_cnn": export}, spec.tasks["cnn"].seed))
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cnn_overhead.md")
    args = parser.parse_args()
    spec = specs.load("cnn")
    with tempfile.TemporaryDirectory() as tmp:
        notebook = reference_submission(Path(tmp))
        sandbox_s, exports = [], []
        for _ in range(args.repeats):
            export = runner.run_notebook(notebook, spec, Plan(spec).calls)
            sandbox_s.append(export.seconds)
            exports.append(export)
    export = exports[0].calls["build_cnn"]

    with WorkerPool(size=1) as pool:
        start = time.perf_counter()
        pool.start()
        worker_start = time.perf_counter() - start
        pooled = pool.submit(job(spec, "cnn", {"build_cnn": export}, spec.tasks["cnn"].seed)
                             ).result()

    trusted_s, bare_s, accuracies = [], [], set()
    bare_fit(spec, export)  # warm-up: first-time imports and kernel caches, for neither side
    for _ in range(args.repeats):
        seconds, result = trusted(spec, export)
        trusted_s.append(seconds)
        accuracies.add(result["metrics"]["accuracy"])
        bare_s.append(bare_fit(spec, export))
    med = {k: statistics.median(v) for k, v in
           {"sandbox": sandbox_s, "trusted": trusted_s, "bare": bare_s}.items()}
    ratio = med["trusted"] / med["bare"]
    device = str(runtime.detect_device())
    rows = [
        ("sandbox (child process: import Keras, run cells, export JSON)", med["sandbox"]),
        ("trainer worker start (once per worker, reused across submissions)", worker_start),
        ("trusted training in the warm worker (one job, via the pool)",
         pooled["timings"].get("fit", 0) + pooled["timings"].get("rebuild", 0)
         + pooled["timings"].get("evaluate", 0)),
        ("trusted training, in this process (`trainer.run`)", med["trusted"]),
        ("bare `model.fit` of the same config, same process", med["bare"]),
    ]
    lines = [
        f"# `cnn` grading overhead ({datetime.date.today()})", "",
        f"Command: `.venv/bin/python bench/cnn_overhead.py --repeats {args.repeats}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {device}; Keras "
        f"{keras.__version__}; {spec.tasks['cnn'].budget['epochs']} epochs, batch "
        f"{spec.tasks['cnn'].budget['batch_size']}, "
        f"one thread per process. Medians of {args.repeats}, alternating trusted and bare runs.",
        "", "| stage | seconds |", "| --- | ---: |",
        *[f"| {name} | {seconds:.2f} |" for name, seconds in rows],
        f"| **ratio trusted / bare fit** (goal <= 1.10) | **{ratio:.3f}** |", "",
        f"Test accuracy of the reference over the repeats: {sorted(accuracies)} "
        "(one value: reruns are bit-identical).",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
