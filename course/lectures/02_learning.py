# %% [markdown]
# # Lecture 2: How networks learn
#
# Lecture 1 ended with a problem: a hidden layer can solve XOR, but the perceptron rule cannot
# train hidden units. The answer, popularised by Rumelhart, Hinton and Williams in 1986 (the
# mathematics of reverse-mode differentiation is older), has three parts that every Keras
# `model.compile(...)` call still names:
#
# - a **loss**: one number that says how wrong the model is on a batch of examples;
# - **backpropagation**: the chain rule, applied from the loss backwards through every layer,
#   giving the gradient of the loss with respect to every weight;
# - an **optimizer**: a rule that turns gradients into weight changes.
#
# This lecture looks at each part, then does backpropagation by hand on a network with nine
# weights and checks every number against Keras.

# %% [markdown]
# ## Setup

# %%
from course import runtime

runtime.configure()

import math
import time

import matplotlib.pyplot as plt
import numpy as np
import keras
from keras import layers, ops

from course import data, plots, training

runtime.seed_everything(0)
print("Keras", keras.__version__, "on", runtime.detect_device())

# %% [markdown]
# ## Losses
#
# - **Mean squared error** $(y - \hat y)^2$ suits numbers (regression).
# - **Binary cross-entropy** $-[y \log p + (1 - y)\log(1 - p)]$ suits yes/no answers given as a
#   probability $p$.
# - **Categorical cross-entropy** $-\log p_{\text{true class}}$ generalises it to many classes
#   ("sparse" in Keras means the labels are class ids rather than one-hot vectors).
#
# Why not use squared error for probabilities too? Look at what each loss does when the answer
# is confidently wrong. Below, the true label is 1 and the model outputs $p = \sigma(z)$ from a
# score (a *logit*) $z$. The right panel shows the gradient with respect to $z$, which is what
# learning actually follows.

# %%
z = np.linspace(-8, 8, 200).astype("float32")
p = 1 / (1 + np.exp(-z))
ones = np.ones_like(p)
bce = ops.convert_to_numpy(keras.losses.binary_crossentropy(ones[:, None], p[:, None]))
mse = ops.convert_to_numpy(keras.losses.mean_squared_error(ones[:, None], p[:, None]))
grad_bce = p - 1                  # d(-log sigmoid(z))/dz
grad_mse = -2 * (1 - p) * p * (1 - p)  # d((1 - sigmoid(z))^2)/dz

fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(9, 3.2))
ax_loss.plot(z, bce, label="binary cross-entropy")
ax_loss.plot(z, mse, label="squared error")
ax_loss.set(xlabel="logit z (true label is 1)", ylabel="loss", title="Loss")
ax_grad.plot(z, grad_bce, label="binary cross-entropy")
ax_grad.plot(z, grad_mse, label="squared error")
ax_grad.set(xlabel="logit z (true label is 1)", ylabel="dloss / dz", title="Gradient")
for ax in (ax_loss, ax_grad):
    ax.axvspan(-8, -3, color="red", alpha=0.08)
    ax.legend(fontsize=8)
fig.tight_layout()
print(f"at z = -8: cross-entropy gradient {grad_bce[0]:.4f}, squared-error gradient "
      f"{grad_mse[0]:.5f}")
assert grad_bce[0] < -0.99 and abs(grad_mse[0]) < 1e-3

# %% [markdown]
# In the shaded region the model is confidently wrong. Cross-entropy's loss keeps growing there
# and its gradient stays near $-1$: a strong push in the right direction. Squared error flattens
# out, and its gradient fades to zero because the sigmoid's slope does: the model is most wrong
# exactly where it learns least. Matching the loss to the output (cross-entropy for
# probabilities) avoids that trap.

# %% [markdown]
# ## Optimizers
#
# Gradient descent changes every weight a little against its gradient:
# $w \leftarrow w - \eta\,\partial L / \partial w$. Real loss surfaces are often long narrow
# valleys, where the gradient points mostly across the valley rather than along it. Two common
# improvements:
#
# - **momentum** keeps a running average of past steps, so zig-zags across the valley cancel
#   and the motion along it builds up;
# - **Adam** also divides each weight's step by a running estimate of that gradient's size, so
#   steep and shallow directions get steps of similar length.
#
# Below, three Keras optimizers walk down the valley $L(a, b) = \tfrac12 (a^2 + 20 b^2)$ from
# the same start. We supply the gradient $(a, 20 b)$ ourselves; the optimizer only decides how
# to step.

