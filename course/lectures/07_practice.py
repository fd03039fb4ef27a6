# %% [markdown]
# # Lecture 7: Deep learning in practice
#
# The ideas of the previous lectures are only half of the work. This lecture covers the other
# half, the part that decides whether an experiment runs at all and whether its numbers mean
# anything:
#
# 1. **frameworks**: one Keras model, three backends (TensorFlow, JAX, PyTorch);
# 2. **hardware**: what a GPU buys you, and when it does not;
# 3. **data**: where data sets come from, and how to split them;
# 4. **tuning**: choosing hyperparameters with keras-tuner instead of by hand.

# %% [markdown]
# ## Setup

# %%
from course import runtime

backend = runtime.configure()

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
import keras
from keras import layers, ops

from course import data, plots

runtime.seed_everything(0)
print("Keras", keras.__version__, "with backend", backend)

# %% [markdown]
# ## One model, three backends
#
# Keras 3 is a front end: layers, models, losses and training loops written once, executed by
# a *backend* that does the arithmetic and computes gradients. TensorFlow, JAX and PyTorch are
# supported; the environment variable `KERAS_BACKEND` picks one, and it must be set **before**
# Keras is first imported (`course.runtime.configure` does that). Code written with
# `keras.ops` instead of a backend's own functions runs on all three.
#
# A backend can only be chosen once per process, so to compare them we start one fresh Python
# process per installed backend, each training the same small network on the 8x8 digits.

# %%
SCRIPT = """
import json, sys, time
start = time.perf_counter()
from course import runtime
runtime.configure(threads=1)  # one thread each, so the comparison is fair on a shared machine
import keras
from keras import layers
from course import data, training
imported = time.perf_counter() - start
runtime.seed_everything(0)
digits = data.load_digits_8x8()
model = keras.Sequential([keras.Input((8, 8, 1)), layers.Flatten(),
                          layers.Dense(32, activation="relu"), layers.Dense(10)])
model.compile(optimizer="adam", metrics=["accuracy"],
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
result = training.fit(model, digits.x_train, digits.y_train,
                      budget=training.Budget(epochs=10), progress=False)
print(json.dumps({"import_s": imported, "fit_s": result.seconds,
                  "accuracy": training.accuracy(model, digits.x_test, digits.y_test)}))
"""

MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
installed = [b for b, module in MODULES.items() if importlib.util.find_spec(module)]
print("installed backends:", ", ".join(installed))

timings = {}
for name in installed:
    env = {**os.environ, "KERAS_BACKEND": name, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=240)
    if done.returncode != 0:
        raise RuntimeError(f"the {name} run failed:\n{done.stderr[-2000:]}")
    timings[name] = json.loads(done.stdout.strip().splitlines()[-1])
    t = timings[name]
    print(f"{name:10s} import {t['import_s']:4.1f} s  fit {t['fit_s']:4.1f} s  "
          f"test accuracy {t['accuracy']:.3f}")

fig, ax = plt.subplots(figsize=(7, 1.4 + 0.6 * len(timings)))
names = list(timings)
imports = np.array([timings[n]["import_s"] for n in names])
fits = np.array([timings[n]["fit_s"] for n in names])
ax.barh(names, imports, label="import Keras + backend")
ax.barh(names, fits, left=imports, label="train 10 epochs (includes compiling)")
for i, n in enumerate(names):
    ax.text(imports[i] + fits[i] + 0.1, i, f"acc {timings[n]['accuracy']:.2f}", va="center")
ax.set(xlabel="seconds", xlim=(0, 1.3 * (imports + fits).max()),
       title="Same model, same data, three backends (one CPU thread each)")
ax.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.35))
fig.tight_layout()

# %% [markdown]
# Three observations that hold well beyond this toy:
#
# - The accuracies are close but not identical: the same seed draws different random numbers
#   on different backends. Compare runs on one backend, and leave margin in any threshold.
# - For a small model, *starting up* (importing, compiling the training step) costs as much as
#   training. That is why the autograder keeps warm worker processes instead of starting a
#   fresh one per submission.
# - Nothing in the model code changed. Writing `keras.ops` rather than `tf.*` or `torch.*`
#   keeps that true for your own code, which matters because the machine with the GPU may not
#   have the framework you developed on.

