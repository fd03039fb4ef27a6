# %% [markdown]
# # Lecture 7: Deep learning in practice
#
# The ideas of the previous lectures are only half of the work. This lecture covers the other
# half, the part that decides whether an experiment runs at all and whether its numbers mean
# anything:
#
# 1. **frameworks**: one Keras model, three backends (TensorFlow, JAX, PyTorch);
# 2. **hardware**: what a GPU buys you, and when it does not;
# 3. **data**: where data sets come from, how to split them, and why more data often beats a
#    cleverer model;
# 4. **when not to use deep learning**: tables of numbers, where tree ensembles still win;
# 5. **tuning**: choosing hyperparameters with keras-tuner instead of by hand.

# %% [markdown]
# ## Setup

# %%
from course import runtime

backend = runtime.configure()

import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np

start = time.perf_counter()
import keras  # timed: importing Keras also imports its backend
import_seconds = time.perf_counter() - start
from keras import layers, ops
from sklearn.datasets import load_wine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from course import data, training

logging.getLogger("tensorflow").setLevel(logging.ERROR)  # TF's notes when models are rebuilt
runtime.seed_everything(0)
print("Keras", keras.__version__, "with backend", backend,
      f"(imported in {import_seconds:.1f} s)")

# %% [markdown]
# ## One model, three backends
#
# Keras 3 is a front end: layers, models, losses and training loops written once, executed by
# a *backend* that does the arithmetic and computes gradients. TensorFlow, JAX and PyTorch are
# supported; the environment variable `KERAS_BACKEND` picks one, and it must be set **before**
# Keras is first imported (`course.runtime.configure` does that). Code written with
# `keras.ops` instead of a backend's own functions runs on all three.
#
# A backend can only be chosen once per process, so comparing them takes one fresh Python
# process per backend. The script below trains a small network on the 8x8 digits and reports
# how long importing and training took. By default this notebook runs it on its own backend
# only; set `COMPARE_BACKENDS = True` to start one process per installed backend (about a
# minute on a laptop). This course's lectures are also executed on all three backends when the
# course is tested, and `course lectures --execute` writes one HTML page per lecture, so you
# can compare the numbers across backends without running anything.

# %%
COMPARE_BACKENDS = False  # True: time every installed backend, each in its own process

TRAIN = """
runtime.seed_everything(0)
digits = data.load_digits_8x8()
model = keras.Sequential([keras.Input((8, 8, 1)), layers.Flatten(),
                          layers.Dense(32, activation="relu"), layers.Dense(10)])
model.compile(optimizer=keras.optimizers.Adam(1e-2), metrics=["accuracy"],
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
result = training.fit(model, digits.x_train, digits.y_train,
                      budget=training.Budget(epochs=5, batch_size=32), progress=False)
report = {"fit_s": result.seconds,
          "accuracy": training.accuracy(model, digits.x_test, digits.y_test)}
"""
SCRIPT = """
import json, time
start = time.perf_counter()
from course import runtime
runtime.configure(threads=1)  # one thread each, so the comparison is fair on a shared machine
import keras
from keras import layers
from course import data, training
imported = time.perf_counter() - start
""" + TRAIN + """
print(json.dumps({**report, "import_s": imported}))
"""

MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
installed = [b for b, module in MODULES.items() if importlib.util.find_spec(module)]
print("installed backends:", ", ".join(installed))

timings = {}
if COMPARE_BACKENDS:
    for name in installed:
        env = {**os.environ, "KERAS_BACKEND": name, "TF_CPP_MIN_LOG_LEVEL": "3"}
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                              text=True, timeout=240)
        if done.returncode != 0:
            raise RuntimeError(f"the {name} run failed:\n{done.stderr[-2000:]}")
        timings[name] = json.loads(done.stdout.strip().splitlines()[-1])
else:  # the same training, in this process (Keras is already imported: see the setup cell)
    here = {"runtime": runtime, "keras": keras, "layers": layers, "data": data,
            "training": training}
    exec(TRAIN, here)
    timings[backend] = {**here["report"], "import_s": import_seconds}
for name, t in timings.items():
    print(f"{name:10s} import {t['import_s']:4.1f} s  fit {t['fit_s']:4.1f} s  "
          f"test accuracy {t['accuracy']:.3f}")
assert all(t["accuracy"] > 0.85 for t in timings.values())