# %%
def valley_path(optimizer, steps=60, start=(-4.0, 1.0)):
    weights = keras.Variable(np.array(start, dtype="float32"))
    path = [np.array(start)]
    for _ in range(steps):
        a, b = ops.convert_to_numpy(weights)
        gradient = np.array([a, 20.0 * b], dtype="float32")
        optimizer.apply_gradients([(ops.convert_to_tensor(gradient), weights)])
        path.append(ops.convert_to_numpy(weights).copy())
    return np.array(path)


paths = {
    "SGD, lr 0.09": valley_path(keras.optimizers.SGD(0.09)),
    "SGD + momentum 0.8, lr 0.02": valley_path(keras.optimizers.SGD(0.02, momentum=0.8)),
    "Adam, lr 0.3": valley_path(keras.optimizers.Adam(0.3)),
}
A, B = np.meshgrid(np.linspace(-4.5, 1.5, 120), np.linspace(-1.5, 1.5, 120))
fig, ax = plt.subplots(figsize=(7, 3.6))
ax.contour(A, B, 0.5 * (A**2 + 20 * B**2), levels=15, colors="lightgray")
for name, path in paths.items():
    ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1, label=name)
    print(f"{name:28s} after 60 steps: a={path[-1, 0]:+.4f}  b={path[-1, 1]:+.4f}")
sgd_b = paths["SGD, lr 0.09"][:, 1]
assert np.all(sgd_b[1:20] * sgd_b[:19] < 0)  # plain SGD flips across the valley at every step
distance_left = {name: float(np.abs(path[-1]).max()) for name, path in paths.items()}
assert distance_left["SGD + momentum 0.8, lr 0.02"] < distance_left["SGD, lr 0.09"]
ax.plot(0, 0, "k*", ms=10)
ax.set(xlabel="a", ylabel="b", title="Three optimizers in a narrow valley (minimum at the star)")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# Plain SGD zig-zags: a learning rate big enough to move along the valley is almost too big
# for the steep direction (above $\eta = 0.1$ it would diverge across it). Momentum smooths the
# zig-zag and keeps moving along the valley. Adam's steps have about the same length in every
# direction, so it does not zig-zag at all, but with a fixed learning rate it overshoots and
# circles near the minimum before settling. None of them is best on every problem, which is why
# the optimizer and its learning rate are choices you tune.

# %% [markdown]
# ## Backpropagation by hand
#
# A network with two inputs, two hidden ReLU units and one output logit:
#
# $$z_1 = x W_1 + b_1,\quad h = \max(z_1, 0),\quad z_2 = h W_2 + b_2,\quad
# L = -\log \sigma(z_2) \text{ for label } y = 1.$$
#
# Backpropagation walks the same path in reverse, multiplying local derivatives (the chain
# rule) and reusing each result for the layer below:
#
# 1. $\partial L/\partial z_2 = \sigma(z_2) - y$ (sigmoid and cross-entropy combine neatly);
# 2. $\partial L/\partial W_2 = h^\top\,\partial L/\partial z_2$ and
#    $\partial L/\partial b_2 = \partial L/\partial z_2$;
# 3. $\partial L/\partial h = \partial L/\partial z_2\, W_2^\top$ (the error sent back down);
# 4. $\partial L/\partial z_1 = \partial L/\partial h \odot [z_1 > 0]$ (the slope of ReLU: 1
#    where the unit is on, 0 where it is off);
# 5. $\partial L/\partial W_1 = x^\top\,\partial L/\partial z_1$ and
#    $\partial L/\partial b_1 = \partial L/\partial z_1$.
#
# Each step needs only what the forward pass already computed (here $x$, $z_1$, $h$ and
# $\sigma(z_2)$), and each layer is visited once. For a dense layer the forward pass does one
# matrix product, $xW$; the backward pass does two, $x^\top \delta$ for the weights and
# $\delta W^\top$ for the error sent down. So a backward pass costs about **twice** a forward
# pass, and a whole training step about three forward passes, however many weights there are.
# The cell after the hand computation times those products.

# %%
x = np.array([[1.0, -2.0]])
y = np.array([[1.0]])
W1 = np.array([[0.5, -0.3], [0.2, 0.4]])
b1 = np.array([0.1, -0.1])
W2 = np.array([[0.7], [-0.6]])
b2 = np.array([0.05])