# %% [markdown]
# ## GPUs and CPUs
#
# A GPU has thousands of simple arithmetic units and very fast memory; it shines on large
# matrix multiplications, which is most of what a neural network does. `course.runtime`
# reports what this process computes on:

# %%
device = runtime.detect_device()
print("computing on:", device)
print("GPUs visible to", backend + ":", runtime.gpu_count())

# %% [markdown]
# A GPU only pays off when there is enough work per call. Below we time square matrix products
# of growing size on whatever this machine has and convert to billions of floating-point
# operations per second (a product of two $n \times n$ matrices takes about $2n^3$). Small
# products run far below the hardware's peak because the fixed cost of each call dominates;
# the rate climbs until the matrices are big enough to keep every core busy. A current
# data-centre GPU peaks at tens of thousands of GFLOP/s, but, like the CPU, only on large
# matrices, which most of this course's tiny models never produce.

# %%
def matmul_rate(n, repeats=3):
    a = ops.convert_to_tensor(np.random.default_rng(0).normal(size=(n, n)).astype("float32"))
    ops.convert_to_numpy(ops.matmul(a, a))  # warm-up (and compilation, where there is any)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        ops.convert_to_numpy(ops.matmul(a, a))  # copying the result back waits for the device
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


sizes = [32, 64, 128, 256, 512, 1024]
rates = [matmul_rate(n) for n in sizes]
for n, rate in zip(sizes, rates):
    print(f"{n:5d} x {n:<5d} {rate:8.1f} GFLOP/s")
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.loglog(sizes, rates, "o-")
ax.set(xlabel="matrix size n", ylabel="GFLOP/s", title=f"Matrix products on {device.kind.upper()}")
fig.tight_layout()

# %% [markdown]
# Practical consequences: on a GPU use larger batches (more work per call), keep data on the
# device, and expect little gain for very small models. Where several processes share one GPU,
# stop JAX from reserving most of its memory up front (`XLA_PYTHON_CLIENT_PREALLOCATE=false`,
# which `course.runtime.configure` sets). Seeded runs are reproducible on one machine and
# backend, but a GPU and a CPU can differ in the last digits.

# %% [markdown]
# ## Where data sets come from
#
# Downloading data at run time makes experiments fragile (no network, moved files, changed
# versions). The course's data sets work offline:
#
# | `course.data` name | what | where it comes from |
# | --- | --- | --- |
# | `digits_8x8` | 1,797 digits, 8x8 | shipped inside scikit-learn (BSD licence) |
# | `translated_digits` | those digits, placed at random | built from them with a fixed seed |
# | `fashion_mnist` | 70,000 clothes, 28x28 | Keras' reader; Debian `dataset-fashion-mnist` |
# | `mnist` | 70,000 digits, 28x28 | downloaded once by Keras (hash-checked) |
#
# Every loader returns fixed, **stratified** train / validation / test splits: each class
# appears in the same proportion in each split, and the split depends only on the seed. Train
# on the training split, make choices (architecture, epochs, thresholds) on the validation
# split, and look at the test split only at the end, or its score stops meaning "new data".

# %%
print("loaders:", ", ".join(sorted(data.LOADERS)))
shifted = data.load("translated_digits", canvas=16, seed=0)
print("translated_digits:", shifted.sizes(), "image shape", shifted.input_shape)
fig = plots.image_grid(shifted.x_train[:10], labels=shifted.y_train[:10],
                       title="translated_digits: 8x8 digits on a 16x16 canvas")

home = os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras"))
full_sets = {"fashion_mnist": os.path.join(home, "datasets", "fashion-mnist"),
             "mnist": os.path.join(home, "datasets", "mnist.npz")}
for name, path in full_sets.items():
    state = "present" if os.path.exists(path) else "not on this machine"
    print(f"{name}: {state} ({path})")

