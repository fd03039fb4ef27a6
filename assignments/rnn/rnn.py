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
# otherwise), says which device you are on, and draws the data: sequences of a tiny machine
# (described below), 4,000 for training, 1,000 for validation and 2,000 for testing.

# %% [setup] id=setup
import numpy as np
import keras
from keras import layers

from course import plots, runtime, sequences, training

print("Keras", keras.__version__, "on", runtime.detect_device())
machine = sequences.load_switch_memory(seq_len=64, values=8, seed=0)
print("examples:", machine.sizes(), "sequence shape (timesteps, features):", machine.input_shape)

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
# step 0 has all but vanished. Fresh gated cells forget fast too (Keras starts an LSTM's
# forget gate at bias 1, about 0.73 kept per step, and a GRU's update gate near one half), but
# with the keep gate open the LSTM's cell state carries step 0 to the end almost
# untouched, and the GRU's trace fades far more slowly: this is what a gate buys, and what
# training learns to use.
#
# ## The task: a machine with a switch
# A tiny machine reads 64 instructions, one per step, each a one-hot vector of 16 numbers:
# - **write v** (v = 0..7): store v, but *only if the switch is on*;
# - **switch on** and **switch off**;
# - six distractor symbols that change nothing.
#
# The machine starts by switching on and writing a value. The label is the value it holds at
# the end: the last value written *while the switch was on*. A write made while the switch was
# off is ignored, so the last write in the sequence is often not the answer.
#
# To answer, a model has to carry two memories through the sequence, in order: whether the
# switch is on, and the value kept under it. That is exactly what a gate does: keep the old
# state, or let a new value in. Measured on this task (`bench/results/sequence_tasks.md` and the
# calibration report): a small LSTM or GRU gets nearly all of it right; a `SimpleRNN` of the
# same size stays near 0.4, because the gradient from the end fades before it reaches a write
# 40 steps back (the experiment above); a dense network on the flattened sequence, 1-D
# convolution stacks (even dilated ones that see all 64 steps), the sequence fed as one step,
# and bags of steps all stay below 0.6.

# %% [code]
symbols = machine.x_train[:3].argmax(-1)
names = [f"w{v}" for v in range(8)] + ["ON", "OFF"] + ["."] * 6
for row, label in zip(symbols, machine.y_train[:3]):
    print(" ".join(names[s] for s in row), "->", label)

# %% [markdown]
# ## Your task: `build_rnn(input_shape, num_classes)`
# Write a function that returns a **compiled** `keras.Model`:
# - input: sequences of shape `input_shape` = `(timesteps, features)`, here `(64, 16)`;
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
def build_rnn(input_shape, num_classes):
    """Return a compiled recurrent keras.Model.

    Input: sequences of shape ``input_shape`` = (timesteps, features). Output: one score per
    class, shape (batch, num_classes), probabilities or logits. Graded by training (see
    "Graded by training").
    """

# %% [markdown]
# ## Visible checks
# These run when you execute them, and again when your notebook is graded (1 point each).

# %% [test] id=test_rnn_builds
model = build_rnn((64, 16), 8)
assert isinstance(model, keras.Model), f"expected a keras.Model, got {type(model).__name__}"
from autograder.visible import assert_rebuilds  # the grader's own rebuild test
assert_rebuilds(model, input_shape=(64, 16), max_params={{rnn.max_params}},
                max_activations={{rnn.max_activations}})
model.summary()

# %% [test] id=test_rnn_output_shape
model = build_rnn((64, 16), 8)
assert tuple(model.output_shape) == (None, 8), (
    f"expected output shape (None, 8), got {model.output_shape}"
    + (": the last recurrent layer still has return_sequences=True"
       if len(model.output_shape) == 3 else ""))

# %% [test] id=test_rnn_compiled
model = build_rnn((64, 16), 8)
assert model.optimizer is not None and model.loss is not None, (
    "the model is not compiled: call model.compile(optimizer=..., loss=..., metrics=[...])")

# %% [markdown]
# ## Try it
# Train your model for a few epochs and look at the learning curves. This cell carries the tag
# `skip-grading`: the grader does not run it, because it trains your model itself. Tag your own
# exploration cells the same way.

# %% [code] tags=skip-grading
model = build_rnn(machine.input_shape, machine.num_classes)
result = training.fit(model, machine.x_train, machine.y_train,
                      budget=training.Budget(epochs=5, batch_size=64),
                      validation_data=(machine.x_val, machine.y_val))
print("validation accuracy:", round(result.history["val_accuracy"][-1], 3))
plots.learning_curves(result.history, title="Your RNN, 5 epochs");

# %% [handin]

# %% [markdown]
# ## Graded by training ({{test_rnn_accuracy.points}} points)
# The grader rebuilds your model from its configuration in a separate, trusted process and
# trains it from scratch with a fixed seed (batch {{rnn.batch_size}}) on fresh sequences of the
# same machine, drawn with a seed only the grader knows, for up to **{{rnn.epochs}} epochs**,
# stopping once validation accuracy has not improved for {{rnn.patience}} epochs and keeping the
# best weights. It then measures accuracy on **held-out sequences you have not seen**, drawn
# the same way. (The five epochs of "Try it" above are a quick look, not the grade: a model
# still learning there may well pass with the grader's budget.) Accuracy of {{test_rnn_accuracy.threshold}} or more
# earns all
# {{test_rnn_accuracy.points}} points, {{test_rnn_accuracy.floor}} or less earns none, and
# points grow linearly in between.

# %% [test] id=test_rnn_accuracy
print("This check trains your model when the notebook is graded.")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("rnn", "test_rnn_accuracy", globals())
### END HIDDEN TESTS