# forward
z1 = x @ W1 + b1
h = np.maximum(z1, 0.0)  # the second unit is off (z1 < 0) for this input
z2 = h @ W2 + b2
p_out = 1 / (1 + np.exp(-z2))
loss = float(-np.log(p_out[0, 0]))
print("z1 =", z1.round(4), " h =", h.round(4), " z2 =", z2.round(4),
      " p =", p_out.round(4), " loss =", round(loss, 4))

# backward
d_z2 = p_out - y
d_W2, d_b2 = h.T @ d_z2, d_z2[0]
d_h = d_z2 @ W2.T
d_z1 = d_h * (z1 > 0)
d_W1, d_b1 = x.T @ d_z1, d_z1[0]
by_hand = {"W1": d_W1, "b1": d_b1, "W2": d_W2, "b2": d_b2}
for name, grad in by_hand.items():
    print(f"dL/d{name} =", grad.round(5).tolist())

# %% [markdown]
# How much does the backward pass cost? Time the three matrix products of a layer with 1,024
# inputs and 1,024 outputs on a batch of 256 (best of five runs, to dodge other programs):

# %%
rng = np.random.default_rng(0)
x_batch = rng.normal(size=(256, 1024)).astype("float32")
w_layer = rng.normal(size=(1024, 1024)).astype("float32")
delta = rng.normal(size=(256, 1024)).astype("float32")  # dL/d(output), from the layer above


def best_seconds(work, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


forward_s = best_seconds(lambda: x_batch @ w_layer)
backward_s = best_seconds(lambda: (x_batch.T @ delta, delta @ w_layer.T))
print(f"forward {forward_s * 1e3:.1f} ms, backward {backward_s * 1e3:.1f} ms: "
      f"ratio {backward_s / forward_s:.1f}")

# %% [markdown]
# ### Check 1: finite differences
# Nudge one weight by a tiny $\epsilon$ up and down, and see how much the loss moves:
# $\partial L / \partial w \approx [L(w + \epsilon) - L(w - \epsilon)] / 2\epsilon$.
# Slow (two forward passes per weight) but independent of our algebra.

# %%
params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def loss_of(ps):
    hidden = np.maximum(x @ ps["W1"] + ps["b1"], 0.0)
    return float(np.log1p(np.exp(-(hidden @ ps["W2"] + ps["b2"])))[0, 0])  # -log sigmoid


eps = 1e-6
for name, value in params.items():
    numeric = np.zeros_like(value)
    for idx in np.ndindex(value.shape):
        up = {**params, name: value.copy()}
        down = {**params, name: value.copy()}
        up[name][idx] += eps
        down[name][idx] -= eps
        numeric[idx] = (loss_of(up) - loss_of(down)) / (2 * eps)
    gap = np.abs(numeric - by_hand[name]).max()
    print(f"{name}: largest difference from the hand result {gap:.1e}")
    assert gap < 1e-6, name

# %% [markdown]
# ## Backpropagation as a program
#
# Working the chain rule by hand does not scale to millions of weights, and nobody does it:
# frameworks record the computation as it runs and replay it backwards. The idea fits in a
# few dozen lines. Every number below remembers which numbers it was computed from, together
# with the *local* derivative of itself with respect to each of them, worked out at the
# moment it is computed. `backward()` then lists the computation so that every number comes
# before the numbers it was made from, and walks that list once, passing gradients down by the
# chain rule: $\partial L/\partial \text{input} \mathrel{+}= \text{local} \times
# \partial L/\partial \text{output}$. The `+=` matters: a number used twice (like $h$,
# which feeds the output through two weights) collects gradient from both uses.

# %%
class Scalar:
    """A number that records how it was computed, so that gradients can flow back to its inputs.

    ``inputs`` holds pairs (input Scalar, d self / d input), filled in by each operation.
    """

    def __init__(self, value, inputs=()):
        self.value = float(value)
        self.inputs = inputs
        self.grad = 0.0

    def __add__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.value + other.value, ((self, 1.0), (other, 1.0)))

    def __mul__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.value * other.value, ((self, other.value), (other, self.value)))

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def relu(self):
        on = self.value > 0
        return Scalar(self.value if on else 0.0, ((self, 1.0 if on else 0.0),))

    def softplus(self):
        """log(1 + e^v); its slope is the sigmoid of v."""
        slope = 1.0 / (1.0 + math.exp(-self.value))
        return Scalar(math.log1p(math.exp(self.value)), ((self, slope),))

    def backward(self):
        """Fill in ``grad`` (d self / d x) for every Scalar x this one was computed from."""
        order, seen, todo = [], set(), [(self, False)]
        while todo:  # depth first; a Scalar is listed only after all of its inputs
            node, inputs_listed = todo.pop()
            if inputs_listed:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                todo.append((node, True))
                todo.extend((parent, False) for parent, _ in node.inputs)
        self.grad = 1.0
        for node in reversed(order):  # from the loss back towards the weights
            for parent, local in node.inputs:
                parent.grad += local * node.grad


