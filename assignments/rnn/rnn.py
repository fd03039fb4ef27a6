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
#
# In this assignment you will:
# 1. measure how long a simple recurrent layer and the gated ones remember (not graded);
# 2. write an LSTM's forward pass in NumPy (`lstm_forward`) and check it against `layers.LSTM`;
# 3. build a recurrent classifier in Keras (`build_rnn`) for a task that needs a gate.

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
# Before the graded parts, a measurement of memory (not graded, no training). We feed 256 random
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

# %% [markdown]
# ## Part 1: an LSTM by hand
#
# What does `layers.LSTM` compute? Write its forward pass in **NumPy**, and check it against
# Keras with the same weights.
#
# An LSTM layer with `units` hidden units carries two vectors per sequence from step to step:
# the **hidden state** $h$ (what the layer outputs) and the **cell state** $c$ (its memory).
# At step $t$ it reads the input $x_t$ and the previous hidden state, and computes the
# pre-activations of four gates in one go,
#
# $$z_t = x_t K + h_{t-1} R + b \qquad \text{shape (batch, 4 units)},$$
#
# where $K$ is `kernel`, $R$ is `recurrent_kernel` and $b$ is `bias`. Cut $z_t$ into four
# blocks of `units` columns; in **Keras' order** they are the input gate, the forget gate, the
# candidate and the output gate:
#
# $$i_t = \sigma(z_t^{(1)}), \quad f_t = \sigma(z_t^{(2)}), \quad
#   g_t = \tanh(z_t^{(3)}), \quad o_t = \sigma(z_t^{(4)}),$$
#
# $$c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t),$$
#
# with $\sigma(z) = 1 / (1 + e^{-z})$, $\odot$ the element-wise product, and
# $h_0 = c_0 = 0$. The forget gate decides how much of the old memory stays, the input gate
# how much of the candidate gets in: the keep-or-replace of the experiment above. (Other texts,
# CS231n's notes for one, order the blocks input, forget, output, candidate: with Keras'
# weights that order gives wrong numbers.)
#
# ### Your task: `lstm_forward(x, kernel, recurrent_kernel, bias)`
# - `x`: (batch, T, D), a batch of sequences of T steps with D features each;
# - `kernel`: (D, 4 units); `recurrent_kernel`: (units, 4 units); `bias`: (4 units,): the
#   arrays `layers.LSTM(units).get_weights()` returns, in that order; `units` is
#   `recurrent_kernel.shape[0]`;
# - start from zero states and loop over the T steps (the loop over time is the recurrence;
#   everything inside one step works on the whole batch at once);
# - return **every** hidden state, $h_1, \dots, h_T$, stacked as (batch, T, units): what
#   `layers.LSTM(units, return_sequences=True)` returns.
#
# With large inputs `np.exp(-z)` may warn about an overflow for very negative `z`: the
# sigmoid is then 0, which is right, so the warning is harmless.
#
# **How it is graded** ({{test_lstm_forward.points}} points). The grader calls your function
# on weights and sequences it draws itself: a single step, 20 steps, more units than features,
# Keras' initial bias (forget gate 1, the others 0) and large inputs that saturate the gates.
# Each case is compared with what Keras computes to within 0.00001 and earns an equal share of
# the points; a failing case's feedback says which common mistake it looks like.

# %% [solution] id=lstm_forward from=solutions.rnn:lstm_forward
def lstm_forward(x, kernel, recurrent_kernel, bias):
    """An LSTM layer's forward pass in NumPy, zero initial h and c.

    x: (batch, T, D). kernel: (D, 4 * units). recurrent_kernel: (units, 4 * units). bias:
    (4 * units,). Gate blocks in Keras' order: input, forget, candidate (cell), output.
    Returns an array (batch, T, units): h_1 ... h_T, as keras.layers.LSTM(units,
    return_sequences=True) gives. Graded against the grader's own on inputs it draws
    (within 1e-5).
    """

# %% [markdown]
# ### Visible check
# First a case you can work out by hand, then Keras' LSTM with random weights. When graded, the
# grader runs its own cases (see above).

