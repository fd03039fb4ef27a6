# %% [markdown]
# # Assignment: recurrent networks
#
# In 1990 Jeffrey Elman described a **simple recurrent network**: a layer that reads a sequence
# one step at a time and feeds its own output from the previous step back in as extra input.
# That fed-back vector, the **hidden state**, is the network's memory: a fixed-size summary of
# everything read so far,
#
# $$h_t = \tanh(x_t W + h_{t-1} U + b).$$
#
# The same weights $W, U, b$ serve every step, so one small layer handles sequences of any
# length, and it sees the steps *in order*: "dog bites man" and "man bites dog" give different
# final states. (Lecture 4, `course/lectures/04_rnn.py`, prepares this assignment.)
#
# **Where it fails.** Training runs backpropagation through the unrolled loop, and the gradient
# that reaches an early step is a product of one factor per later step. Such a product shrinks
# (or grows) geometrically: the gradient *vanishes*, and the network cannot learn that something
# early in the sequence matters. Sepp Hochreiter analysed this in his 1991 thesis; Yoshua
# Bengio and colleagues showed in 1994 how hard long-range learning is for such networks.
#
# **The fix: gates.** The **LSTM** (Hochreiter and Schmidhuber, 1997) keeps a separate *cell
# state* that is changed only by adding and by multiplying with a learned *forget gate* between
# 0 and 1: when the gate stays near 1, information (and gradient) passes through many steps
# almost untouched. The **GRU** (Cho and colleagues, 2014) does the same with fewer parts: one
# *update gate* blends the old state with a new candidate. In Keras they are `layers.LSTM` and
# `layers.GRU`, drop-in replacements for `layers.SimpleRNN`.

# %% [markdown]
# ## Setup
# Run this cell first. It picks the Keras backend (TensorFlow unless `KERAS_BACKEND` says
# otherwise), says which device you are on, and loads the data: the public pool, 1,437 of
# scikit-learn's 1,797 digits (the other 360 are kept aside for grading).

# %% [setup] id=setup
import numpy as np
import keras
from keras import layers

from course import plots, runtime, sequences, training

print("Keras", keras.__version__, "on", runtime.detect_device())
digits = sequences.load_sequential_digits(step_pixels=4, read="patches", binarize=0.5, seed=0)
print("examples:", digits.sizes(), "sequence shape (timesteps, features):", digits.input_shape)

# %% [markdown]
# ## Forgetting, seen in a small experiment
# Before the graded task, a measurement of memory (not graded, no training). We feed 256 random
# sequences of 60 numbers through a recurrent layer (32 units, fresh random weights), then feed
# them again with only the **first** number nudged by +1, and measure how much the hidden state
# at each later step changes. That change is the trace step 0 leaves in the memory, and it is
# also the path along which the gradient for step 0 has to flow back in training.
#
# We compare `SimpleRNN`, `LSTM` and `GRU` as Keras creates them, and the two gated cells with
# their "keep" gate held open (LSTM forget gate, GRU update gate: bias 3, so about 95 % of the
# old state is kept per step). Training can learn to open a gate like this; a `SimpleRNN` has
# no gate to open.

# %% [code] tags=skip-grading
import matplotlib.pyplot as plt

rng = np.random.default_rng(0)
steps, units = 60, 32
x = rng.normal(0, 1, (256, steps, 1)).astype("float32")
nudged = x.copy()
nudged[:, 0, 0] += 1.0


def keep_gate_open(cell, bias=3.0):
    kernel, recurrent, gate_bias = cell.get_weights()
    if isinstance(cell, layers.LSTM):  # bias layout: input, forget, candidate, output
        gate_bias[units:2 * units] = bias
    else:  # GRU: rows (input, recurrent), each laid out update, reset, candidate
        gate_bias[0, :units] = bias
    cell.set_weights([kernel, recurrent, gate_bias])


runtime.seed_everything(0)
fig, ax = plt.subplots(figsize=(7, 3.6))
for name, cell_class, open_gate in [("SimpleRNN", layers.SimpleRNN, False),
                                    ("LSTM", layers.LSTM, False), ("GRU", layers.GRU, False),
                                    ("LSTM, forget gate open", layers.LSTM, True),
                                    ("GRU, update gate open", layers.GRU, True)]:
    cell = cell_class(units, return_sequences=True)
    cell.build((None, steps, 1))
    if open_gate:
        keep_gate_open(cell)
    change = np.abs(keras.ops.convert_to_numpy(cell(nudged))
                    - keras.ops.convert_to_numpy(cell(x))).mean(axis=(0, 2))
    ax.semilogy(range(steps), change, "--" if open_gate else "-", label=name)
    print(f"{name:23s} trace of step 0 after 10 steps {change[10]:.1e}, after 59 {change[59]:.1e}")
