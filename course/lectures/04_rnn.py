# %% [markdown]
# # Lecture 4: Recurrent networks
#
# Text, speech, sensor readings and prices arrive as *sequences*, often of varying length, and
# what an element means depends on what came before it. A recurrent network reads a sequence
# one step at a time and carries a **hidden state** from step to step: a fixed-size summary of
# everything it has read so far.
#
# $$h_t = \tanh(x_t W + h_{t-1} U + b)$$
#
# The same weights $W, U, b$ are used at every step, just as a convolution uses the same filter
# at every position: a recurrent network shares weights across *time*. Networks of this shape
# were studied from the 1980s on (Jordan, 1986; Elman's "simple recurrent network", 1990).
# This lecture runs one by hand, measures why such networks forget, and shows the gated cells
# (LSTM, 1997; GRU, 2014) that were invented to remember for longer.

# %% [markdown]
# ## Setup

# %%
from course import runtime

runtime.configure()

import logging

import matplotlib.pyplot as plt
import numpy as np
import keras
from keras import layers

from course import training

logging.getLogger("tensorflow").setLevel(logging.ERROR)  # TF's notes when models are rebuilt
runtime.seed_everything(0)
rng = np.random.default_rng(0)
print("Keras", keras.__version__, "on", runtime.detect_device())

# %% [markdown]
# ## The hidden state, step by step
#
# A recurrent layer with 6 units reads a sequence of 12 numbers, 1 feature per step. We write
# the loop in NumPy and check that Keras' `SimpleRNN`, given the same weights, produces the
# same states.

# %%
units, steps = 6, 12
W = rng.normal(0, 0.8, (1, units))
U = np.linalg.qr(rng.normal(size=(units, units)))[0] * 0.9  # a rotation, slightly shrunk
b = np.zeros(units)
sequence = np.sin(np.linspace(0, 3 * np.pi, steps))[:, None]  # (steps, 1)

h = np.zeros(units)
states = []
for x_t in sequence:
    h = np.tanh(x_t @ W + h @ U + b)
    states.append(h)
states = np.array(states)

rnn = layers.SimpleRNN(units, return_sequences=True)
rnn.build((None, steps, 1))
rnn.set_weights([W, U, b])
keras_states = keras.ops.convert_to_numpy(rnn(sequence[None].astype("float32")))[0]
print("largest difference from Keras' SimpleRNN:", float(np.abs(keras_states - states).max()))

fig, (ax_in, ax_h) = plt.subplots(2, 1, figsize=(7, 3.8), sharex=True,
                                  gridspec_kw={"height_ratios": [1, 2]})
ax_in.plot(sequence[:, 0], "o-")
ax_in.set(ylabel="input x_t")
ax_h.imshow(states.T, aspect="auto", cmap="bwr", vmin=-1, vmax=1)
ax_h.set(xlabel="step t", ylabel="hidden unit", title="Hidden state h_t (red +, blue -)")
fig.tight_layout()

# %% [markdown]
# ## Training through time, and why gradients vanish or explode
#
# To train, backpropagation runs through the unrolled loop ("backpropagation through time").
# The gradient that reaches step 0 from step $t$ is a product of $t$ step-to-step Jacobians,
#
# $$\frac{\partial h_t}{\partial h_0} = \prod_{k=1}^{t} \frac{\partial h_k}{\partial h_{k-1}},
# \qquad \frac{\partial h_k}{\partial h_{k-1}} = U\,\mathrm{diag}(1 - h_k^2),$$
#
# and a product of many matrices behaves like a power: it shrinks geometrically if their typical
# gain is below 1 and grows geometrically if it is above 1. Below we **measure** the size
# (largest singular value) of that product along a real forward pass, for recurrent matrices
# with gains 0.8, 1.0 and 1.2, with and without the tanh.

# %%
def gradient_sizes(gain, activation, n=32, steps=60, seed=0):
    r = np.random.default_rng(seed)
    U = np.linalg.qr(r.normal(size=(n, n)))[0] * gain  # every singular value equals `gain`
    W = r.normal(0, 0.5, (1, n))
    h, jacobian, sizes = np.zeros(n), np.eye(n), []
    for x_t in r.normal(0, 1, (steps, 1)):
        pre = x_t @ W + h @ U
        h = np.tanh(pre) if activation == "tanh" else pre
        slope = 1 - h**2 if activation == "tanh" else np.ones(n)
        jacobian = jacobian @ (U * slope)  # d h_t / d h_0
        sizes.append(np.linalg.norm(jacobian, 2))
    return np.array(sizes)


fig, ax = plt.subplots(figsize=(7, 3.6))
for gain, color in ((0.8, "tab:blue"), (1.0, "tab:green"), (1.2, "tab:red")):
    for activation, style in (("linear", "-"), ("tanh", "--")):
        sizes = gradient_sizes(gain, activation)
        ax.semilogy(range(1, 61), sizes, style, color=color, label=f"gain {gain}, {activation}")
        if activation == "linear" or gain == 1.0:
            print(f"gain {gain}, {activation:6s}: size after 10 steps {sizes[9]:.1e}, "
                  f"after 60 steps {sizes[-1]:.1e}")
ax.set(xlabel="steps back in time", ylabel="size of d h_t / d h_0 (log)",
       title="Gradients through time: vanishing and exploding")
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()

# %% [markdown]
# - Without the tanh (solid lines) the size is exactly $\text{gain}^t$: after 60 steps a gain
#   of 0.8 leaves about $10^{-6}$ of the gradient (**vanishing**), a gain of 1.2 multiplies it
#   by about $5 \times 10^{4}$ (**exploding**: one bad batch throws the weights far away).
# - The tanh's slope is at most 1 and smaller wherever a unit saturates, so with it (dashed)
#   even a gain of 1.2 ends up vanishing.
#
# Exploding gradients have a blunt but effective fix: cap the gradient's size before each step
# (`keras.optimizers.Adam(clipnorm=1.0)`). Vanishing gradients are worse, because nothing
# looks wrong: the network simply cannot learn that something 60 steps ago matters.

