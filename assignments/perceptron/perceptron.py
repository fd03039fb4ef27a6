# %% [markdown]
# # Assignment: the perceptron, and why one layer is not enough
#
# In 1957 Frank Rosenblatt, a psychologist at the Cornell Aeronautical Laboratory, proposed a
# machine that learns from examples: the **perceptron**. It weighs its inputs, adds a bias,
# and fires when the total is above zero. When it answers wrongly, it nudges its weights
# towards the right answer. The Mark I Perceptron built on this idea read simple shapes from a
# grid of photocells, with motor-driven potentiometers as its adjustable weights.
#
# The rule is guaranteed to find a separating line whenever one exists. But one neuron draws
# *one* line, and some problems need more: the classic example is XOR, which Minsky and Papert
# used in 1969 to show what single-layer perceptrons cannot do. Networks with a hidden layer
# can, once they are trained by gradient descent and backpropagation instead of Rosenblatt's
# rule.
#
# In this assignment you will:
# 1. write the perceptron rule in NumPy (`perceptron_fit`);
# 2. build the same neuron in Keras (`build_perceptron`) and watch it fail on XOR;
# 3. add a hidden layer (`build_mlp`) and watch it succeed;
# 4. check by hand, with finite differences, that Keras computes the gradients it claims to;
# 5. write backpropagation for a small network yourself, in NumPy (`mlp_backward`).
#
# Lectures 1 and 2 prepare it (`course/lectures/01_perceptron.py`, `02_learning.py`).

# %% [markdown]
# ## Setup
# Run this cell first. It picks the Keras backend (TensorFlow unless `KERAS_BACKEND` says
# otherwise), says which device you are on, and makes the two data sets: points that a line
# can split, and XOR points that it cannot.

# %% [setup] id=setup
import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers

from course import points, runtime, training

print("Keras", keras.__version__, "on", runtime.detect_device())
separable = points.load_separable_points(seed=0)
xor = points.load_xor_points(seed=0)
print("separable:", separable.sizes(), " xor:", xor.sizes())


def show_points(ax, splits, title):
    ax.scatter(*splits.x_train.T, c=splits.y_train, cmap="coolwarm", s=8)
    ax.scatter([0], [0], marker="+", c="k", s=80)
    ax.set(title=title, aspect="equal")


fig, axes = plt.subplots(1, 2, figsize=(9, 4))
show_points(axes[0], separable, "Separable (the + is the origin)")
show_points(axes[1], xor, "XOR: same sign -> 1 (red)")
fig.tight_layout();

# %% [markdown]
# ## Part 1: Rosenblatt's rule
#
# A perceptron with weights $w$ and bias $b$ answers $\hat y = 1$ if $x \cdot w + b > 0$, else
# $\hat y = 0$. Rosenblatt's rule visits the training examples one at a time and, for each
# example $(x, y)$ with label $y \in \{0, 1\}$, updates
#
# $$w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y).$$
#
# A right answer changes nothing ($y - \hat y = 0$). A missed 1 adds the input to the weights;
# a false alarm subtracts it. One pass over all examples is an **epoch**. If the two classes
# can be split by a hyperplane, the rule stops making mistakes after a finite number of
# updates (the perceptron convergence theorem).
#
# Look at the separable points above: the dividing line does **not** pass through the origin.
# Without the bias $b$, your perceptron could only draw lines through the origin, and it would
# get about half of these points wrong.
#
# ## Your task: `perceptron_fit(X, y, epochs=20, learning_rate=0.1)`
# - `X`: float array of shape `(n_examples, n_features)`; `y`: integer labels 0 or 1;
# - start from zero weights and a zero bias, and apply the rule above for `epochs` passes;
# - return `(w, b)`: `w` a NumPy array of shape `(n_features,)`, `b` a single number;
# - the grader calls it on points in **4 dimensions** it draws itself, then predicts
#   `X @ w + b > 0` on fresh points from the same distribution. Plain NumPy only.

