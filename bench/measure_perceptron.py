"""Calibration numbers for the `perceptron` assignment: reference, fixtures and other styles.

    .venv/bin/python bench/measure_perceptron.py [--backends tensorflow jax] [--out FILE]

Part 1 scores ``perceptron_fit`` (reference and the fit_* fixtures) on challenge seeds 0..9, pure
NumPy. Part 2 trains the Keras builders as the trusted grader does (one thread, seeded, budget
and data from autograder/specs/perceptron.json) on the grading data seed with model seeds 0, 1, 2,
and on data seed 0 with model seed 0, once per backend, each backend in its own process
(two at a time at most). Prints a Markdown report.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SPEC = json.loads((ROOT / "autograder/specs/perceptron.json").read_text())
FIXTURES = ROOT / "autograder/fixtures/perceptron"

# Other reasonable ways to write the builders (not fixtures): each must pass like the reference.
STYLES = {
    "perceptron_sgd": '''
def build_perceptron(input_dim):
    model = keras.Sequential([keras.Input((input_dim,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model
''',
    "perceptron_adam_default": '''
def build_perceptron(input_dim):
    inputs = keras.Input((input_dim,))
    outputs = layers.Dense(1, activation="sigmoid")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model
''',
    "mlp_tanh8_adam_default": '''
def build_mlp(input_dim):
    model = keras.Sequential([keras.Input((input_dim,)), layers.Dense(8, activation="tanh"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model
''',
    "mlp_relu32x2_functional": '''
def build_mlp(input_dim):
    inputs = keras.Input((input_dim,))
    x = layers.Dense(32, activation="relu")(inputs)
    x = layers.Dense(32, activation="relu")(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.005), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model
''',
    "mlp_relu4_adam_default": '''
def build_mlp(input_dim):
    model = keras.Sequential([keras.Input((input_dim,)), layers.Dense(4, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model
''',
}


def fixture_code(name: str) -> str:
    return (FIXTURES / f"{name}.py").read_text()


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.py"))


def reference_fit():
    """solutions.perceptron.perceptron_fit without importing Keras (the module imports it)."""
    import ast

    import numpy as np

    source = (ROOT / "solutions/perceptron.py").read_text()
    node = next(n for n in ast.parse(source).body
                if isinstance(n, ast.FunctionDef) and n.name == "perceptron_fit")
    namespace = {"np": np}
    exec(ast.get_source_segment(source, node), namespace)
    return namespace["perceptron_fit"]


def threshold(task: str) -> tuple[float, float]:
    check = next(c for c in SPEC["checks"] if c.get("task") == task and c["kind"] == "metric")
    return check["floor"], check["threshold"]


def part_fit() -> list[str]:
    import numpy as np

    from autograder.trusted.challenges import perceptron as challenge

    perceptron_fit = reference_fit()

    task = SPEC["tasks"]["fit"]
    kwargs = task["challenge"].get("kwargs", {})
    candidates = {"reference": perceptron_fit}
    for name in fixture_names():
        if name.startswith("fit_"):
            ns = {"np": np}
            exec(fixture_code(name), ns)
            candidates[name] = ns["perceptron_fit"]
    floor, thr = threshold("fit")
    lines = [f"### perceptron_fit: heldout_accuracy on challenge seeds 0..9 "
             f"(floor {floor}, threshold {thr}; {json.dumps(kwargs)})", "",
             "| submission | min | mean | max | train acc (min) | seconds per call (max) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, fn in candidates.items():
        held, train, secs = [], [], []
        for seed in range(10):
            call = challenge.make(seed, **kwargs)[0]
            start = time.perf_counter()
            w, b = fn(*call["args"], **call["kwargs"])
            secs.append(time.perf_counter() - start)
            result = challenge.score(seed, [{"value": [np.asarray(w), b], "error": None}],
                                     **kwargs)
            held.append(result["metrics"]["heldout_accuracy"])
            train.append(result["metrics"]["train_accuracy"])
        lines.append(f"| {name} | {min(held):.3f} | {np.mean(held):.3f} | {max(held):.3f} | "
                     f"{min(train):.3f} | {max(secs):.3f} |")
    return lines


def worker(backend: str) -> None:
    """Train every candidate on one backend; print one JSON line per run."""
    from course import runtime

    runtime.configure(backend=backend, threads=1)
    import keras
    import numpy as np
    from keras import layers

    import solutions.perceptron as ref
    from course import points, training

    tasks = {"perceptron": "build_perceptron", "mlp": "build_mlp"}
    candidates = []  # (task, name, builder)
    for task, fn_name in tasks.items():
        candidates.append((task, "reference", getattr(ref, fn_name)))
        sources = {n: fixture_code(n) for n in fixture_names()}
        sources.update(STYLES)
        for name, code in sources.items():
            ns = {"keras": keras, "layers": layers, "np": np}
            if f"def {fn_name}(" in code:
                exec(code, ns)
                candidates.append((task, name, ns[fn_name]))
    for task, name, builder in candidates:
        spec_task = SPEC["tasks"][task]
        data_kwargs = dict(spec_task["data"].get("kwargs", {}))
        budget = training.Budget(**spec_task["budget"])
        args = SPEC["functions"][spec_task["function"]]["args"]
        runs = [(data_kwargs["seed"], s) for s in (0, 1, 2)] + [(0, 0)]
        for data_seed, model_seed in runs:
            splits = points.LOADERS[spec_task["data"]["name"]](**{**data_kwargs,
                                                                  "seed": data_seed})
            runtime.seed_everything(model_seed)
            model = builder(*args)
            fitted = training.fit(model, splits.x_train, splits.y_train, budget=budget,
                                  validation_data=(splits.x_val, splits.y_val), progress=False)
            acc = training.accuracy(model, splits.x_test, splits.y_test)
            print(json.dumps({"backend": backend, "task": task, "name": name,
                              "data_seed": data_seed, "model_seed": model_seed, "acc": acc,
                              "seconds": fitted.seconds, "params": model.count_params()}),
                  flush=True)


def part_keras(backends: list[str]) -> list[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    rows = []
    for i in range(0, len(backends), 2):  # two training processes at a time at most
        logs = {b: tempfile.TemporaryFile("w+") for b in backends[i:i + 2]}
        procs = {b: subprocess.Popen([sys.executable, __file__, "--worker", b], env=env,
                                     stdout=subprocess.PIPE, stderr=log, text=True)
                 for b, log in logs.items()}
        for backend, proc in procs.items():
            out, _ = proc.communicate()
            rows += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            if proc.returncode:
                logs[backend].seek(0)
                print(f"{backend} worker failed (rc={proc.returncode}):\n"
                      f"{logs[backend].read()[-2000:]}", file=sys.stderr)
            logs[backend].close()
    lines = []
    for task in ("perceptron", "mlp"):
        spec_task = SPEC["tasks"][task]
        floor, thr = threshold(task)
        lines += ["", f"### {spec_task['function']} on `{spec_task['data']['name']}` "
                      f"(floor {floor}, threshold {thr}; budget {json.dumps(spec_task['budget'])})",
                  "",
                  "accuracies: grading data seed with model seeds 0/1/2, then data seed 0 "
                  "with model seed 0", "",
                  "| submission | params | backend | accuracies | min | fit s (median) | verdict |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        names = list(dict.fromkeys(r["name"] for r in rows if r["task"] == task))
        for name in names:
            for backend in backends:
                mine = [r for r in rows if r["task"] == task and r["name"] == name
                        and r["backend"] == backend]
                if not mine:
                    continue
                accs = [r["acc"] for r in mine]
                secs = sorted(r["seconds"] for r in mine)
                lo = min(accs)
                verdict = ("pass" if lo >= thr else "fail (<= floor)"
                           if max(accs) <= floor else "partial")
                lines.append(f"| {name} | {mine[0]['params']} | {backend} | "
                             f"{' '.join(f'{a:.3f}' for a in accs)} | {lo:.3f} | "
                             f"{secs[len(secs) // 2]:.2f} | {verdict} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    start = time.perf_counter()
    lines = [f"# perceptron calibration ({datetime.date.today()}, {platform.machine()}, "
             f"{os.cpu_count()} CPUs, Python {platform.python_version()}, one thread per process)",
             ""]
    lines += part_fit()
    lines += part_keras(args.backends)
    lines += ["", f"total {time.perf_counter() - start:.0f} s"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