fig, ax = plt.subplots(figsize=(7, 1.4 + 0.6 * len(timings)))
names = list(timings)
imports = np.array([timings[n]["import_s"] for n in names])
fits = np.array([timings[n]["fit_s"] for n in names])
ax.barh(names, imports, label="import Keras + backend")
ax.barh(names, fits, left=imports, label="train 5 epochs (includes compiling)")
for i, n in enumerate(names):
    ax.text(imports[i] + fits[i] + 0.1, i, f"acc {timings[n]['accuracy']:.2f}", va="center")
ax.set(xlabel="seconds", xlim=(0, 1.3 * (imports + fits).max()),
       title="Importing vs training a small model (one CPU thread)")
ax.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.35))
fig.tight_layout()

# %% [markdown]
# Three observations that hold well beyond this toy:
#
# - Across backends the accuracies are close but not identical: the same seed draws different
#   random numbers on different backends. Compare runs on one backend, and leave margin in any
#   threshold.
# - For a small model, *starting up* (importing, compiling the training step) costs as much as
#   training. That is why the autograder keeps warm worker processes instead of starting a
#   fresh one per submission.
# - Nothing in the model code changes between backends. Writing `keras.ops` rather than
#   `tf.*` or `torch.*` keeps that true for your own code, which matters because the machine
#   with the GPU may not have the framework you developed on.

# %% [markdown]
# ## GPUs and CPUs
#
# A GPU has thousands of simple arithmetic units and very fast memory; it shines on large
# matrix multiplications, which is most of what a neural network does. That is what changed in
# 2012 (Lecture 3): AlexNet was trained on two consumer graphics cards in five to six days, a
# job that would have taken many weeks on the CPUs of the day, and deep learning became
# practical at the scale of ImageNet. `course.runtime` reports what this process computes on:

# %%
device = runtime.detect_device()
print("computing on:", device)
print("GPUs visible to", backend + ":", runtime.gpu_count())

# %% [markdown]
# A GPU only pays off when there is enough work per call. Below we time square matrix products
# of growing size on whatever this machine has, and convert to billions of floating-point
# operations per second (a product of two $n \times n$ matrices takes about $2n^3$). Each timing
# covers the product and a sum of its entries, copied back as one number: that waits until the
# device has finished (GPUs and JAX work asynchronously) without timing the transfer of the
# whole $n \times n$ result to the host. We keep doubling $n$ while the next size is expected to
# take under half a second per product (8 times the current one), up to 8,192, so that the
# curve reaches its plateau on a CPU and on a GPU alike.

# %%
def matmul_seconds(n, repeats=3):
    a = ops.convert_to_tensor(np.random.default_rng(0).normal(size=(n, n)).astype("float32"))
    float(ops.sum(ops.matmul(a, a)))  # warm-up (and compilation, where there is any)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        float(ops.sum(ops.matmul(a, a)))  # one number back: waits for the device to finish
        best = min(best, time.perf_counter() - start)
    return best


sizes, rates, n = [], [], 32
while True:
    seconds = matmul_seconds(n)
    sizes.append(n)
    rates.append(2 * n**3 / seconds / 1e9)
    print(f"{n:5d} x {n:<5d} {rates[-1]:9.1f} GFLOP/s  ({seconds * 1e3:.2f} ms)")
    if 8 * seconds > 0.5 or n >= 8192:
        break
    n *= 2
assert max(rates) > 5 * rates[0]  # small products waste most of the hardware
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.loglog(sizes, rates, "o-", base=2)
ax.set(xlabel="matrix size n", ylabel="GFLOP/s", title=f"Matrix products on {device.kind.upper()}")
fig.tight_layout()

# %% [markdown]
# Small products run far below the hardware's peak because the fixed cost of each call
# dominates; the rate climbs until the matrices are big enough to keep every arithmetic unit
# busy. A current data-centre GPU peaks at tens of thousands of GFLOP/s in 32-bit arithmetic
# (more in the 16-bit formats that training now mostly uses), but, like the CPU, only on large
# matrices, which most of this course's tiny models never produce. Practical consequences: on a
# GPU use larger batches (more work per call), keep data on the device, and expect little gain
# for very small models. Where several processes share one GPU, stop JAX from reserving most of
# its memory up front (`XLA_PYTHON_CLIENT_PREALLOCATE=false`, which `course.runtime.configure`
# sets). Seeded runs are reproducible on one machine and backend, but a GPU and a CPU can differ
# in the last digits.