# %% [solution] id=perceptron_fit from=solutions.perceptron:perceptron_fit
def perceptron_fit(X, y, epochs=20, learning_rate=0.1):
    """Train a perceptron with Rosenblatt's rule; return ``(w, b)``.

    X: float array (n_examples, n_features). y: integer labels, 0 or 1.
    Returns w, a NumPy array of shape (n_features,), and b, one number; the prediction is
    1 where ``X @ w + b > 0``. Graded on held-out points the grader draws itself.
    """

# %% [markdown]
# ### Try it
# Your line after training, over the training points. (This cell and the other "Try it" cells
# carry the tag `skip-grading`: the grader does not run them.)

# %% [code] tags=skip-grading
w, b = perceptron_fit(separable.x_train, separable.y_train, epochs=20, learning_rate=0.1)
print("w =", np.round(w, 3), " b =", round(float(b), 3))
fig, ax = plt.subplots(figsize=(4.5, 4))
show_points(ax, separable, "Your perceptron's line")
xs = np.linspace(*ax.get_xlim(), 2)
if abs(w[1]) > 1e-12:
    ax.plot(xs, -(w[0] * xs + b) / w[1], "k-")
fig.tight_layout();

# %% [markdown]
# ### Check ({{test_perceptron_fit_heldout.points}} points)
# The visible part checks your function on the notebook's data. When graded, it is called on
# fresh 4-dimensional points and scored by accuracy on held-out points:
# {{test_perceptron_fit_heldout.threshold}} or more earns all
# {{test_perceptron_fit_heldout.points}} points, {{test_perceptron_fit_heldout.floor}} or less
# none, linear in between.

# %% [test] id=test_perceptron_fit_heldout
w, b = perceptron_fit(separable.x_train, separable.y_train, epochs=20, learning_rate=0.1)
w = np.asarray(w)
assert w.shape == (2,), f"expected w of shape (2,), got {w.shape}"
assert np.size(b) == 1, f"expected a single number for b, got shape {np.shape(b)}"
train_acc = float(((separable.x_train @ w + b > 0) == separable.y_train).mean())
test_acc = float(((separable.x_test @ w + b > 0) == separable.y_test).mean())
print(f"training accuracy {train_acc:.3f}, test accuracy {test_acc:.3f}")
assert float(b) != 0.0, "b is still 0: update the bias too, b += learning_rate * (y - prediction)"
assert test_acc >= 0.9, f"expected test accuracy >= 0.9, got {test_acc:.3f}"
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("perceptron", "test_perceptron_fit_heldout", globals())
### END HIDDEN TESTS

# %% [markdown]
# ## Part 2: the same neuron in Keras, and the XOR wall
#
# Keras' `Dense(1, activation="sigmoid")` is a perceptron with a smooth step: it outputs
# $\sigma(x \cdot w + b) = 1 / (1 + e^{-(x \cdot w + b)})$, a probability between 0 and 1, and
# the prediction is 1 above 0.5, that is exactly where $x \cdot w + b > 0$. The smooth step
# is what lets gradient descent train it (Part 3).
#
# ## Your task: `build_perceptron(input_dim)`
# Return a **compiled** `keras.Model`:
# - input: `input_dim` numbers per example; output: **one** probability per example, shape
#   `(batch, 1)` (one `Dense` unit with a sigmoid; a softmax over two units is the wrong shape);
# - no hidden layer: this is a single neuron;
# - compile it with an optimizer, `loss="binary_crossentropy"` (labels are 0/1) and
#   `metrics=["accuracy"]`. Adam with a learning rate around 0.05 learns this in a few epochs;
#   at Adam's default 0.001 the bias creeps towards its value more slowly, but still within
#   the grader's budget;
# - keep to the rules below: the grader rebuilds your model from its configuration.

# %% [rules]

# %% [solution] id=build_perceptron from=solutions.perceptron:build_perceptron
def build_perceptron(input_dim):
    """Return a compiled single-neuron keras.Model.

    Input: ``input_dim`` numbers per example. Output: one probability per example, shape
    (batch, 1). Graded by training on separable points (see "Graded by training").
    """

# %% [markdown]
# ### Visible checks
# These run when you execute them, and again when your notebook is graded
# ({{test_perceptron_builds.points}} points each).

