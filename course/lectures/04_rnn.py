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
# at every position: a recurrent network shares weights across *time*. This form, where the
# hidden state itself is fed back, is Jeffrey Elman's "simple recurrent network" (1990); Michael
# Jordan's earlier networks (1986) fed back the network's *output* instead. This lecture runs one
# by hand, measures why such networks forget, and shows the gated cells (LSTM, 1997; GRU, 2014)
# that were invented to remember for longer.

# %% [markdown]
# ## Setup

# %%
from course import runtime

runtime.configure()

import logging

import matplotlib.pyplot as plt
import numpy as np
import keras
from keras import layers, ops

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
keras_states = ops.convert_to_numpy(rnn(sequence[None].astype("float32")))[0]
print("largest difference from Keras' SimpleRNN:", float(np.abs(keras_states - states).max()))
assert np.allclose(keras_states, states, atol=1e-5)

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
# with gains 0.8, 1.0 and 2.0, without the tanh (solid) and with it (dashed).

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


sizes = {(gain, act): gradient_sizes(gain, act)
         for gain in (0.8, 1.0, 2.0) for act in ("linear", "tanh")}
fig, ax = plt.subplots(figsize=(7, 3.6))
for (gain, act), curve in sizes.items():
    color = {0.8: "tab:blue", 1.0: "tab:green", 2.0: "tab:red"}[gain]
    ax.semilogy(range(1, 61), curve, "-" if act == "linear" else "--", color=color,
                label=f"gain {gain}, {act}")
    print(f"gain {gain}, {act:6s}: size after 10 steps {curve[9]:.1e}, after 60 {curve[-1]:.1e}")
ax.axhline(1, color="gray", lw=0.5)
ax.set(xlabel="steps back in time", ylabel="size of d h_t / d h_0 (log)",
       title="Gradients through time: vanishing and exploding")
ax.legend(fontsize=7, ncol=3)
fig.tight_layout()
assert np.isclose(sizes[0.8, "linear"][-1], 0.8 ** 60)            # exactly gain^t
assert sizes[0.8, "tanh"][-1] < 1e-6 and sizes[1.0, "tanh"][-1] < 1e-3  # vanishing
assert sizes[2.0, "tanh"][-1] > 1e3                                   # exploding, even with tanh

# %% [markdown]
# - Without the tanh (solid lines) the size is exactly $\text{gain}^t$: after 60 steps a gain
#   of 0.8 leaves about $10^{-6}$ of the gradient (**vanishing**), and a gain of 2.0 multiplies
#   it by about $10^{18}$ (**exploding**).
# - The tanh's slope is at most 1 and smaller wherever a unit saturates, so with it (dashed)
#   everything shrinks faster: a gain of 1.0 now vanishes too. A gain of 2.0 still explodes,
#   more slowly: after 60 steps the gradient is thousands of times larger than at the start.
#   One such gradient step throws the weights far away, and the loss jumps or becomes `nan`.
#
# Exploding gradients have a blunt but effective fix: cap the gradient's size before each step
# (`keras.optimizers.Adam(clipnorm=1.0)`). Vanishing gradients are worse, because nothing
# looks wrong: the network simply cannot learn that something many steps ago matters.

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
# Can a simple RNN solve this at all? Yes, and with one unit. Give it a strong self-loop
# ($U = 3$) and a weak input weight ($W = 0.5$): the first step pushes the state to about
# $\pm 0.76$, and from then on $3h$ outweighs the noise, so the state stays on its side of zero,
# a *latch*. We set these weights by hand and run 80-step sequences through it:

# %%
SHORT, LONG = 8, 80
latch = keras.Sequential([keras.Input((LONG, 1)), layers.SimpleRNN(1),
                          layers.Dense(1, activation="sigmoid")])
latch.set_weights([np.array([[0.5]]), np.array([[3.0]]), np.zeros(1),  # the recurrent unit
                   np.array([[10.0]]), np.zeros(1)])                    # the read-out
x_long, y_long = first_sign_task(512, LONG)
latch_accuracy = training.accuracy(latch, x_long, y_long)
print(f"hand-set one-unit SimpleRNN on {LONG}-step sequences: accuracy {latch_accuracy:.3f}")
assert latch_accuracy > 0.95

# %% [markdown]
# So the architecture can *represent* the answer. Whether gradient descent can *find* it is
# another question, and the gradient curves above predict the answer.
#
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
# of 1 (`unit_forget_bias=True`, $\sigma(1) \approx 0.73$ kept per step). For 80 noisy steps we
# give it a bigger head start by overwriting the built weights: a forget-gate bias of 3
# ($\sigma(3) \approx 0.95$ kept per step) and an input-gate bias of $-1$ (about a quarter of
# each new input written), so that the noise does not pile up in the cell state before the
# gates have learned when to open. Training adjusts both from there.