# %% [test] id=test_lstm_forward
# One feature, one unit, two steps. Only the candidate block reads x; with every other weight
# and bias 0, each gate is sigmoid(0) = 0.5:
#   step 1 (x = 1): c1 = 0.5 * 0 + 0.5 * tanh(1), h1 = 0.5 * tanh(c1)
#   step 2 (x = 0): c2 = 0.5 * c1 + 0.5 * tanh(0) = c1 / 2, h2 = 0.5 * tanh(c2)
x = np.array([[[1.0], [0.0]]])
kernel = np.array([[0.0, 0.0, 1.0, 0.0]])  # blocks: input, forget, candidate, output
h = np.asarray(lstm_forward(x, kernel, np.zeros((1, 4)), np.zeros(4)))
assert h.shape == (1, 2, 1), f"expected shape (1, 2, 1) (batch, T, units), got {h.shape}"
c1 = 0.5 * np.tanh(1.0)
expected = [0.5 * np.tanh(c1), 0.5 * np.tanh(c1 / 2)]
assert not np.allclose(h[0, 0, 0], 0.0), (
    "h1 is 0: the candidate is the third block of Keras' gates (input, forget, candidate, "
    "output)")
assert np.allclose(h[0, :, 0], expected, atol=1e-6), (
    f"expected h1, h2 = {np.round(expected, 5)}, got {np.round(h[0, :, 0], 5)}")
rng = np.random.default_rng(0)
x = rng.normal(size=(3, 6, 4)).astype("float32")
layer = keras.layers.LSTM(5, return_sequences=True)
layer.build(x.shape)
weights = [rng.normal(0, 0.5, size=w.shape).astype("float32") for w in layer.get_weights()]
layer.set_weights(weights)  # [kernel (4, 20), recurrent_kernel (5, 20), bias (20,)]
expected = keras.ops.convert_to_numpy(layer(x))
h = np.asarray(lstm_forward(x, *weights))
assert h.shape == expected.shape, f"expected shape {expected.shape}, got {h.shape}"
assert np.allclose(h, expected, atol=1e-5), (
    f"differs from keras.layers.LSTM by up to {np.abs(h - expected).max():.3g}; the first "
    f"step differs by {np.abs(h - expected)[:, 0].max():.3g}")
print("lstm_forward matches keras.layers.LSTM")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("rnn", "test_lstm_forward", globals())
### END HIDDEN TESTS

# %% [markdown]
# ### Try it: the forget gate at work
# One unit, one feature, a single pulse at step 0 and zeros after it. The candidate block
# stores the pulse; then the forget gate's bias decides how long the cell keeps it: at bias 0
# the gate is 0.5 and the memory halves every step, at bias 4 it is about 0.98. (This is the
# "keep gate held open" of the experiment above, in your own code.)

# %% [code] tags=skip-grading
import matplotlib.pyplot as plt

pulse = np.zeros((1, 40, 1))
pulse[0, 0, 0] = 3.0
kernel = np.array([[3.0, 0.0, 1.0, 0.0]])  # the pulse opens the input gate, and is the candidate
fig, ax = plt.subplots(figsize=(7, 3.2))
for forget_bias in [0.0, 2.0, 4.0]:
    bias = np.array([-3.0, forget_bias, 0.0, 3.0])  # input gate shut unless x opens it
    h = np.asarray(lstm_forward(pulse, kernel, np.zeros((1, 4)), bias))
    ax.semilogy(np.abs(h[0, :, 0]), label=f"forget bias {forget_bias:g}")
ax.set(xlabel="step t", ylabel="|h_t| (log)", title="How long one LSTM unit remembers a pulse")
ax.legend(fontsize=8)
fig.tight_layout();

# %% [markdown]
# ## Part 2: a machine with a switch
#
# ### The task
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
# ### Your task: `build_rnn(input_shape, num_classes)`
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
# ### Visible checks for Part 2
# These run when you execute them, and again when your notebook is graded
# ({{test_rnn_builds.points}} points each).

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
# ### Try it
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
# still learning there may well pass with the grader's budget.) Accuracy of
# {{test_rnn_accuracy.threshold}} or more earns all {{test_rnn_accuracy.points}} points,
# {{test_rnn_accuracy.floor}} or less earns none, and points grow linearly in between.

# %% [test] id=test_rnn_accuracy
print("This check trains your model when the notebook is graded.")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("rnn", "test_rnn_accuracy", globals())
### END HIDDEN TESTS