# %% [test] id=test_perceptron_builds
model = build_perceptron(2)
assert isinstance(model, keras.Model), f"expected a keras.Model, got {type(model).__name__}"
from autograder.visible import assert_rebuilds  # the grader's own rebuild test
assert_rebuilds(model, input_shape=(2,), max_params={{perceptron.max_params}},
                max_activations={{perceptron.max_activations}})
model.summary()

# %% [test] id=test_perceptron_output_shape
model = build_perceptron(2)
assert tuple(model.output_shape) == (None, 1), (
    f"expected output shape (None, 1): one probability per example, got {model.output_shape}")

# %% [test] id=test_perceptron_compiled
model = build_perceptron(2)
assert model.optimizer is not None and model.loss is not None, (
    "the model is not compiled: call model.compile(optimizer=..., loss=..., metrics=[...])")

# %% [markdown]
# ### Try it: separable points, then XOR
# Train your perceptron on both data sets and draw its decision regions (the background colour
# is the class it predicts). On the separable points it finds the line; on XOR no line helps.

# %% [code] tags=skip-grading
def decision_regions(ax, model, splits, title):
    lo, hi = splits.x_train.min(0) - 0.3, splits.x_train.max(0) + 0.3
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 150), np.linspace(lo[1], hi[1], 150))
    grid = np.stack([gx.ravel(), gy.ravel()], 1).astype("float32")
    prob = np.asarray(model.predict(grid, batch_size=4096, verbose=0)).reshape(gx.shape)
    ax.contourf(gx, gy, prob > 0.5, levels=[-0.5, 0.5, 1.5], cmap="coolwarm", alpha=0.25)
    ax.scatter(*splits.x_test.T, c=splits.y_test, cmap="coolwarm", s=6)
    acc = training.accuracy(model, splits.x_test, splits.y_test)
    ax.set(title=f"{title}: test accuracy {acc:.2f}")


fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, splits, name in [(axes[0], separable, "separable"), (axes[1], xor, "XOR")]:
    runtime.seed_everything(0)
    model = build_perceptron(2)
    training.fit(model, splits.x_train, splits.y_train,
                 budget=training.Budget(epochs=30, batch_size=8))
    decision_regions(ax, model, splits, f"perceptron, {name}")
fig.tight_layout();

# %% [markdown]
# ### Graded by training ({{test_perceptron_accuracy.points}} points)
# The grader rebuilds your model in a separate, trusted process, trains it with a fixed seed
# for **{{perceptron.epochs}} epochs** (batch {{perceptron.batch_size}}) on separable points
# drawn with a seed you do not see, and measures accuracy on held-out points:
# {{test_perceptron_accuracy.threshold}} or more earns all {{test_perceptron_accuracy.points}}
# points, {{test_perceptron_accuracy.floor}} or less none.

# %% [test] id=test_perceptron_accuracy
print("This check trains your model when the notebook is graded.")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("perceptron", "test_perceptron_accuracy", globals())
### END HIDDEN TESTS

# %% [markdown]
# ## Part 3: depth, loss, optimizer, backpropagation
#
# **Why depth helps.** XOR is "one of the two, but not both". A hidden layer of a few units can
# draw several lines (say, "x1 > 0" and "x2 > 0"), and the output unit combines their answers
# into a region no single line can bound. The hidden units need a **nonlinear** activation
# (ReLU, tanh, ...): without one, a layer computes $xW + b$, and a stack of such layers is
# again $xW' + b'$, one linear map, however many layers or units it has.
#
# **How it learns.** Rosenblatt's rule needs to know what each unit *should* have output, and
# nobody says that for hidden units. Gradient descent replaces it, in three parts:
# - the **loss** measures how wrong the outputs are, as one number. For a probability $p$ of
#   class 1 and a label $y$, binary cross-entropy is $-[y \log p + (1 - y)\log(1 - p)]$,
#   averaged over a batch: near 0 for confident right answers, large for confident wrong ones;
# - **backpropagation** computes the gradient of that loss with respect to every weight, by
#   the chain rule, walking from the output back through each layer and reusing each layer's
#   result for the one below, so one backward pass costs about two forward passes (each layer
#   computes one gradient for its weights and one for its inputs);
# - the **optimizer** moves each weight a small step against its gradient: plain SGD does
#   $w \leftarrow w - \eta\,\partial L/\partial w$; Adam adapts the step size per weight.
#
# The gradient is only as good as the code that computes it, so let us check it.

