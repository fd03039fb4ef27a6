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
# This lecture works the rule by hand, watches a library implementation of it learn, and then
# finds the problem it can never learn: XOR. Writing the rule yourself is the first part of the
# `perceptron` assignment.

# %% [markdown]
# ## Setup

# %%
from course import runtime

runtime.configure()  # picks the Keras backend (TensorFlow unless KERAS_BACKEND says otherwise)

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
import keras
from keras import layers
from sklearn.linear_model import Perceptron

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
# $\eta$ (the learning rate) only scales the steps. One update, worked by hand: with
# $w = (0.5, -1)$, $b = 0$ and $\eta = 0.1$, the example $x = (2, 1)$ with label $y = 1$ gives
# $s = 0.5 \cdot 2 - 1 \cdot 1 + 0 = 0$, so $\hat y = 0$: a mistake. The update adds
# $0.1 \cdot (2, 1)$ to $w$ and $0.1$ to $b$, giving $w = (0.7, -0.9)$, $b = 0.1$, and now
# $s = 0.7 \cdot 2 - 0.9 + 0.1 = 0.6 > 0$: this example is right.

# %%
x_example = np.array([2.0, 1.0])  # its label is 1
w_before, b_before = np.array([0.5, -1.0]), 0.0
print("before: score", x_example @ w_before + b_before,
      "output", fire(x_example, w_before, b_before))
w_after, b_after = w_before + 0.1 * x_example, b_before + 0.1  # silent on a 1: add 0.1 x
print("after:  score", round(x_example @ w_after + b_after, 3), "output",
      fire(x_example, w_after, b_after), " w", w_after, " b", b_after)
assert fire(x_example, w_after, b_after) == 1 and np.allclose(w_after, [0.7, -0.9])

# %% [markdown]
# ## Watching the rule learn
#
# Applying that update to every example, sweep after sweep (each sweep is an *epoch*), is what
# you will write in the assignment. Here we let scikit-learn's `Perceptron` do it. It writes the
# labels as $\pm 1$ instead of $0/1$ and updates whenever $(2y - 1)(w \cdot x + b) \le 0$: the
# same rule, except that a point lying exactly on the line also counts as a mistake. Feeding it
# one example at a time (`partial_fit`) lets us draw the dividing line after every update, on 80
# points that a line can separate.

# %%
points = rng.uniform(-2.5, 2.5, (300, 2))
score = points @ np.array([1.0, -0.5]) - 1.2  # the hidden rule that labels the points
keep = np.abs(score) > 0.3                    # leave a gap around the true line
X_sep, y_sep = points[keep][:80], (score[keep][:80] > 0).astype(int)


def current_score(clf, x):
    """w . x + b for one example (all weights start at zero, before the first update)."""
    return float(clf.decision_function(x[None])[0]) if hasattr(clf, "coef_") else 0.0


clf = Perceptron(eta0=0.1, shuffle=False, tol=None)
lines, mistakes_so_far, total = [], [], 0
for epoch in range(6):
    for i in rng.permutation(len(X_sep)):
        wrong = (2 * y_sep[i] - 1) * current_score(clf, X_sep[i]) <= 0
        clf.partial_fit(X_sep[i:i + 1], y_sep[i:i + 1], classes=[0, 1])  # one example
        if wrong:
            lines.append((clf.coef_[0].copy(), clf.intercept_[0]))
        total += int(wrong)
        mistakes_so_far.append(total)
per_epoch = np.diff([0] + mistakes_so_far[len(X_sep) - 1::len(X_sep)]).tolist()
print("mistakes in each epoch:", per_epoch)
print("final weights", clf.coef_[0].round(3), "bias", clf.intercept_.round(3))
assert per_epoch[-1] == 0 and clf.score(X_sep, y_sep) == 1.0  # the rule stopped: all correct


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
ax_err.plot(np.arange(1, len(mistakes_so_far) + 1) / len(X_sep), mistakes_so_far)
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
def mistakes_each_epoch(labels, epochs=20):
    clf, counts = Perceptron(eta0=0.1, shuffle=False, tol=None), []
    for _ in range(epochs):
        counts.append(0)
        for x, target in zip(X_bits, labels):
            counts[-1] += int((2 * target - 1) * current_score(clf, x) <= 0)
            clf.partial_fit(x[None], [target], classes=[0, 1])
    return counts


y_and = np.array([0, 0, 0, 1])
y_xor = np.array([0, 1, 1, 0])
and_counts, xor_counts = mistakes_each_epoch(y_and), mistakes_each_epoch(y_xor)
print("AND:", and_counts)
print("XOR:", xor_counts)
assert and_counts[-1] == 0 and min(xor_counts) > 0  # AND is learned; XOR never is
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(and_counts, "o-", label="AND")
ax.plot(xor_counts, "s-", label="XOR")
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
# that followed; what it showed is that **one threshold unit draws one line**. A layer of
# several units draws several lines, but if each unit's answer is the output, every answer is
# still a one-line decision: something must *combine* the lines.

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
assert xor.tolist() == y_xor.tolist()

# %% [markdown]
# Picking hidden weights by hand does not scale. The perceptron rule cannot train them either:
# it needs to know what each hidden unit *should* have output, and nobody tells it. The fix,
# covered in Lecture 2, is to replace the hard threshold with a smooth function (such as the
# sigmoid or tanh) so that small weight changes cause small output changes, then follow the
# gradient of an error measure through every layer: **backpropagation**.
#
# Here is a preview with Keras, on a problem of the same kind as XOR but with three classes:
# points on three rings around the origin, the class being the ring. Every ring surrounds the
# one inside it, so no arrangement of straight lines separates them. A layer of output units
# with nothing before it (one logit per class, the largest wins) can only cut the plane with
# straight lines; one hidden layer of 16 units in front of it can bend the boundaries into
# circles.