# %% [markdown]
# The same network, written with `Scalar`s instead of arrays. Only the forward pass is written
# out; the backward pass is the one call `loss_s.backward()`.

# %%
def scalars(array):
    return np.vectorize(Scalar, otypes=[object])(array)


W1_s, b1_s, W2_s, b2_s = scalars(W1), scalars(b1), scalars(W2), scalars(b2)
h_s = [(sum(x[0, j] * W1_s[j, k] for j in range(2)) + b1_s[k]).relu() for k in range(2)]
z2_s = sum(h_s[k] * W2_s[k, 0] for k in range(2)) + b2_s[0]
loss_s = (-z2_s).softplus()  # -log sigmoid(z2) for the label 1
loss_s.backward()

by_autograd = {name: np.vectorize(lambda s: s.grad)(p)
               for name, p in zip(by_hand, (W1_s, b1_s, W2_s, b2_s))}
print(f"loss: by hand {loss:.6f}, Scalar {loss_s.value:.6f}")
for name in by_hand:
    print(f"dL/d{name}: Scalar {by_autograd[name].round(5).tolist()}")
    assert np.allclose(by_autograd[name], by_hand[name], atol=1e-12), name
print("the little autograd agrees with the hand computation")

# %% [markdown]
# ### Check 2: Keras
# Keras does the same bookkeeping, on whole arrays rather than single numbers, through the
# backend's own automatic differentiation. Build the same network in Keras and load our
# weights. To read the gradients Keras computes, without any backend-specific code, we take
# **one step of plain SGD with learning rate 1**:
# the update is $w_{\text{new}} = w - 1 \cdot \partial L/\partial w$, so the gradient is simply
# old weights minus new weights. This works the same on TensorFlow, JAX and PyTorch.

# %%
net = keras.Sequential([keras.Input((2,)), layers.Dense(2, activation="relu"), layers.Dense(1)])
net.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0),
            loss=keras.losses.BinaryCrossentropy(from_logits=True))
net.set_weights([W1, b1, W2, b2])
before = [w.copy() for w in net.get_weights()]
keras_loss = net.train_on_batch(x.astype("float32"), y.astype("float32"))
from_keras = dict(zip(by_hand, [old - new for old, new in zip(before, net.get_weights())]))
print(f"loss: by hand {loss:.6f}, Keras {float(keras_loss):.6f}")
for name in by_hand:
    print(f"dL/d{name}: Keras {from_keras[name].astype(float).round(5).tolist()}")
    assert np.allclose(from_keras[name], by_hand[name], atol=1e-5), name
print("every gradient matches the hand computation")

# %%
names = [f"{n}[{i}]" for n, g in by_hand.items() for i in range(g.size)]
fig, ax = plt.subplots(figsize=(7, 3))
pos = np.arange(len(names))
for offset, (label, grads) in zip((-0.27, 0, 0.27), (("by hand", by_hand),
                                                     ("Scalar autograd", by_autograd),
                                                     ("Keras", from_keras))):
    ax.bar(pos + offset, np.concatenate([g.ravel() for g in grads.values()]), 0.27, label=label)
ax.set_xticks(pos, names, fontsize=8)
ax.axhline(0, color="k", lw=0.5)
ax.set(ylabel="dL / dweight", title="The same nine gradients, three ways")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Putting it together: the learning rate matters
#
# Training repeats forward pass, backward pass and optimizer step over batches of data. Here
# is the same small network (64 pixels, 32 hidden units, 10 classes) on scikit-learn's 8x8
# digits, trained with plain SGD at three learning rates. Too small crawls; too large
# overshoots so far that the weights blow up and the network guesses at chance (0.1).

# %%
digits = data.load_digits_8x8()
x_train = digits.x_train.reshape(len(digits.x_train), -1)
x_val = digits.x_val.reshape(len(digits.x_val), -1)