# %% [markdown]
# ## Where data sets come from
#
# Downloading data at run time makes experiments fragile (no network, moved files, changed
# versions). The course's data sets work offline:
#
# | `course.data` name | what | where it comes from |
# | --- | --- | --- |
# | `digits_8x8` | 1,797 digits, 8x8; 1,437 public | shipped inside scikit-learn (BSD licence) |
# | `translated_digits` | those digits, placed at random | built from them with a fixed seed |
# | `fashion_mnist` | 70,000 clothes, 28x28 | Keras' reader; Debian `dataset-fashion-mnist` |
# | `mnist` | 70,000 digits, 28x28 | downloaded once by Keras (hash-checked) |
#
# Every loader returns fixed, **stratified** train / validation / test splits: each class
# appears in the same proportion in each split, and the split depends only on the seed. Train
# on the training split, make choices (architecture, epochs, thresholds) on the validation
# split, and look at the test split only at the end, or its score stops meaning "new data".
# The course's graders take that rule one step further for the digits: the splits you load
# divide a **public pool** of 1,437 of them, and the other 360 (a fifth of each digit) form a
# private pool that no loader returns. Graded models are scored on those, images no one has
# tuned anything on.

# %%
print("loaders:", ", ".join(sorted(data.loaders())))
digits = data.load_digits_8x8()
print("digits_8x8:", digits.sizes(), "image shape", digits.input_shape)

home = os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras"))
full_sets = {"fashion_mnist": os.path.join(home, "datasets", "fashion-mnist"),
             "mnist": os.path.join(home, "datasets", "mnist.npz")}
for name, path in full_sets.items():
    state = "present" if os.path.exists(path) else "not on this machine"
    print(f"{name}: {state} ({path})")

fig, ax = plt.subplots(figsize=(7, 3))
bottom = np.zeros(10)
for split, labels in (("train", digits.y_train), ("validation", digits.y_val),
                      ("test", digits.y_test)):
    counts = np.bincount(labels, minlength=10)
    ax.bar(range(10), counts, bottom=bottom, label=split)
    bottom += counts
ax.set(xticks=range(10), xlabel="digit", ylabel="images",
       title="A stratified split: every class divided 60 / 20 / 20")
ax.legend(fontsize=8)
fig.tight_layout()
shares = np.array([np.bincount(y, minlength=10) / len(y)
                   for y in (digits.y_train, digits.y_val, digits.y_test)])
assert np.abs(shares - shares.mean(axis=0)).max() < 0.01  # same class mix in every split

# %% [markdown]
# The two full data sets are checked by looking for their files, not by calling their loaders,
# because a missing file makes Keras try to download it. When one is missing,
# `data.load("fashion_mnist")` says which files to put where.
#
# ## More data or a cleverer model?
#
# Suppose your model is not good enough. You can make the model cleverer, or find more data.
# Below, the plainest model there is, a linear classifier (scikit-learn's logistic regression:
# the same function as one `Dense(10)` softmax layer on the 64 pixels), is trained on growing
# parts of the digits' training split, and a small CNN (two convolutions, a much better fit
# for images) on one of the small parts.

# %%
flat = digits.x_train.reshape(len(digits.x_train), -1)
flat_test = digits.x_test.reshape(len(digits.x_test), -1)
parts = [68, 135, 270, 540, len(flat)]
linear = [LogisticRegression(max_iter=1000).fit(flat[:n], digits.y_train[:n])
          .score(flat_test, digits.y_test) for n in parts]