# %% [markdown]
# ## Amnesia on long sequences
#
# A task that needs memory and nothing else: each sequence starts with $+2$ or $-2$, followed
# by random noise; the label says which it was. The answer is in the very first step, so the
# network must carry it through every later step while ignoring the noise.

# %%
def first_sign_task(n, steps):
    x = rng.normal(0, 1, (n, steps, 1)).astype("float32")
    y = rng.integers(0, 2, n).astype("int32")
    x[:, 0, 0] = np.where(y == 1, 2.0, -2.0)
    return x, y


x_demo, y_demo = first_sign_task(4, 30)
fig, ax = plt.subplots(figsize=(7, 2.4))
for seq, label in zip(x_demo, y_demo):
    ax.plot(seq[:, 0], ".-", lw=0.8, label=f"label {label}")
ax.set(xlabel="step", title="The answer is in step 0; everything after is noise")
ax.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# ## Gates: LSTM and GRU
#
# Gated cells keep a memory that is *not* squashed through a tanh and multiplied by $U$ at
# every step. Small sigmoid "gates" (numbers between 0 and 1, computed from the input and the
# state) decide how much to keep and how much to write:
#
# - **LSTM** (Hochreiter and Schmidhuber, 1997): a cell state
#   $c_t = f_t \odot c_{t-1} + i_t \odot \tilde c_t$ with a *forget* gate $f_t$ and an
#   *input* gate $i_t$; the state read out is $h_t = o_t \odot \tanh(c_t)$. The gradient along
#   the cell state is multiplied only by $f_t$: close to 1 means close to no vanishing.
# - **GRU** (Cho and colleagues, 2014): one *update* gate $z_t$ blends old and new,
#   $h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t$, so keeping the old state and
#   writing little new are the same decision.
#
# A gate is only useful if it starts out willing to remember: with a bias of 0 it is half
# open, and half the memory leaks away every step. Keras' LSTM starts its forget gate at a bias
# of 1 (`unit_forget_bias=True`); below we start both cells' "keep" gates at a bias of 3
# ($\sigma(3) \approx 0.95$ kept per step) and let training adjust them.
#
# Each cell (16 units) is trained on 1,024 sequences for 15 epochs at three lengths. An
# accuracy of 0.5 is guessing.

# %%
def start_remembering(cell, units, bias=3.0):
    """Set the bias of the gate that keeps the old state: LSTM forget gate, GRU update gate."""
    kernel, recurrent, gate_bias = cell.get_weights()
    if isinstance(cell, layers.LSTM):  # bias layout: input, forget, candidate, output
        gate_bias[units:2 * units] = bias
    else:  # GRU: rows (input, recurrent), each laid out update, reset, candidate
        gate_bias[0, :units] = bias
    cell.set_weights([kernel, recurrent, gate_bias])


def memory_model(kind, steps, units=16):
    runtime.seed_everything(0)
    cell = {"SimpleRNN": layers.SimpleRNN, "LSTM": layers.LSTM, "GRU": layers.GRU}[kind](units)
    model = keras.Sequential([keras.Input((steps, 1)), cell, layers.Dense(1, activation="sigmoid")])
    if kind != "SimpleRNN":
        start_remembering(cell, units)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


lengths = [20, 60, 120]
scores = {kind: [] for kind in ("SimpleRNN", "LSTM", "GRU")}
for steps in lengths:
    x_train, y_train = first_sign_task(1024, steps)
    x_test, y_test = first_sign_task(512, steps)
    for kind in scores:
        model = memory_model(kind, steps)
        training.fit(model, x_train, y_train, budget=training.Budget(epochs=15), progress=False)
        scores[kind].append(training.accuracy(model, x_test, y_test))
    print(f"length {steps:3d}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in scores.items()))

fig, ax = plt.subplots(figsize=(6, 3.4))
for kind, marker in zip(scores, "os^"):
    ax.plot(lengths, scores[kind], marker + "-", label=kind)
ax.axhline(0.5, color="gray", ls=":", label="guessing")
ax.set(xlabel="sequence length", ylabel="test accuracy", ylim=(0.4, 1.05), xticks=lengths,
       title="Remembering the first step")
ax.legend()
fig.tight_layout()

# %% [markdown]
# On short sequences every cell remembers. As the sequences grow, the simple RNN falls back to
# guessing: the answer is still in its input, but the gradient that would teach it to keep
# that answer has vanished before it reaches step 0. The gated cells hold on much longer. In
# this task the GRU usually does best: its update gate ties "keep the old state" to "write
# little new", so the noise cannot wash the memory out, whereas the LSTM's input gate must
# first learn to shut. Even gated cells have limits, which is part of why the transformer
# (next lecture) drops recurrence altogether and lets every step look at every other step
# directly.

# %% [markdown]
# ## Self-check questions
#
# 1. A `SimpleRNN(32)` reads sequences with 10 features per step. How many weights does it
#    have, and why does that number not depend on the sequence length?
# 2. If every step-to-step Jacobian has gain 0.9, roughly what fraction of the gradient
#    survives 50 steps? And with gain 1.1?
# 3. Why is gradient clipping a fix for exploding gradients but not for vanishing ones?
# 4. In an LSTM, what happens to the memory if the forget gate outputs 1 and the input gate
#    outputs 0 at every step? Why does that help gradients?
# 5. The simple RNN failed on long sequences even though the answer was in its input. Was it
#    unable to *represent* the solution, or unable to *learn* it? How could you tell?