# %% [markdown]
# ### Exercise (not graded): check Keras' gradient with finite differences
# For any weight $w_i$, the slope of the loss can be estimated by nudging that one weight:
#
# $$\frac{\partial L}{\partial w_i}
#   \approx \frac{L(w_i + \epsilon) - L(w_i - \epsilon)}{2\epsilon}.$$
#
# It costs two loss evaluations per weight (far too slow for training, fine for a check).
# The helpers below give you the loss for the model's current weights and the gradient Keras
# computes (read off one step of plain SGD with learning rate 1: the step *is* the gradient).
# Complete `numeric_gradient`, then run the comparison: the two should agree to about 1e-3
# (the model computes in float32, so finite differences cannot be much more exact).

# %% [code] tags=skip-grading
def loss_value(model, x, y):
    """The model's binary cross-entropy on (x, y) for its current weights, as a float."""
    probs = model(x, training=False)
    return float(keras.ops.convert_to_numpy(keras.losses.BinaryCrossentropy()(y, probs)))


def keras_gradient(model, x, y):
    """Keras' gradient of that loss for every weight array (the model's weights are kept)."""
    before = [w.copy() for w in model.get_weights()]
    probe = keras.models.clone_model(model)
    probe.set_weights(before)
    probe.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0),
                  loss=keras.losses.BinaryCrossentropy())
    probe.train_on_batch(x, y)
    return [old - new for old, new in zip(before, probe.get_weights())]


runtime.seed_everything(1)
tiny = keras.Sequential([keras.Input((2,)), layers.Dense(3, activation="tanh"),
                         layers.Dense(1, activation="sigmoid")])
x_small, y_small = xor.x_train[:8], xor.y_train[:8, None].astype("float32")
print("weight shapes:", [w.shape for w in tiny.get_weights()],
      " loss:", round(loss_value(tiny, x_small, y_small), 4))

# %% [code] tags=skip-grading
def numeric_gradient(model, x, y, eps=1e-3):
    """Central finite differences: one array per weight array, same shapes as the weights."""
    weights = [w.astype("float64") for w in model.get_weights()]
    grads = [np.zeros_like(w) for w in weights]
    for k, w in enumerate(weights):
        for idx in np.ndindex(w.shape):
            # YOUR CODE HERE: set weight w[idx] to its value + eps, read the loss with
            # model.set_weights(...) and loss_value(...), do the same for - eps, and store
            # (loss_plus - loss_minus) / (2 * eps) in grads[k][idx]. Put the weight back.
            raise NotImplementedError("complete numeric_gradient, then run the next cell")
    model.set_weights(weights)
    return grads

# %% [code] tags=skip-grading
try:
    numeric = numeric_gradient(tiny, x_small, y_small)
except NotImplementedError as todo:
    print("Not done yet:", todo)
else:
    from_keras = keras_gradient(tiny, x_small, y_small)
    for name, a, g in zip(["W1", "b1", "W2", "b2"], numeric, from_keras):
        print(f"{name}: largest difference {np.abs(a - g).max():.1e}")
    assert all(np.allclose(a, g, atol=1e-3) for a, g in zip(numeric, from_keras)), (
        "finite differences and Keras disagree: check the sign and the 2 * eps")
    print("Keras' gradients match the finite differences.")

# %% [markdown]
# Try `eps=1e-1` (the slope is measured over too wide a step) and `eps=1e-6` (float32 rounding
# swamps the tiny change in the loss): the agreement gets worse both ways.