# %%
def rings(n):
    """n points on three rings (radius 0-1, 1-2, 2-3); the label is the ring."""
    ring = rng.integers(0, 3, n)
    radius = ring + rng.uniform(0.15, 0.85, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    xy = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    return xy.astype("float32"), ring.astype("int32")


x_rings, y_rings = rings(600)
x_rings_test, y_rings_test = rings(600)

runtime.seed_everything(0)
no_hidden = keras.Sequential([keras.Input((2,)), layers.Dense(3)])
runtime.seed_everything(0)
with_hidden = keras.Sequential([keras.Input((2,)), layers.Dense(16, activation="tanh"),
                                layers.Dense(3)])
models = {"no hidden layer": no_hidden, "hidden layer of 16": with_hidden}
grid = np.stack(np.meshgrid(np.linspace(-3.2, 3.2, 90), np.linspace(-3.2, 3.2, 90)), -1)
ring_colours = ListedColormap(["tab:blue", "tab:orange", "tab:green"])  # regions and points
accuracy = {}
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, (name, model) in zip(axes, models.items()):
    model.compile(optimizer=keras.optimizers.Adam(0.05), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    training.fit(model, x_rings, y_rings, budget=training.Budget(epochs=15, batch_size=32),
                 progress=False)
    accuracy[name] = training.accuracy(model, x_rings_test, y_rings_test)
    regions = training.predict_classes(model, grid.reshape(-1, 2)).reshape(90, 90)
    ax.contourf(grid[..., 0], grid[..., 1], regions, levels=[-0.5, 0.5, 1.5, 2.5],
                cmap=ring_colours, alpha=0.25)
    ax.scatter(*x_rings_test.T, c=y_rings_test, cmap=ring_colours, vmin=0, vmax=2, s=4)
    ax.set(aspect="equal", title=f"{name}: test accuracy {accuracy[name]:.2f}")
fig.tight_layout()
print({name: round(value, 3) for name, value in accuracy.items()})
assert accuracy["no hidden layer"] < 0.6 < 0.9 < accuracy["hidden layer of 16"]

# %% [markdown]
# Without a hidden layer the regions are wedges bounded by straight lines, and the accuracy
# stays close to guessing (one in three). With one hidden layer each hidden unit draws its own
# line, and the output layer combines sixteen of them into the rings.

# %% [markdown]
# ## Change one line
#
# Try these in your own copy, one at a time, and predict the result before you run it:
#
# 1. In the rings cell, give the hidden layer 2 units instead of 16. Can two lines enclose a
#    ring? (Watch the boundaries, not only the accuracy.)
# 2. Replace `activation="tanh"` by `activation=None` (a linear hidden layer). Why does the
#    accuracy fall back to what the model without a hidden layer gets?
# 3. In the cell that makes the 80 points, shrink the gap from `0.3` to `0.1`. The data are
#    still separable, so the rule still converges; how many more epochs does it need, and why
#    does the convergence theorem predict that?
# 4. In `mistakes_each_epoch`, change `eta0=0.1` to `eta0=10.0`. Does AND still converge? Does
#    the number of mistakes change? (Hint: with zero starting weights, what does $\eta$ scale?)

# %% [markdown]
# ## Self-check questions
#
# 1. A perceptron with weights $w = (2, -1)$ and bias $b = 0.5$ sees $x = (0, 1)$ with label
#    $y = 1$. What does it output, and what are $w$ and $b$ after one update with $\eta = 1$?
#
#    <details><summary>Answer</summary>
#
#    $s = 2 \cdot 0 - 1 \cdot 1 + 0.5 = -0.5$, so it outputs 0: a mistake, with $y - \hat y = 1$.
#    The update adds $x$ to the weights and 1 to the bias: $w = (2, 0)$, $b = 1.5$.
#    </details>
#
# 2. Why does the perceptron rule leave the weights unchanged on correctly classified examples,
#    and what does that imply about points far from the dividing line?
#
#    <details><summary>Answer</summary>
#
#    The update is proportional to $y - \hat y$, which is 0 when the answer is right. Points
#    classified correctly, however far from the line, never move it: the final line depends only
#    on the examples that caused mistakes, and it may end up very close to some of them.
#    </details>
#
# 3. Give a data set of four 2-D points that a perceptron *can* learn and one that it cannot.
#    What distinguishes them?
#
#    <details><summary>Answer</summary>
#
#    The corners of the unit square labelled as AND (or OR) can be learned; labelled as XOR
#    they cannot. The first is linearly separable (a line puts all 1s on one side), the second
#    is not.
#    </details>
#
# 4. In the two-layer XOR network above, what does each hidden unit compute, and why could the
#    perceptron rule not have found those hidden weights by itself?
#
#    <details><summary>Answer</summary>
#
#    One computes OR, the other NAND; the output unit takes their AND. The rule needs a target
#    for each unit it trains, and the data only give targets for the output: nothing says what
#    a hidden unit should have answered.
#    </details>
#
# 5. The Keras model with no hidden layer uses smooth logits instead of a hard threshold. Why
#    does that not help it on the rings?
#
#    <details><summary>Answer</summary>
#
#    Each logit is still a linear function of the input, so the boundary between any two
#    classes (where two logits are equal) is a straight line. Smoothness helps training, not
#    the shapes the model can draw; that takes a nonlinear hidden layer.
#    </details>