ax.set(xlabel="step t", ylabel="change of h_t (log)", title="How long does step 0 stay in memory?")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# The `SimpleRNN`'s trace of step 0 shrinks geometrically: after 60 steps it is thousands of
# times smaller than after one, so the gradient that should teach the network to use
# step 0 has all but vanished. Fresh gated cells forget just as fast (their gates start half
# open), but with the keep gate open the LSTM's cell state carries step 0 to the end almost
# untouched, and the GRU's trace fades far more slowly: this is what a gate buys, and what
# training learns to use.
#
# ## The task: digits read a piece at a time
# Each 8x8 scikit-learn digit is made black and white (pixels above half intensity become 1,
# the rest 0) and cut into sixteen 2x2 patches, read left to right and top to bottom: a
# sequence of 16 steps with 4 numbers each. The label is the digit 0-9. A black-and-white 2x2
# patch is one of only 16 patterns, so *which* patches occur says little about the digit: a
# "6" and a "9" are made of the same pieces. *Where* each piece comes in the sequence says a
# lot, so a model has to remember what it read earlier. Order-blind models (a Dense layer on
# each step, then the average or maximum over the steps) stay below 0.5; a small LSTM gets
# 0.8 to 0.9.

# %% [code]
plots.image_grid(digits.x_train[:10].reshape(10, 4, 4, 2, 2).transpose(0, 1, 3, 2, 4)
                 .reshape(10, 8, 8, 1), ncols=10, labels=digits.y_train[:10],
                 title="The first training sequences, put back together as images");

# %% [markdown]
# ## Your task: `build_rnn(input_shape, num_classes)`
# Write a function that returns a **compiled** `keras.Model`:
# - input: sequences of shape `input_shape` = `(timesteps, features)`, here `(16, 4)`;
# - a recurrent layer (`layers.LSTM` or `layers.GRU`; a few dozen units are plenty) that reads
#   the sequence and returns only its **last** hidden state (`return_sequences=False`, the
#   default; if you stack recurrent layers, every one but the last needs
#   `return_sequences=True`);
# - output: one score per class, shape `(batch, num_classes)`: probabilities (softmax) or logits
#   (then use a loss with `from_logits=True`); the grader takes the `argmax`;
# - compile it: labels are integer ids, so a *sparse* categorical cross-entropy, and
#   `metrics=["accuracy"]`;
# - keep to the rules below, at most {{rnn.max_params}} parameters. Slicing is fine: the last
#   step of `states = layers.LSTM(64, return_sequences=True)(x)` is `states[:, -1, :]`.

# %% [rules]

# %% [solution] id=build_rnn from=solutions.rnn:build_rnn

# %% [markdown]
# ## Visible checks
# These run when you execute them, and again when your notebook is graded (1 point each).

# %% [test] id=test_rnn_builds
model = build_rnn((16, 4), 10)
assert isinstance(model, keras.Model), f"expected a keras.Model, got {type(model).__name__}"
from autograder.visible import assert_rebuilds  # the grader's own rebuild test
assert_rebuilds(model, input_shape=(16, 4), max_params={{rnn.max_params}},
                max_activations={{rnn.max_activations}})
model.summary()

# %% [test] id=test_rnn_output_shape
model = build_rnn((16, 4), 10)
assert tuple(model.output_shape) == (None, 10), (
    f"expected output shape (None, 10), got {model.output_shape}"
    + (": the last recurrent layer still has return_sequences=True"
       if len(model.output_shape) == 3 else ""))

# %% [test] id=test_rnn_compiled
model = build_rnn((16, 4), 10)
assert model.optimizer is not None and model.loss is not None, (
    "the model is not compiled: call model.compile(optimizer=..., loss=..., metrics=[...])")

# %% [markdown]
# ## Try it
# Train your model for a few epochs and look at the learning curves. This cell carries the tag
# `skip-grading`: the grader does not run it, because it trains your model itself. Tag your own
# exploration cells the same way.

# %% [code] tags=skip-grading
model = build_rnn(digits.input_shape, digits.num_classes)
result = training.fit(model, digits.x_train, digits.y_train,
                      budget=training.Budget(epochs=5, batch_size=32),
                      validation_data=(digits.x_val, digits.y_val))
print("validation accuracy:", round(result.history["val_accuracy"][-1], 3))
plots.learning_curves(result.history, title="Your RNN, 5 epochs");

# %% [markdown]
# ## Graded by training ({{test_rnn_accuracy.points}} points)
# The grader rebuilds your model from its configuration in a separate, trusted process and
# trains it from scratch with a fixed seed (batch {{rnn.batch_size}}) on a training split of the
# public digits drawn with a seed only the grader knows, for up to **{{rnn.epochs}} epochs**,
# stopping once validation accuracy has not improved for {{rnn.patience}} epochs and keeping the
# best weights. It then measures accuracy on **held-out images you have not seen**: the course
# keeps 360 of scikit-learn's 1,797 digits in a private pool that no notebook loads (your
# `digits` come from the other 1,437). Accuracy of {{test_rnn_accuracy.threshold}} or more
# earns all
# {{test_rnn_accuracy.points}} points, {{test_rnn_accuracy.floor}} or less earns none, and
# points grow linearly in between.

# %% [test] id=test_rnn_accuracy
print("This check trains your model when the notebook is graded.")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("rnn", "test_rnn_accuracy", globals())
### END HIDDEN TESTS