def small_cnn_accuracy(n):
    runtime.seed_everything(0)
    cnn = keras.Sequential([keras.Input((8, 8, 1)),
                            layers.Conv2D(16, 3, padding="same", activation="relu"),
                            layers.MaxPooling2D(),
                            layers.Conv2D(32, 3, padding="same", activation="relu"),
                            layers.GlobalMaxPooling2D(), layers.Dense(10)])
    cnn.compile(optimizer=keras.optimizers.Adam(3e-3), metrics=["accuracy"],
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    training.fit(cnn, digits.x_train[:n], digits.y_train[:n], progress=False,
                 budget=training.Budget(epochs=15, batch_size=32))
    return training.accuracy(cnn, digits.x_test, digits.y_test)


CNN_PART = parts[1]  # train the CNN on this many images
cnn_accuracy = small_cnn_accuracy(CNN_PART)
for n, acc in zip(parts, linear):
    print(f"linear model, {n:4d} training images: test accuracy {acc:.3f}")
print(f"small CNN,    {CNN_PART:4d} training images: test accuracy {cnn_accuracy:.3f}")
assert linear[-1] > cnn_accuracy + 0.03  # 8x the data beats the better architecture

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.semilogx(parts, linear, "o-", base=2, label="linear model")
ax.semilogx([CNN_PART], [cnn_accuracy], "s", ms=9, base=2, label="small CNN")
ax.set(xlabel="training images", ylabel="test accuracy", title="More data vs a cleverer model")
ax.legend()
fig.tight_layout()

# %% [markdown]
# The linear model with eight times the data beats the CNN trained on the small part. (Which
# is better when both get all the data? Try it below.) A better architecture and more data both
# help, but the second is the one people underrate. Banko and Brill (2001) showed it for
# language: simple learners given a thousand times more text overtook every clever learner
# trained on the original amount, and the large models of the last decade owe as much to data
# as to architecture. Before designing a cleverer
# model, ask whether more (or cleaner) data is within reach, and plot a curve like this one: if
# it is still rising at the right, data will help.
#
# ## Tables: where trees still win
#
# Deep learning won on images, sound and text because their structure (neighbouring pixels,
# moments in time, words in a sentence) can be built into the architecture: shared filters,
# recurrence, attention (Lecture 3 showed a dense network and a tree ensemble failing where a CNN
# did not). A *table* has no such structure: each column is its own measurement, in its own
# units, and column 5 is not a "neighbour" of column 6. There, gradient-boosted tree ensembles
# (XGBoost, LightGBM, scikit-learn's `HistGradientBoostingClassifier`) remain the first thing
# to try, and large benchmarks (for example Grinsztajn, Oyallon and Varoquaux, 2022) find them
# ahead of neural networks on typical tabular data of up to tens of thousands of rows. Two of
# the reasons they give: trees ignore columns that do not help, and they split on thresholds of
# one column at a time, which suits targets that change abruptly.
#
# A side-by-side on scikit-learn's *wine* table (178 wines, 13 chemical measurements, 3
# cultivars): a tree ensemble on the raw numbers, and a small MLP (two hidden layers of 32) on
# standardised numbers, as it needs. Real tables often carry columns that say nothing about the
# label (identifiers, irrelevant measurements), so we also append 100 columns of noise.

# %%
X_wine, y_wine = load_wine(return_X_y=True)
noise = np.random.default_rng(0).normal(size=(len(X_wine), 100)) * X_wine.std()
tables = {"13 real columns": X_wine, "+ 100 noise columns": np.hstack([X_wine, noise])}


def mlp_accuracy(x_tr, y_tr, x_te, y_te):
    scaler = StandardScaler().fit(x_tr)  # an MLP needs inputs on similar scales; trees do not
    runtime.seed_everything(0)
    mlp = keras.Sequential([keras.Input((x_tr.shape[1],)), layers.Dense(32, activation="relu"),
                            layers.Dense(32, activation="relu"), layers.Dense(3)])
    mlp.compile(optimizer=keras.optimizers.Adam(2e-3), metrics=["accuracy"],
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    training.fit(mlp, scaler.transform(x_tr).astype("float32"), y_tr, progress=False,
                 budget=training.Budget(epochs=20, batch_size=16))
    return training.accuracy(mlp, scaler.transform(x_te).astype("float32"), y_te)


table_scores = {}
for name, X in tables.items():
    x_tr, x_te, y_tr, y_te = train_test_split(X, y_wine, test_size=0.3, stratify=y_wine,
                                              random_state=0)
    start = time.perf_counter()
    trees = HistGradientBoostingClassifier(random_state=0).fit(x_tr, y_tr)
    tree_seconds = time.perf_counter() - start
    start = time.perf_counter()
    mlp_acc = mlp_accuracy(x_tr, y_tr, x_te, y_te)
    mlp_seconds = time.perf_counter() - start
    table_scores[name] = (trees.score(x_te, y_te), mlp_acc)
    print(f"{name:18s} trees {table_scores[name][0]:.3f} ({tree_seconds:.1f} s)   "
          f"MLP {mlp_acc:.3f} ({mlp_seconds:.1f} s)")
clean, noisy = table_scores["13 real columns"], table_scores["+ 100 noise columns"]
assert clean[0] >= clean[1] - 0.02 and noisy[0] >= noisy[1] + 0.05 and noisy[0] >= 0.95

fig, ax = plt.subplots(figsize=(6, 3))
positions = np.arange(len(table_scores))
ax.bar(positions - 0.2, [s[0] for s in table_scores.values()], 0.4, label="gradient-boosted trees")
ax.bar(positions + 0.2, [s[1] for s in table_scores.values()], 0.4, label="MLP")
ax.set(xticks=positions, xticklabels=list(table_scores), ylabel="test accuracy",
       ylim=(0.5, 1.02), title="The wine table (54 test wines)")
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()

# %% [markdown]
# On the clean table the two are close (each test wine is about 2% of the score), but the trees
# needed no scaling, no architecture and no learning rate, and trained in a fraction of the
# time. With the noise columns the trees hardly notice, while the MLP, which mixes every input
# into every hidden unit, loses several wines. On a table, start with a tree ensemble; reach for
# a network when the data have structure it can exploit, or are large enough to pay for it.

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
# Keep the model in an ordinary builder with keyword arguments, and write the search space as a
# few lines that map `hp` to those arguments: the builder stays the one source of truth, and
# `course.tuning.hypermodel(build, space, *args)` glues the two together for keras-tuner. This
# is exactly how `course tune` searches around an assignment's reference builder.
#
# A deliberately tiny search: 3 trials of 3 epochs, a one-hidden-layer network on the 8x8
# digits, choosing the layer's width and the learning rate.

# %%
from course import tuning


def digit_mlp(*, units=32, learning_rate=1e-3):
    model = keras.Sequential([
        keras.Input(digits.input_shape),
        layers.Flatten(),
        layers.Dense(units, activation="relu"),
        layers.Dense(digits.num_classes),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def space(hp):
    return {"units": hp.Int("units", 4, 64, step=4),
            "learning_rate": hp.Float("learning_rate", 1e-3, 3e-2, sampling="log")}


search_dir = tempfile.mkdtemp(prefix="lecture-tuning-")
tuner = tuning.make_tuner("random", tuning.hypermodel(digit_mlp, space),
                          directory=search_dir, project_name="digits", max_trials=3,
                          progress=False)
start = time.perf_counter()
tuning.search(tuner, digits, epochs=3, batch_size=32)
print(f"search took {time.perf_counter() - start:.1f} s")
print(tuning.trials_table(tuner))

trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
best = tuner.get_best_hyperparameters(1)[0]
print("best:", best.values)
assert len(trials) == 3 and max(t.score for t in trials) > 0.6
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
# ## Change one line
#
# 1. Set `COMPARE_BACKENDS = True`. Which backend imports fastest, which trains fastest, and do
#    the accuracies match?
# 2. In the matrix-product cell, replace `float(ops.sum(ops.matmul(a, a)))` in the timed loop by
#    `ops.convert_to_numpy(ops.matmul(a, a))`. On a CPU the rates barely change; why would they
#    drop on a GPU?
# 3. In the wine cell, append 10 noise columns instead of 100. Is the MLP still behind?
# 4. Set `CNN_PART = parts[-1]` to train the CNN on all 1,077 images. Does it now beat the
#    linear model?
# 5. In the tuner, change `max_trials=3` to `max_trials=8`. Is the best score much better?

# %% [markdown]
# ## Self-check questions
#
# 1. Why must `KERAS_BACKEND` be set before the first `import keras`, and why does comparing
#    backends take a separate process per backend?
#
#    <details><summary>Answer</summary>
#
#    Keras reads it once, when it is first imported, and loads that backend's modules; after
#    that the backend is fixed for the life of the process. A new process is the only clean way
#    to get a different one.
#    </details>
#
# 2. A model trains in 2 s on a CPU and 1.8 s on a GPU. Give two reasons why the GPU might barely
#    help, and one change that would let it help more.
#
#    <details><summary>Answer</summary>
#
#    The matrix products are too small to fill the GPU (fixed cost per call dominates), and time
#    goes to things the GPU does not speed up (Python overhead, copying batches from the host,
#    compiling). Larger batches (or a larger model) give each call more work.
#    </details>
#
# 3. What goes wrong if you choose the number of epochs by looking at test accuracy?
#
#    <details><summary>Answer</summary>
#
#    The test set has then been used to make a choice, so its score is optimistic: it no longer
#    measures performance on new data. Choose with the validation split.
#    </details>
#
# 4. The linear model with 1,077 images beat the CNN with 135. Does that mean the CNN is a worse
#    model for digits? What would you need to know?
#
#    <details><summary>Answer</summary>
#
#    No: it was trained on an eighth of the data. The comparison says that, here, more data
#    helped more than a better architecture did. To compare the models, train both on the same
#    data (and over several seeds).
#    </details>
#
# 5. Why does appending noise columns hurt the MLP more than the tree ensemble?
#
#    <details><summary>Answer</summary>
#
#    Every hidden unit of the MLP starts out mixing all columns, and with 124 training wines it
#    cannot learn to ignore 100 of them; random weights on noise add noise to every unit. A tree
#    chooses one column per split, the one that separates the classes best, so useless columns
#    are simply never chosen.
#    </details>