# %% [markdown]
# ### Your task: backpropagation by hand, `mlp_backward(X, y, W1, b1, W2, b2)`
# Now compute those gradients yourself, in **NumPy**, for a network shaped like `tiny`: one
# hidden layer of tanh units and one sigmoid output. Forward, for $n$ examples:
#
# $$a = X W_1 + b_1, \quad h = \tanh(a), \quad z = h W_2 + b_2, \quad p = \sigma(z),$$
#
# $$L = -\frac{1}{n} \sum_{k=1}^{n} \left[\, y_k \log p_k + (1 - y_k) \log(1 - p_k) \right].$$
#
# - `X`: (n, D) inputs; `y`: (n,) labels, 0 or 1;
# - `W1`: (D, H), `b1`: (H,), `W2`: (H, 1), `b2`: (1,): Keras' layout (a `Dense` layer's
#   kernel is (inputs, units), so the layer computes `X @ W1 + b1`), in the order
#   `tiny.get_weights()` returns them;
# - return the tuple `(dW1, db1, dW2, db2)`, the gradients of $L$, each **the shape of its
#   weight** (so `db2` has shape (1,)).
#
# Backpropagation walks the chain rule from $L$ back to each weight. The facts you need:
# - at the output logit, the sigmoid and the cross-entropy together simplify to
#   $\partial L / \partial z_k = (p_k - y_k) / n$ for example $k$ (the $1/n$ is the mean);
# - $\tanh'(a) = 1 - \tanh(a)^2 = 1 - h^2$, element by element;
# - every gradient has the shape of what it is the gradient of: that tells you which arrays to
#   multiply, which to transpose, and which axis a bias's gradient sums over (the examples).
#
# Mind the shapes: `y` is (n,) while `p` is (n, 1), and `p - y` silently broadcasts to
# (n, n). Make `y` a column first.
#
# **How it is graded** ({{test_mlp_backward.points}} points). The grader calls your function on
# networks it draws itself: `tiny`'s size, wider ones, a single example, saturated tanh units
# (large first-layer weights) and labels all 1. Each case is compared with the exact gradients
# to within 0.000001 plus 0.0001 times their size, and earns an equal share of the points; a
# failing case's feedback says which common mistake it looks like.

# %% [solution] id=mlp_backward from=solutions.perceptron:mlp_backward
def mlp_backward(X, y, W1, b1, W2, b2):
    """Backpropagation in NumPy for p = sigmoid(tanh(X @ W1 + b1) @ W2 + b2).

    X: (n, D). y: (n,), labels 0 or 1. W1: (D, H). b1: (H,). W2: (H, 1). b2: (1,). The loss
    is the mean binary cross-entropy over the n examples. Returns the tuple (dW1, db1, dW2,
    db2) of its gradients, shaped like W1, b1, W2 and b2. Graded against the exact gradients
    on networks the grader draws (within 1e-6 + 1e-4 relative).
    """

# %% [markdown]
# ### Visible check
# The check below measures the slopes of $L$ with finite differences, in NumPy and in float64
# (so it can be far more exact than with Keras' float32), and compares them with yours.

# %% [test] id=test_mlp_backward
rng = np.random.default_rng(0)
X_check, y_check = rng.normal(size=(6, 2)), np.array([0, 1, 1, 0, 1, 0])
weights = [rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(3, 1)),
           rng.normal(size=1)]
grads = mlp_backward(X_check, y_check, *weights)
assert len(grads) == 4, "return the tuple (dW1, db1, dW2, db2)"
for name, g, w in zip(["dW1", "db1", "dW2", "db2"], grads, weights):
    assert np.shape(g) == w.shape, f"{name}: expected shape {w.shape}, got {np.shape(g)}"


def check_loss(W1, b1, W2, b2):
    """The mean binary cross-entropy on (X_check, y_check), forward only."""
    p = 1 / (1 + np.exp(-(np.tanh(X_check @ W1 + b1) @ W2 + b2)[:, 0]))
    return -np.mean(y_check * np.log(p) + (1 - y_check) * np.log(1 - p))


for k, name in enumerate(["dW1", "db1", "dW2", "db2"]):
    numeric = np.zeros_like(weights[k])
    for idx in np.ndindex(weights[k].shape):
        nudged = [[w.copy() for w in weights] for _ in range(2)]
        nudged[0][k][idx] += 1e-6
        nudged[1][k][idx] -= 1e-6
        numeric[idx] = (check_loss(*nudged[0]) - check_loss(*nudged[1])) / 2e-6
    assert np.allclose(grads[k], numeric, atol=1e-6, rtol=1e-4), (
        f"{name} differs from the finite differences by up to "
        f"{np.abs(np.asarray(grads[k]) - numeric).max():.2e}:\nyours\n{np.asarray(grads[k])}"
        f"\nfinite differences\n{numeric}")
