"""Candidate tasks for `cnn`: which canvas size and number of training copies of the translated
digits lets every convolutional must-pass model through and keeps every other family out?

Each candidate (canvas x copies, `course.data.load_translated_digits(..., graded=True)`, scored on
the private test pool) trains the reference `solutions.cnn.build_cnn`, the must-pass fixtures
`passing/lenet5` and `passing/mnist_convnet`, the dense mistakes `wide_dense` and `dense_only`,
the widest dense network under the parameter cap at that canvas (the `wide_dense` fixture goes
over the cap past a 16x16 canvas), and the recurrent row reader `gru_rows`.

Two generated families that need no digit placement are measured the same way (`--family`):
`motifs` (each class a 3x3 binary motif stamped `--copies` times at random spots among 4 motifs
of a shared distractor pool, on faint noise) and `textures` (8 classes: a grating's orientation x
frequency, random phase, on strong pixel noise); 1,200 / 300 / 400 generated images.

Run: .venv/bin/python bench/cnn_tasks.py [--family digits|motifs|textures] [--canvases 16,24,32]
     [--copies 1,4] [--seeds 0,1] [--backend jax] [--epochs 150] [--patience 20]
     [--only reference,gru_rows] [--out bench/results/cnn_tasks.md]
     generated families: [--classes 4] [--motif 3] [--train 1200] [--standardise]
Each run trains as the grader does (`course.training.fit`: Adam as compiled, batch 64, early
stopping on validation accuracy with the best epoch's weights kept), one thread, and scores on
the private pool (digits) or the generated test images. Rows are appended to the output as they
finish. Besides the fixtures, three models are built here: `capped_dense`, `gru_rows_wide` (256
units a direction) and `conv1d_rows` (1-D convolutions along the rows, full-width filters).
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MAX_PARAMS = 500_000  # the cap of the cnn spec

# name -> (family, source for measure_rnn.load_builder); None: built here
MODELS = {
    "reference": ("convolution (must pass)", "ref"),
    "lenet5": ("convolution (must pass)", "fixture:passing/lenet5"),
    "mnist_convnet": ("convolution (must pass)", "fixture:passing/mnist_convnet"),
    "wide_dense": ("dense", "fixture:wide_dense"),
    "capped_dense": ("dense", None),
    "dense_only": ("dense", "fixture:dense_only"),
    "gru_rows": ("recurrent, reads rows", "fixture:gru_rows"),
    "gru_rows_wide": ("recurrent, reads rows", None),
    "conv1d_rows": ("1-D convolution along rows", None),
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


def gru_rows_wide(input_shape, num_classes):
    """`gru_rows` with 256 units a direction (about 440,000 parameters at a 16-pixel width)."""
    import keras
    from keras import layers

    height, width = input_shape[0], input_shape[1]
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Reshape((height, width * input_shape[2])),
        layers.Bidirectional(layers.GRU(256, return_sequences=True)),
        layers.GlobalMaxPooling1D(),
        layers.Dense(64, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def conv1d_rows(input_shape, num_classes):
    """1-D convolutions along the rows (each row's pixels are its channels), then the maximum
    over rows: a filter spans three whole rows, so it learns a pattern at every column apart."""
    import keras
    from keras import layers

    height, width = input_shape[0], input_shape[1]
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Reshape((height, width * input_shape[2])),
        *[layers.Conv1D(128, 3, padding="same", activation="relu") for _ in range(3)],
        layers.GlobalMaxPooling1D(),
        layers.Dense(64, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def builder(name):
    from measure_rnn import load_builder

    built_here = {"capped_dense": capped_dense, "gru_rows_wide": gru_rows_wide,
                  "conv1d_rows": conv1d_rows}
    return built_here.get(name) or load_builder("cnn", "build_cnn", MODELS[name][1], {})


def motif_images(n, canvas, copies, rng, classes=10, distractors=None, noise=0.1, size=3):
    """``n`` canvases, each with ``copies`` of its class's ``size`` x ``size`` binary motif among
    ``distractors`` others (default: as many as ``copies``, at least 4)."""
    import numpy as np

    distractors = max(4, copies) if distractors is None else distractors
    pool, seen = [], set()
    motif_rng = np.random.default_rng(123)  # the same motifs for every split and seed
    low, high = round(size * size * 0.45), round(size * size * 0.65)
    while len(pool) < classes + 8:
        m = motif_rng.integers(0, 2, size=(size, size))
        if low <= m.sum() <= high and m.tobytes() not in seen:
            seen.add(m.tobytes())
            pool.append(m.astype("float32"))
    y = rng.integers(0, classes, n)
    x = rng.normal(0, noise, (n, canvas, canvas)).astype("float32")
    for i in range(n):
        for j in range(copies + distractors):
            m = pool[y[i]] if j < copies else pool[classes + rng.integers(8)]
            r, c = rng.integers(0, canvas - size + 1, 2)
            x[i, r:r + size, c:c + size] = np.maximum(x[i, r:r + size, c:c + size], m)
    return np.clip(x, 0, 1)[..., None], y, classes


def texture_images(n, canvas, copies, rng, noise=0.6):
    """``n`` noisy gratings; class = orientation (4) x frequency (2); ``copies`` is unused."""
    import numpy as np

    freqs = (0.18, 0.3)
    y = rng.integers(0, 4 * len(freqs), n)
    r, c = np.mgrid[0:canvas, 0:canvas].astype("float32")
    x = np.empty((n, canvas, canvas), "float32")
    for i in range(n):
        o, f = divmod(int(y[i]), len(freqs))
        theta = np.pi * o / 4 + rng.normal(0, 0.08)
        freq = freqs[f] * (1 + rng.normal(0, 0.05))
        wave = np.sin(2 * np.pi * freq * (c * np.cos(theta) + r * np.sin(theta))
                      + rng.uniform(0, 2 * np.pi))
        x[i] = 0.5 + 0.25 * wave + rng.normal(0, noise, (canvas, canvas))
    return np.clip(x, 0, 1)[..., None], y, 4 * len(freqs)


def generated(family, canvas, copies, seed, classes=None, motif=3, train=1200):
    """Splits of a generated family (train / validation / test: ``train`` / 300 / 400)."""
    import numpy as np

    from course.data import Splits

    make = (functools.partial(motif_images, classes=classes or 10, size=motif)
            if family == "motifs" else texture_images)
    parts = [make(n, canvas, copies, np.random.default_rng(1000 * k + seed))
             for k, n in ((1, train), (2, 300), (3, 400))]
    (xt, yt, classes), (xv, yv, _), (xs, ys, _) = parts
    return Splits(xt, yt, xv, yv, xs, ys, classes)


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
    parser.add_argument("--family", default="digits", choices=["digits", "motifs", "textures"])
    parser.add_argument("--classes", type=int, default=None, help="motifs: how many (10)")
    parser.add_argument("--standardise", action="store_true",
                        help="scale every split by the training images' mean and deviation")
    parser.add_argument("--train", type=int, default=1200, help="generated: training images")
    parser.add_argument("--motif", type=int, default=3, help="motifs: their size in pixels")
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
    from course import data, motifs
    from sequence_tasks import append_row

    out = Path(args.out)
    only = set(filter(None, args.only.split(",")))
    names = [n for n in MODELS if not only or n in only]
    for canvas in map(int, args.canvases.split(",")):
        for copies in map(int, args.copies.split(",")):
            task = f"canvas {canvas}, copies {copies}"
            if args.family != "digits":
                task = f"{args.family}{args.classes or ''} {args.motif}x{args.motif}, {task}"
            if args.standardise:
                task += ", standardised"
            if args.train != 1200:
                task += f", {args.train} training images"
            for seed in map(int, args.seeds.split(",")):
                splits = (generated(args.family, canvas, copies, seed, args.classes,
                                    args.motif, args.train) if args.family != "digits"
                          else data.load_translated_digits(canvas=canvas, seed=seed,
                                                           copies=copies, graded=True))
                if args.standardise:
                    splits = motifs.standardised(splits)
                for name in names:
                    params, epochs, accuracy, seconds = run_one(splits, name, seed, args.epochs,
                                                                args.patience)
                    shown = "over the cap, not trained" if accuracy is None else f"{accuracy:.3f}"
                    row = (f"| {task} | {name} | {MODELS[name][0]} | {args.backend} | {seed} | "
                           f"{params:,} | {epochs} | {shown} | {seconds:.0f} |")
                    append_row(out, row)


if __name__ == "__main__":
    main()