# %%
def start_remembering(lstm, forget=3.0, write=-1.0):
    """Overwrite two gate biases of a built LSTM (bias layout: input, forget, cell, output)."""
    kernel, recurrent, gate_bias = lstm.get_weights()
    n = lstm.units
    gate_bias[:n], gate_bias[n:2 * n] = write, forget
    lstm.set_weights([kernel, recurrent, gate_bias])


def memory_probe(cell, steps):
    """A recurrent layer of 16 units reading ``steps`` numbers, then P(first step was +2)."""
    runtime.seed_everything(0)
    model = keras.Sequential([keras.Input((steps, 1)), cell,
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(5e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


lstm_probe = memory_probe(layers.LSTM(16), LONG)
start_remembering(lstm_probe.layers[0])
rebuilt = keras.Sequential.from_config(lstm_probe.get_config())
ours, theirs = lstm_probe.layers[0].get_weights()[2], rebuilt.layers[0].get_weights()[2]
print("input and forget gate biases in our model:   ", ours[0], ours[16])
print("input and forget gate biases after a rebuild:", theirs[0], theirs[16])
assert np.allclose(theirs[:16], 0.0) and np.allclose(theirs[16:32], 1.0)  # not -1 and 3

# %% [markdown]
# Note what the rebuild shows. `set_weights` changes this one model object only. A model's
# *configuration* (what `get_config()` returns, what `model.to_json()` saves, and what the
# course's autograder rebuilds your model from before training it) records layers and their
# initializers, not numbers you wrote in afterwards. Rebuilt, the LSTM starts from its
# configured biases again (forget 1, input 0). A head start that must survive a rebuild has to
# be part of the configuration: an option such as `unit_forget_bias`, or an initializer.
#
# ## How much does the end depend on the start?
#
# Training can only teach a network to keep step 0 if changing step 0 changes the network's
# final state: that dependence is what the gradient follows. Before any training, we nudge
# $x_0$ by 0.01 in 256 sequences and measure how far the 16 final hidden values move, per unit
# of nudge (a finite-difference estimate of $\partial h_T / \partial x_0$):

# %%
def dependence_on_start(layer, steps, nudge=0.01):
    x, _ = first_sign_task(256, steps)
    nudged = x.copy()
    nudged[:, 0, 0] += nudge
    moved = ops.convert_to_numpy(layer(nudged)) - ops.convert_to_numpy(layer(x))
    return float(np.abs(moved).mean() / nudge)


def fresh(cell_class, steps):
    runtime.seed_everything(0)
    layer = cell_class(16)
    layer.build((None, steps, 1))
    return layer


with_head_start = fresh(layers.LSTM, LONG)
start_remembering(with_head_start)
dependence = {
    f"SimpleRNN, {SHORT} steps": dependence_on_start(fresh(layers.SimpleRNN, SHORT), SHORT),
    f"SimpleRNN, {LONG} steps": dependence_on_start(fresh(layers.SimpleRNN, LONG), LONG),
    f"LSTM (Keras defaults), {LONG} steps": dependence_on_start(fresh(layers.LSTM, LONG), LONG),
    f"LSTM with head start, {LONG} steps": dependence_on_start(with_head_start, LONG),
}
for name, value in dependence.items():
    print(f"{name:36s} d h_T / d x_0 about {value:.1e}")
assert dependence[f"SimpleRNN, {SHORT} steps"] > 1e-3
assert dependence[f"SimpleRNN, {LONG} steps"] < 1e-4      # step 0 is all but invisible
assert dependence[f"LSTM (Keras defaults), {LONG} steps"] < 1e-4
assert dependence[f"LSTM with head start, {LONG} steps"] > 1e-3

# %% [markdown]
# After 80 steps the simple RNN's final state is thousands of times less sensitive to step 0
# than after 8, and so is the gradient that would teach it to remember; an LSTM with Keras'
# default biases is worse still. With the head start, the LSTM's dependence on step 0 after 80
# steps is as large as the simple RNN's after 8.
#
# Now the experiment: the simple RNN on short (8-step) and long (80-step) sequences, and the
# LSTM with its head start on the long ones. Each is trained on 640 sequences for up to 8
# epochs. Training recurrent networks is bumpy: a run can learn the memory and lose it again a
# few epochs later. The standard remedy is to watch a validation set and keep the weights of
# the best epoch, which Keras' `EarlyStopping` callback does with `restore_best_weights=True`
# (it also stops when `patience` epochs bring no improvement). An accuracy of 0.5 is guessing.

# %%
probes = {
    f"SimpleRNN, {SHORT} steps": (memory_probe(layers.SimpleRNN(16), SHORT), SHORT),
    f"SimpleRNN, {LONG} steps": (memory_probe(layers.SimpleRNN(16), LONG), LONG),
    f"LSTM, {LONG} steps": (lstm_probe, LONG),
}
memory = {}
for name, (model, steps) in probes.items():
    x_train, y_train = first_sign_task(640, steps)
    x_test, y_test = first_sign_task(512, steps)
    x_val, y_val = first_sign_task(256, steps)
    keep_best = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=4,
                                              restore_best_weights=True)
    history = model.fit(x_train, y_train, epochs=8, batch_size=64, verbose=0,
                        validation_data=(x_val, y_val), callbacks=[keep_best]).history
    memory[name] = training.accuracy(model, x_test, y_test)
    print(f"{name:20s} validation accuracy by epoch "
          f"{[round(a, 2) for a in history['val_accuracy']]}; test accuracy {memory[name]:.3f}")
assert memory[f"SimpleRNN, {SHORT} steps"] > 0.9   # short: it learns
assert memory[f"LSTM, {LONG} steps"] > 0.75        # gated, with a head start: it remembers

fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(range(3), list(memory.values()), color=["tab:blue", "tab:blue", "tab:orange"])
ax.axhline(0.5, color="gray", ls=":", label="guessing")
ax.set(xticks=range(3), xticklabels=list(memory), ylabel="test accuracy", ylim=(0, 1.05),
       title="Remembering the first step")
ax.legend()
fig.tight_layout()

# %% [markdown]
# On short sequences the simple RNN remembers. On long ones it falls back to guessing, although
# a one-unit latch that solves the task exists: the gradient that would teach it to keep the
# first step has all but vanished by the time it reaches step 0 (the measurement above), so
# training does not find the latch. "Usually" is the honest word: Adam divides each step by the
# gradient's typical size, so now and then even a tiny gradient is enough, and on some seeds
# the simple RNN does find the latch after a few epochs (try a few seeds). The LSTM, whose cell
# state passes gradients back through its forget gates, holds on; if a run loses the memory
# again in a later epoch, `EarlyStopping` gives back the best epoch's weights. Even gated
# cells have limits on far longer sequences, which is part of why the transformer (next
# lecture) drops recurrence altogether and lets every step look at every other step directly.

# %% [markdown]
# ## Change one line
#
# 1. Replace `layers.LSTM(16)` in `lstm_probe` by `layers.GRU(16)` (and drop the
#    `start_remembering` line, which is written for the LSTM's bias layout). How does the GRU do
#    on 80 steps without a head start?
# 2. Remove the `start_remembering(...)` call, so the LSTM starts at Keras' biases (forget 1,
#    input 0). What happens on 80 steps, with the same 8 epochs?
# 3. In the latch, change the self-loop from 3.0 to 1.0. Why does the memory now fade?
# 4. In `gradient_sizes`, try a gain of 1.2 with tanh. Does it vanish or explode here?

# %% [markdown]
# ## Self-check questions
#
# 1. A `SimpleRNN(32)` reads sequences with 10 features per step. How many weights does it
#    have, and why does that number not depend on the sequence length?
#
#    <details><summary>Answer</summary>
#
#    $W$ is 10x32, $U$ is 32x32 and $b$ has 32: $320 + 1{,}024 + 32 = 1{,}376$. The same weights
#    are applied at every step, so longer sequences mean more steps, not more weights.
#    </details>
#
# 2. If every step-to-step Jacobian has gain 0.9, roughly what fraction of the gradient
#    survives 50 steps? And with gain 1.1?
#
#    <details><summary>Answer</summary>
#
#    $0.9^{50} \approx 0.005$ (half a percent); $1.1^{50} \approx 117$ times the original.
#    </details>
#
# 3. Why is gradient clipping a fix for exploding gradients but not for vanishing ones?
#
#    <details><summary>Answer</summary>
#
#    Clipping only shrinks a gradient that is too large; it cannot restore information that a
#    tiny gradient no longer carries. Scaling a vanishing gradient up would amplify noise, not
#    the signal from the distant step.
#    </details>
#
# 4. In an LSTM, what happens to the memory if the forget gate outputs 1 and the input gate
#    outputs 0 at every step? Why does that help gradients?
#
#    <details><summary>Answer</summary>
#
#    The cell state is copied unchanged: $c_t = c_{t-1}$. The derivative of $c_t$ with respect
#    to $c_{t-1}$ is then exactly 1 at every step, so the gradient passes back without shrinking.
#    </details>
#
# 5. The simple RNN failed on long sequences even though the answer was in its input. Was it
#    unable to *represent* the solution, or unable to *learn* it? How did this lecture tell?
#
#    <details><summary>Answer</summary>
#
#    Unable to learn it: the hand-set one-unit latch solves the 80-step task with a SimpleRNN, so
#    a solution exists; training from random weights did not find it, because the gradient from
#    the label back to step 0 had vanished.
#    </details>