fig, ax = plt.subplots(figsize=(7, 3))
bottom = np.zeros(10)
for split, labels in (("train", shifted.y_train), ("validation", shifted.y_val),
                      ("test", shifted.y_test)):
    counts = np.bincount(labels, minlength=10)
    ax.bar(range(10), counts, bottom=bottom, label=split)
    bottom += counts
ax.set(xticks=range(10), xlabel="digit", ylabel="images",
       title="A stratified split: every class divided 60 / 20 / 20")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# The two full data sets are checked by looking for their files, not by calling their loaders,
# because a missing file makes Keras try to download it. When one is missing,
# `data.load("fashion_mnist")` says which files to put where.

# %% [markdown]
# ## Tuning hyperparameters with keras-tuner
#
# Width, learning rate, dropout, number of layers: the choices not learned by gradient descent
# are **hyperparameters**. keras-tuner automates trying them. You write a function that builds
# a compiled model from an `hp` object, declaring each choice and its range; a *tuner* then
# picks values, trains, and records the validation score. `RandomSearch` samples at random
# (often as good as cleverer methods for a handful of hyperparameters); `BayesianOptimization`
# and `Hyperband` spend the budget more carefully.
#
# A deliberately tiny search: 3 trials of 8 epochs, a one-hidden-layer network on the 8x8
# digits, choosing the layer's width and the learning rate.

# %%
import keras_tuner

digits = data.load_digits_8x8()


def build_model(hp):
    model = keras.Sequential([
        keras.Input(digits.input_shape),
        layers.Flatten(),
        layers.Dense(hp.Int("units", 4, 64, step=4), activation="relu"),
        layers.Dense(digits.num_classes),
    ])
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 3e-2,
                                                           sampling="log")),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


search_dir = tempfile.mkdtemp(prefix="lecture-tuning-")
tuner = keras_tuner.RandomSearch(build_model, objective="val_accuracy", max_trials=3, seed=0,
                                 directory=search_dir, project_name="digits", overwrite=True)
start = time.perf_counter()
tuner.search(digits.x_train, digits.y_train, epochs=8, batch_size=64,
             validation_data=(digits.x_val, digits.y_val), verbose=0)
print(f"search took {time.perf_counter() - start:.1f} s")

trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
for trial in trials:
    print(f"trial {trial.trial_id}: {trial.hyperparameters.values} -> "
          f"val_accuracy {trial.score:.3f}")
best = tuner.get_best_hyperparameters(1)[0]
print("best:", best.values)
shutil.rmtree(search_dir)  # keras-tuner keeps every trial's files on disk; we are done with them

fig, ax = plt.subplots(figsize=(6, 3))
ax.bar([f"{t.hyperparameters['units']} units\nlr {t.hyperparameters['learning_rate']:.4f}"
        for t in trials], [t.score for t in trials])
ax.set(ylabel="validation accuracy", ylim=(0, 1), title="Three random trials")
fig.tight_layout()

# %% [markdown]
# Two cautions. First, the best trial's validation score is optimistic: it was chosen *because*
# it scored well, so confirm it once on the test split (or on new seeds). Second, training is
# noisy: with a short budget, a different seed can reorder close trials, so compare
# configurations over several seeds before trusting small differences. Instructors use the same
# machinery (`course tune`) to find what a well-built model reliably reaches within the grading
# budget, and set pass thresholds below it. For large searches keras-tuner can also spread
# trials over many machines (a chief process hands out trials to workers).

# %% [markdown]
# ## Self-check questions
#
# 1. Why must `KERAS_BACKEND` be set before the first `import keras`, and why did we start a
#    separate process per backend instead of switching inside this notebook?
# 2. A model trains in 2 s on a CPU and 1.8 s on a GPU. Give two reasons why the GPU might barely
#    help, and one change that would let it help more.
# 3. What goes wrong if you choose the number of epochs by looking at test accuracy?
# 4. Why is a stratified split especially important for small data sets like the 8x8 digits?
# 5. Random search found a configuration with validation accuracy 0.97. What would you check
#    before reporting 0.97 as how well that configuration works?
