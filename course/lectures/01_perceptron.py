# %% [markdown]
# # Lecture 1: The perceptron
#
# In 1957 the psychologist Frank Rosenblatt, working at the Cornell Aeronautical Laboratory,
# described a machine that could *learn* to sort pictures into two groups. He called it the
# **perceptron**. Soon afterwards it was built as hardware, the Mark I Perceptron: a grid of
# photocells as its eye, and motor-driven potentiometers as its adjustable weights.
#
# The idea underneath is tiny, and every network in this course still contains it:
#
# 1. multiply each input by a weight and add the results, plus a bias;
# 2. fire (output 1) if that sum is above zero, stay silent (output 0) otherwise;
# 3. when the answer is wrong, nudge the weights towards the right answer.
#
# This lecture builds that machine in a few lines of NumPy, watches it learn, and then finds
# the problem it can never learn: XOR.

# %% [markdown]
# ## Setup

# %%
from course import runtime

runtime.configure()  # picks the Keras backend (TensorFlow unless KERAS_BACKEND says otherwise)

import matplotlib.pyplot as plt
import numpy as np
import keras
from keras import layers

from course import training

runtime.seed_everything(0)
rng = np.random.default_rng(0)
print("Keras", keras.__version__, "on", runtime.detect_device())

# %% [markdown]
# ## A threshold neuron
#
# The neuron computes $s = w \cdot x + b$ and outputs $1$ if $s > 0$, else $0$. The weights
# say how much each input counts; the bias moves the threshold. With two inputs, the points
# where $s = 0$ form a straight line: the neuron answers 1 on one side and 0 on the other.
#
# Before any learning, we can pick weights by hand. Two equal weights and a bias decide
# between "both inputs on" (AND) and "at least one input on" (OR):

# %%
def fire(X, w, b):
    """The threshold neuron: 1 where w . x + b > 0, else 0."""
    return (X @ w + b > 0).astype(int)


X_bits = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
w_hand = np.array([1.0, 1.0])
print("x1 x2 | AND (b=-1.5) | OR (b=-0.5)")
for x, a, o in zip(X_bits, fire(X_bits, w_hand, -1.5), fire(X_bits, w_hand, -0.5)):
    print(f" {x[0]}  {x[1]} |      {a}       |     {o}")

# %% [markdown]
# ## The learning rule
#
# Rosenblatt's contribution was a way to *find* the weights from examples. Show the neuron one
# example $(x, y)$ with $y \in \{0, 1\}$, let it answer $\hat y$, and update
#
# $$w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y).$$
#
# - If the answer was right, $y - \hat y = 0$ and nothing changes.
# - If it stayed silent but should have fired ($y - \hat y = 1$), the input is *added* to the
#   weights, so next time $w \cdot x$ is larger for this input.
# - If it fired but should not have, the input is *subtracted*.
#
# $\eta$ (the learning rate) only scales the steps. Below, the rule meets 80 points that a
# line can separate. We sweep over the data several times (each sweep is an *epoch*) and draw
# the dividing line after every update.

# %%
def update(w, b, x, y, lr):
    """One application of the perceptron rule to one example; also says if it was a mistake."""
    error = y - fire(x[None, :], w, b)[0]
    return w + lr * error * x, b + lr * error, bool(error != 0)


points = rng.uniform(-2.5, 2.5, (300, 2))
score = points @ np.array([1.0, -0.5]) - 1.2  # the hidden rule that labels the points
keep = np.abs(score) > 0.1                    # leave a small gap around the true line
X_sep, y_sep = points[keep][:80], (score[keep][:80] > 0).astype(int)

w, b = np.zeros(2), 0.0
lines, mistakes, so_far = [], [], 0
for epoch in range(4):
    for i in rng.permutation(len(X_sep)):
        w, b, was_wrong = update(w, b, X_sep[i], y_sep[i], lr=0.1)
        if was_wrong:
            lines.append((w.copy(), b))
        so_far += was_wrong
        mistakes.append(so_far)
print("mistakes in each epoch:", np.diff([0] + mistakes[len(X_sep) - 1::len(X_sep)]).tolist())
print("final weights", w.round(3), "bias", round(b, 3))


def draw_line(ax, w, b, **style):
    xs = np.linspace(-3, 3, 2)
    if abs(w[1]) > 1e-9:
        ax.plot(xs, -(w[0] * xs + b) / w[1], **style)


fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(9, 3.6))
ax.scatter(*X_sep.T, c=y_sep, cmap="coolwarm", s=14)
for k, (wk, bk) in enumerate(lines):
    draw_line(ax, wk, bk, color=plt.cm.viridis(k / len(lines)), lw=1, label=f"update {k + 1}")
ax.set(xlim=(-2.6, 2.6), ylim=(-2.6, 2.6), title="The line moves only on mistakes")
ax.legend(fontsize=6)
ax_err.plot(np.arange(1, len(mistakes) + 1) / len(X_sep), mistakes)
ax_err.set(xlabel="epochs (sweeps over the data)", ylabel="mistakes so far",
           title="Mistakes stop once the line separates")
fig.tight_layout()

# %% [markdown]
# When the two groups *can* be split by a line (the data are **linearly separable**), the rule
# is guaranteed to stop making mistakes after a finite number of updates: the perceptron
# convergence theorem (proved in the early 1960s). The bound depends on how wide the gap
# between the groups is compared with the size of the inputs, not on how many examples there are.