def digit_mlp(learning_rate):
    runtime.seed_everything(0)  # same starting weights for every learning rate
    model = keras.Sequential([keras.Input((64,)), layers.Dense(32, activation="relu"),
                              layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


EPOCHS = 8
results = {}
for lr in (0.003, 0.1, 3.0):
    results[lr] = training.fit(digit_mlp(lr), x_train, digits.y_train,
                               budget=training.Budget(epochs=EPOCHS, batch_size=32),
                               validation_data=(x_val, digits.y_val), progress=False)
final = {lr: result.history["val_accuracy"][-1] for lr, result in results.items()}
print("final validation accuracy:", {lr: round(acc, 3) for lr, acc in final.items()})
assert final[3.0] < 0.3 and final[0.003] < final[0.1] and final[0.1] > 0.85
fig, ax = plt.subplots(figsize=(6, 3.2))
for lr, result in results.items():
    ax.plot(range(1, EPOCHS + 1), result.history["val_accuracy"], "o-", ms=3,
            label=f"SGD lr={lr}")
ax.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1),
       title="Same network, three learning rates")
ax.legend()
fig.tight_layout()

# %% [markdown]
# The course library's `plots.learning_curves` shows loss and accuracy for one run, train and
# validation together; here is the run with the good learning rate:

# %%
fig = plots.learning_curves(results[0.1].history, title="SGD, learning rate 0.1")

# %% [markdown]
# ## Change one line
#
# 1. In the losses cell, replace the squared error on $p$ by squared error on the logit $z$
#    (`(1 - z) ** 2`). Is its gradient still small where the model is confidently wrong?
# 2. Give `Scalar` a `__pow__` (or a `sigmoid`) method with its local derivative, and rebuild
#    the loss with it. `backward` does not change: why not?
# 3. In `valley_path`, try `keras.optimizers.SGD(0.11)`. Then try `RMSprop(0.3)` and compare it
#    with Adam.
# 4. In the learning-rate experiment, swap `SGD(learning_rate)` for `Adam(learning_rate)` with
#    the same three rates. Which rate is now too large?

# %% [markdown]
# ## Self-check questions
#
# 1. For a true label of 1, why does cross-entropy keep pushing when the model outputs
#    $p = 0.001$, while squared error on $p$ barely moves?
#
#    <details><summary>Answer</summary>
#
#    With $p = \sigma(z)$, the cross-entropy gradient with respect to $z$ is $p - 1 \approx -1$:
#    full strength. The squared-error gradient is $-2(1 - p)\,p(1 - p)$, and the factor
#    $p(1 - p)$ (the sigmoid's slope) is about 0.001 there, so the push almost vanishes.
#    </details>
#
# 2. In the hand computation, which quantities from the forward pass did the backward pass
#    reuse? What would change if the hidden activation were tanh instead of ReLU?
#
#    <details><summary>Answer</summary>
#
#    It reused $x$, $z_1$ (or $h$) and $\sigma(z_2)$ (and the weights). With tanh, step 4 would
#    multiply by tanh's slope, which can be written with the forward pass's own output $h$;
#    no unit would be entirely off, but saturated units ($|z_1|$ large) would pass almost
#    nothing.
#    </details>
#
# 3. Why does reading "old weights minus new weights" after one SGD step with learning rate 1
#    give the gradient? Would it still work with momentum or Adam?
#
#    <details><summary>Answer</summary>
#
#    Plain SGD sets $w_{\text{new}} = w - \eta\, g$, so with $\eta = 1$ the difference is $g$.
#    On the very first step, momentum's velocity starts at zero so SGD with momentum would also
#    give $g$; Adam would not, since it divides by a running estimate of the gradient's size (its
#    first step is about $\eta \cdot \mathrm{sign}(g)$).
#    </details>
#
# 4. In the narrow valley, what goes wrong with plain SGD if the learning rate is raised from
#    0.09 to 0.11?
#
#    <details><summary>Answer</summary>
#
#    Along $b$ the gradient is $20b$, so a step multiplies $b$ by $1 - 20\eta$. At 0.09 that is
#    $-0.8$ (a shrinking zig-zag); at 0.11 it is $-1.2$: each step overshoots further, and $b$
#    grows without limit.
#    </details>
#
# 5. Finite differences gave the same gradients as backpropagation. Why do we not train
#    networks with finite differences?
#
#    <details><summary>Answer</summary>
#
#    They need two forward passes *per weight* for one gradient: millions of passes for a
#    network with millions of weights. Backpropagation gets all of them for about the cost of
#    three forward passes (one forward, one backward at about twice that).
#    </details>
