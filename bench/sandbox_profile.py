"""Where a sandbox's seconds go, per backend: the `cnn` notebook's setup cell and the reference
builder, step by step, each backend in a fresh process (as in a sandbox).

    .venv/bin/python bench/sandbox_profile.py [--backend tensorflow --backend jax ...]
                                              [--out bench/results/sandbox_profile.md]

Steps: importing Keras (and the backend), the course modules, finding the device, making the
digits, drawing the notebook's image grid, calling ``build_cnn`` and exporting its config, which
is what the sandbox does for every submission before any trusted training.
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
    keras.saving.serialize_keras_object(model)
    model.get_compile_config()
    lap("export the config")
    print(json.dumps(steps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["tensorflow", "jax", "torch"])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "sandbox_profile.md")
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
