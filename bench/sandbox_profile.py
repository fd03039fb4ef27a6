"""Where a sandbox's seconds go, per backend: the `cnn` notebook's setup cell and the reference
builder, step by step, each backend in a fresh process (as in a sandbox).

    .venv/bin/python bench/sandbox_profile.py [--backend tensorflow --backend jax ...]
                                              [--out bench/results/sandbox_profile.md]

Steps: importing Keras (and the backend), the course modules, finding the device, making the
digits, drawing the notebook's image grid, calling ``build_cnn`` and exporting its config, which
is what the sandbox does for every submission before any trusted training.

Then the whole sandbox (``runner.run_notebook`` on the reference ``cnn`` submission, what
``course grade`` pays per submission before training), started both ways (a fresh Python, and a
fork of the warm template) in the jail and without isolation (``rlimits``), alternating,
``--repeats`` times each per backend: the fork server's gain and the jail's cost are ratios of
medians measured in the same run.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def child() -> None:
    steps, t = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        steps[name] = round(now - t, 3)
        t = now

    import keras
    lap("import keras and its backend")
    from course import data, plots, runtime
    lap("import the course modules")
    runtime.detect_device()
    lap("find the device")
    digits = data.load_translated_digits(canvas=16, seed=0)
    lap("make the digits")
    plots.image_grid(digits.x_train[:20], ncols=10, labels=digits.y_train[:20], title="digits")
    lap("draw the image grid")
    from solutions.cnn import build_cnn
    model = build_cnn(digits.input_shape, digits.num_classes)
    lap("build_cnn")
    from autograder.sandbox.child import export_model
    export_model("build_cnn", model)
    lap("export the config")
    print(json.dumps(steps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["tensorflow", "jax", "torch"])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "sandbox_profile.md")
    parser.add_argument("--repeats", type=int, default=3,
                        help="whole-sandbox runs per backend and isolation level (default 3)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child()
    backends = args.backend or ["tensorflow", "jax", "torch"]
    measured = {}
    for backend in backends:
        env = {**os.environ, "KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": "",
               "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3",
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--child"], env=env, check=True,
                              capture_output=True, text=True)
        measured[backend] = (json.loads(done.stdout.strip().splitlines()[-1]),
                             time.perf_counter() - t0)
    steps = list(next(iter(measured.values()))[0])
    lines = [f"# Where a sandbox's seconds go ({datetime.date.today()})", "",
             "Command: `.venv/bin/python bench/sandbox_profile.py"
             + "".join(f" --backend {b}" for b in backends) + "`  ",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores; one fresh process per "
             "backend; the `cnn` setup cell and the reference builder, step by step.", "",
             "| step | " + " | ".join(f"{b} s" for b in backends) + " |",
             "| --- | " + " | ".join("---:" for _ in backends) + " |"]
    lines += [f"| {step} | " + " | ".join(f"{measured[b][0].get(step, 0):.2f}" for b in backends)
              + " |" for step in steps]
    lines.append("| **whole process (Python start included)** | "
                 + " | ".join(f"**{measured[b][1]:.2f}**" for b in backends) + " |")
    lines += whole_sandbox(backends, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def whole_sandbox(backends: list[str], repeats: int) -> list[str]:
    """Seconds of ``run_notebook`` on the reference cnn submission: started as a fresh Python
    (``exec``, before the fork server) and forked from the warm template (``fork``), each in the
    jail and without isolation (``rlimits``), alternating in the same run."""
    import statistics
    import tempfile

    sys.path.insert(0, str(ROOT))
    from autograder import fixtures
    from autograder import spec as specs
    from autograder.pipeline import Plan
    from autograder.sandbox import forkserver, isolation, runner

    spec = specs.load("cnn")
    nb = fixtures.submission_notebook(fixtures.source_notebook("cnn"),
                                      fixtures.cells_with(fixtures.source_notebook("cnn"), None))
    path = Path(tempfile.mkdtemp()) / "cnn.ipynb"
    path.write_text(json.dumps(nb))
    jail = isolation.level()
    levels = [jail, "rlimits"] if jail != "rlimits" else ["rlimits"]
    ways = [(how, lv) for how in ("exec", "fork") for lv in levels]
    seconds = {(b, w): [] for b in backends for w in ways}
    first = {}
    real_level = isolation.level

    def run(how: str, lv: str) -> float:
        isolation.level = lambda: lv
        runner._START["how"] = how
        export = runner.run_notebook(path, spec, Plan(spec).calls)
        assert export.ok and export.calls["build_cnn"]["ok"], export.error
        assert export.started == how, export.log
        return export.seconds

    try:
        for backend in backends:
            os.environ["KERAS_BACKEND"] = backend
            first[backend] = run("fork", levels[0])  # the template's start included
            for _ in range(repeats):
                for how, lv in ways:
                    seconds[(backend, (how, lv))].append(run(how, lv))
            forkserver.close_all()
    finally:
        isolation.level = real_level
        runner._START["how"] = "fork"
    median = {k: statistics.median(v) for k, v in seconds.items()}
    lines = ["", f"Whole sandbox per submission (`runner.run_notebook`, reference `cnn`, median of "
                 f"{repeats}, alternating in the same run): started as a fresh Python (`exec`, "
                 "as before the fork server) or forked from the warm template (`fork`, the "
                 "default), in the jail and without isolation (`rlimits`):", "",
             "| start, level | " + " | ".join(f"{b} s" for b in backends) + " |",
             "| --- | " + " | ".join("---:" for _ in backends) + " |"]
    lines += [f"| {how}, {lv} | " + " | ".join(f"{median[(b, (how, lv))]:.2f}" for b in backends)
              + " |" for how, lv in ways]
    lines.append("| first fork of a grading process (the template's start included) | "
                 + " | ".join(f"{first[b]:.2f}" for b in backends) + " |")
    lines.append(f"| **exec / fork, {jail}** | " + " | ".join(
        f"**{median[(b, ('exec', jail))] / median[(b, ('fork', jail))]:.2f}x**"
        for b in backends) + " |")
    if len(levels) == 2:
        lines.append(f"| **{jail} / rlimits, fork** | " + " | ".join(
            f"**{median[(b, ('fork', jail))] / median[(b, ('fork', 'rlimits'))]:.3f}**"
            for b in backends) + " |")
    return lines


if __name__ == "__main__":
    main()
