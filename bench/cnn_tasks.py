"""Candidate tasks for `cnn`: which canvas size and number of training copies of the translated
digits lets every convolutional must-pass model through and keeps every other family out?

Each candidate (canvas x copies, `course.data.load_translated_digits(..., graded=True)`, scored on
the private test pool) trains the reference `solutions.cnn.build_cnn`, the must-pass fixtures
`passing/lenet5` and `passing/mnist_convnet`, the dense mistakes `wide_dense` and `dense_only`,
the widest dense network under the parameter cap at that canvas (the `wide_dense` fixture goes
over the cap past a 16x16 canvas), and the recurrent row reader `gru_rows`.

Run: .venv/bin/python bench/cnn_tasks.py [--canvases 16,24,32] [--copies 1,4] [--seeds 0,1]
     [--backend jax] [--epochs 150] [--patience 20] [--only reference,gru_rows]
     [--out bench/results/cnn_tasks.md]
Each run trains as the grader does (`course.training.fit`: Adam as compiled, batch 64, early
stopping on validation accuracy with the best epoch's weights kept), one thread, and scores on
the private pool. Rows are appended to the output as they finish.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MAX_PARAMS = 500_000  # the cap of the cnn spec

# name -> (family, source for measure_rnn.load_builder); "capped_dense" is built here
MODELS = {
    "reference": ("convolution (must pass)", "ref"),
    "lenet5": ("convolution (must pass)", "fixture:passing/lenet5"),
    "mnist_convnet": ("convolution (must pass)", "fixture:passing/mnist_convnet"),
    "wide_dense": ("dense", "fixture:wide_dense"),
    "capped_dense": ("dense", None),
    "dense_only": ("dense", "fixture:dense_only"),
    "gru_rows": ("recurrent, reads rows", "fixture:gru_rows"),
}


def capped_dense(input_shape, num_classes):
    """`wide_dense` with its first layer as wide as the parameter cap allows at this canvas."""
    import math

    import keras
    from keras import layers

    pixels = math.prod(input_shape)
    # (pixels + 1) u + (u + 1) 192 + 193 num_classes <= MAX_PARAMS, u a multiple of 32
    units = (MAX_PARAMS - 192 - 193 * num_classes) // (pixels + 1 + 192) // 32 * 32
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Flatten(),
        layers.Dense(units, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(192, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def builder(name):
    from measure_rnn import load_builder

    source = MODELS[name][1]
    return capped_dense if source is None else load_builder("cnn", "build_cnn", source, {})


def run_one(splits, name, seed, epochs, patience):
    """Train ``name`` on ``splits`` as the grader does; (params, epochs run, accuracy, seconds),
    accuracy None when the model is over the parameter cap (not trained)."""
    import keras

    from course import training

    keras.utils.set_random_seed(seed)
    model = builder(name)(splits.x_train.shape[1:], splits.num_classes)
    params = model.count_params()
    if params > MAX_PARAMS:
        return params, 0, None, 0.0
    fitted = training.fit(model, splits.x_train, splits.y_train,
                          budget=training.Budget(epochs=epochs, batch_size=64, patience=patience),
                          validation_data=(splits.x_val, splits.y_val), progress=False)
    accuracy = training.accuracy(model, splits.x_test, splits.y_test)
    return params, fitted.epochs_run, accuracy, fitted.seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--canvases", default="16,24,32")
    parser.add_argument("--copies", default="1,4")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"))
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--patience", type=int, default=20)
    parser.add_argument("--only", default="", help="comma-separated model names (default all)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "cnn_tasks.md"))
    args = parser.parse_args(argv)
    from course import runtime

    runtime.configure(backend=args.backend, threads=1)
    sys.path.insert(0, str(ROOT / "bench"))
    from course import data
    from sequence_tasks import append_row

    out = Path(args.out)
    only = set(filter(None, args.only.split(",")))
    names = [n for n in MODELS if not only or n in only]
    for canvas in map(int, args.canvases.split(",")):
        for copies in map(int, args.copies.split(",")):
            task = f"canvas {canvas}, copies {copies}"
            for seed in map(int, args.seeds.split(",")):
                splits = data.load_translated_digits(canvas=canvas, seed=seed, copies=copies,
                                                     graded=True)
                for name in names:
                    params, epochs, accuracy, seconds = run_one(splits, name, seed, args.epochs,
                                                                args.patience)
                    shown = "over the cap, not trained" if accuracy is None else f"{accuracy:.3f}"
                    row = (f"| {task} | {name} | {MODELS[name][0]} | {args.backend} | {seed} | "
                           f"{params:,} | {epochs} | {shown} | {seconds:.0f} |")
                    append_row(out, row)


if __name__ == "__main__":
    main()