print("mlp_backward agrees with finite differences")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("perceptron", "test_mlp_backward", globals())
### END HIDDEN TESTS

# %% [markdown]
# ### Try it: your gradients against Keras'
# `tiny` has exactly this shape, so your function can take its weights as they are. Keras
# computes in float32: expect differences of about 1e-7, not 0.

# %% [code] tags=skip-grading
ours = mlp_backward(x_small, y_small[:, 0], *tiny.get_weights())
from_keras = keras_gradient(tiny, x_small, y_small)
for name, a, g in zip(["W1", "b1", "W2", "b2"], ours, from_keras):
    print(f"d{name}: largest difference from Keras {np.abs(np.asarray(a) - g).max():.1e}")
assert all(np.allclose(a, g, atol=1e-4) for a, g in zip(ours, from_keras)), (
    "your gradients and Keras' disagree")
print("Your backpropagation matches Keras'.")

# %% [markdown]
# ## Your task: `build_mlp(input_dim)`
# Return a **compiled** `keras.Model` that solves XOR:
# - input: `input_dim` numbers; output: one probability per example, shape `(batch, 1)`;
# - at least one hidden `Dense` layer **with a nonlinear activation** (`"relu"` or `"tanh"`),
#   then `Dense(1, activation="sigmoid")`; a dozen or so hidden units are plenty;
# - compile it with an optimizer (Adam with a learning rate around 0.01 trains fast),
#   `loss="binary_crossentropy"` and `metrics=["accuracy"]`.

# %% [solution] id=build_mlp from=solutions.perceptron:build_mlp
def build_mlp(input_dim):
    """Return a compiled keras.Model that can learn XOR.

    Input: ``input_dim`` numbers per example. Output: one probability per example, shape
    (batch, 1). Graded by training on XOR points (see "Graded by training").
    """

# %% [markdown]
# ### Visible checks ({{test_mlp_builds.points}} points each)

# %% [test] id=test_mlp_builds
model = build_mlp(2)
assert isinstance(model, keras.Model), f"expected a keras.Model, got {type(model).__name__}"
from autograder.visible import assert_rebuilds  # the grader's own rebuild test
assert_rebuilds(model, input_shape=(2,), max_params={{mlp.max_params}},
                max_activations={{mlp.max_activations}})
model.summary()

# %% [test] id=test_mlp_output_shape
model = build_mlp(2)
assert tuple(model.output_shape) == (None, 1), (
    f"expected output shape (None, 1): one probability per example, got {model.output_shape}")

# %% [test] id=test_mlp_compiled
model = build_mlp(2)
assert model.optimizer is not None and model.loss is not None, (
    "the model is not compiled: call model.compile(optimizer=..., loss=..., metrics=[...])")

# %% [markdown]
# ### Try it
# Train your MLP on XOR and compare its decision regions with the perceptron's.

# %% [code] tags=skip-grading
runtime.seed_everything(0)
mlp = build_mlp(2)
result = training.fit(mlp, xor.x_train, xor.y_train,
                      budget=training.Budget(epochs=100, batch_size=16),
                      validation_data=(xor.x_val, xor.y_val))
fig, ax = plt.subplots(figsize=(5, 4.5))
decision_regions(ax, mlp, xor, "MLP, XOR")
fig.tight_layout();

# %% [handin]

# %% [markdown]
# ## Graded by training ({{test_mlp_accuracy.points}} points)
# The grader trains your MLP with a fixed seed for **{{mlp.epochs}} epochs** (batch
# {{mlp.batch_size}}) on XOR points drawn with a seed you do not see, and measures accuracy on
# held-out points: {{test_mlp_accuracy.threshold}} or more earns all
# {{test_mlp_accuracy.points}} points, {{test_mlp_accuracy.floor}} or less none. A model without
# a nonlinear hidden layer stays near 0.5.

# %% [test] id=test_mlp_accuracy
print("This check trains your model when the notebook is graded.")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("perceptron", "test_mlp_accuracy", globals())
### END HIDDEN TESTS