# %% [markdown]
# ## The XOR wall
#
# XOR ("exclusive or") is 1 when exactly one input is on. Run the same rule on the four XOR
# points and on the four AND points, and count mistakes per epoch:

# %%
def mistakes_per_epoch(X, y, epochs=20, lr=0.1):
    w, b, counts = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        wrong = 0
        for x, target in zip(X, y):
            w, b, was_wrong = update(w, b, x, target, lr)
            wrong += was_wrong
        counts.append(wrong)
    return counts


y_and = np.array([0, 0, 0, 1])
y_xor = np.array([0, 1, 1, 0])
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(mistakes_per_epoch(X_bits, y_and), "o-", label="AND")
ax.plot(mistakes_per_epoch(X_bits, y_xor), "s-", label="XOR")
ax.set(xlabel="epoch", ylabel="mistakes", title="AND is learned; XOR never is")
ax.legend()
fig.tight_layout()

# %% [markdown]
# The XOR curve never reaches zero, and no learning rate or number of epochs will fix that.
# No line splits XOR's points: the two 1s sit on one diagonal of the square, the two 0s on the
# other. In symbols, a single threshold neuron would need
# $b \le 0$ (for $00 \to 0$), $w_1 + b > 0$ and $w_2 + b > 0$ (for $10, 01 \to 1$), and
# $w_1 + w_2 + b \le 0$ (for $11 \to 0$). Adding the two middle conditions gives
# $w_1 + w_2 + b > -b \ge 0$, contradicting the last one.
#
# Marvin Minsky and Seymour Papert made limits of this kind precise in their 1969 book
# *Perceptrons*. The book is often blamed for the cooling of interest in neural networks
# that followed; what it showed is that **one layer of threshold units can only draw one
# line**.

# %% [markdown]
# ## The way out: a hidden layer
#
# XOR is "OR, but not AND". Each part is a line one neuron can draw, and a second neuron can
# combine their answers. With hand-picked weights, two layers of threshold neurons compute XOR:

# %%
hidden = np.stack([fire(X_bits, np.array([1.0, 1.0]), -0.5),    # OR
                   fire(X_bits, np.array([-1.0, -1.0]), 1.5)], 1)  # NAND (not AND)
xor = fire(hidden, np.array([1.0, 1.0]), -1.5)                   # AND of the two
print("inputs:", X_bits.tolist())
print("hidden:", hidden.tolist())
print("XOR   :", xor.tolist(), "expected", y_xor.tolist())

# %% [markdown]
# Picking hidden weights by hand does not scale. The perceptron rule cannot train them either:
# it needs to know what each hidden unit *should* have output, and nobody tells it. The fix,
# covered in Lecture 2, is to replace the hard threshold with a smooth function (such as the
# sigmoid) so that small weight changes cause small output changes, then follow the gradient
# of an error measure through every layer: **backpropagation**.
#
# Here is a preview with Keras on a noisy XOR cloud (400 points around the four corners). A
# single sigmoid unit is a smooth perceptron and still draws one line; one hidden layer of 8
# units bends the boundary around the corners.

# %%
corners = rng.integers(0, 2, size=(400, 2))
X_cloud = (corners + rng.normal(0, 0.15, corners.shape)).astype("float32")
y_cloud = (corners[:, 0] ^ corners[:, 1]).astype("float32")


def binary_model(hidden_units):
    stack = [keras.Input((2,))]
    if hidden_units:
        stack.append(layers.Dense(hidden_units, activation="tanh"))
    stack.append(layers.Dense(1, activation="sigmoid"))
    model = keras.Sequential(stack)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


budget = training.Budget(epochs=40, batch_size=32)
models = {"one unit (no hidden layer)": binary_model(0), "hidden layer of 8": binary_model(8)}
grid = np.stack(np.meshgrid(np.linspace(-0.5, 1.5, 80), np.linspace(-0.5, 1.5, 80)), -1)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for ax, (name, model) in zip(axes, models.items()):
    training.fit(model, X_cloud, y_cloud, budget=budget, progress=False)
    acc = training.accuracy(model, X_cloud, y_cloud.astype(int))
    prob = model.predict(grid.reshape(-1, 2), verbose=0).reshape(80, 80)
    ax.contourf(grid[..., 0], grid[..., 1], prob, levels=np.linspace(0, 1, 21), cmap="coolwarm",
                alpha=0.6)
    ax.scatter(*X_cloud.T, c=y_cloud, cmap="coolwarm", s=6, edgecolors="k", linewidths=0.2)
    ax.set_title(f"{name}: accuracy {acc:.2f}")
fig.tight_layout()

# %% [markdown]
# ## Self-check questions
#
# 1. A perceptron with weights $w = (2, -1)$ and bias $b = 0.5$ sees $x = (0, 1)$ with label
#    $y = 1$. What does it output, and what are $w$ and $b$ after one update with $\eta = 1$?
# 2. Why does the perceptron rule leave the weights unchanged on correctly classified examples,
#    and what does that imply about points far from the dividing line?
# 3. Give a data set of four 2-D points that a perceptron *can* learn and one that it cannot.
#    What distinguishes them?
# 4. In the two-layer XOR network above, what does each hidden unit compute, and why could the
#    perceptron rule not have found those hidden weights by itself?
# 5. The Keras model with no hidden layer uses a smooth sigmoid instead of a hard threshold.
#    Why does that not help it solve XOR?
