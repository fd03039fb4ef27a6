# %% [markdown]
# # Assignment: convolutional networks
#
# In 1998 Yann LeCun and colleagues trained **LeNet-5** to read handwritten digits on bank
# cheques. Its trick was not a bigger network but a better-shaped one: instead of connecting
# every pixel to every unit, it slid small **filters** over the image (convolution) and
# summarised neighbourhoods (**pooling**).
#
# - A **convolution** applies the same small filter (say 3x3 weights) at every position of the
#   image. A filter that responds to a vertical stroke responds to it *wherever it is*, and it
#   needs only 9 weights, not one per pixel. This weight sharing is why convolution suits images:
#   the meaning of a local pattern does not depend on where it sits.
# - **Pooling** (max or average over small windows) shrinks the feature maps, so later filters
#   see a wider area, and it makes the response tolerant to small shifts. *Global* pooling takes
#   the maximum (or mean) over the whole map: "is this pattern anywhere in the image?"
#
# A dense layer on raw pixels has none of this: it must learn each pattern separately at each
# position. In this assignment you will see that difference decide the grade. Lecture 3
# (`course/lectures/03_cnn.py`) prepares it.

# %% [markdown]
# ## Setup
# Run this cell first. It picks the Keras backend (TensorFlow unless `KERAS_BACKEND` says
# otherwise), says which device you are on, and loads the data.

# %% [setup] id=setup
import numpy as np
import keras
from keras import layers

from course import data, plots, runtime, training

print("Keras", keras.__version__, "on", runtime.detect_device())
digits = data.load_translated_digits(canvas=16, seed=0)
print("examples:", digits.sizes(), "image shape:", digits.input_shape)
plots.image_grid(digits.x_train[:20], ncols=10, labels=digits.y_train[:20],
                 title="Digits placed at random positions on a 16x16 canvas");

# %% [markdown]
# ## Part 1: a convolution and max pooling by hand
#
# Before Keras does it for you, write what a `Conv2D` layer and a `MaxPooling2D` layer compute,
# in **NumPy**, for a whole batch at once. Images are *channels last*: `x` has shape
# (batch, H, W, C_in).
#
# `conv2d_forward(x, kernel, bias, stride=1, padding=0)`:
# - `kernel` has shape (kh, kw, C_in, C_out) and `bias` (C_out,): exactly the arrays
#   `layers.Conv2D(C_out, (kh, kw)).get_weights()` returns;
# - first add `padding` rows and columns of zeros on **every** side of each image
#   (`np.pad`), then slide the kernel over the padded image, `stride` pixels at a time, in both
#   directions;
# - at each position, output channel `c` is the sum over the kh x kw x C_in window of
#   `window * kernel[..., c]`, plus `bias[c]`. The kernel is **not flipped**: Keras (like
#   every deep-learning library) computes this cross-correlation, as lecture 3 shows;
# - return shape (batch, H_out, W_out, C_out), with
#   H_out = (H + 2 * padding - kh) // stride + 1, and W_out alike. No activation.
#
# `max_pool2d_forward(x, pool_size=2, stride=None)`: the maximum of each pool_size x pool_size
# window, windows every `stride` pixels (`None` means `stride = pool_size`, as in Keras), no
# padding: shape (batch, (H - pool_size) // stride + 1, (W - pool_size) // stride + 1, C).
#
# Loops over the output positions are fine; a faster way loops over the kh x kw kernel
# positions instead and does every output pixel at once with `@`.
#
# **How it is graded**: the grader calls your functions on inputs it draws itself when it
# grades (8 convolution cases: several channels, strides 1 to 3, paddings 0 to 2, square and
# non-square kernels; 6 pooling cases, one all negative) and compares each result with its
# own within 0.0001 (convolution) and 0.000001 (pooling). The points follow the share of cases
# that match; the feedback shows the first case that does not, what was expected and what came
# back.

# %% [solution] id=conv2d_forward from=solutions.cnn:conv2d_forward

# %% [solution] id=max_pool2d_forward from=solutions.cnn:max_pool2d_forward

# %% [markdown]
# ### Visible checks for Part 1
# Your functions against Keras' own layers with the same weights ({{test_conv2d_forward.points}}
# and {{test_max_pool2d_forward.points}} points when graded, on the grader's own cases).

# %% [test] id=test_conv2d_forward
rng = np.random.default_rng(0)
x = rng.normal(size=(2, 9, 9, 3)).astype("float32")
conv = layers.Conv2D(4, (3, 3), strides=2)
conv.build(x.shape)
kernel, bias = conv.get_weights()
bias = rng.normal(size=4).astype("float32")
conv.set_weights([kernel, bias])
padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
expected = keras.ops.convert_to_numpy(conv(padded))  # Keras with the same weights
out = np.asarray(conv2d_forward(x, kernel, bias, stride=2, padding=1))
assert out.shape == expected.shape, f"expected shape {expected.shape}, got {out.shape}"
assert np.allclose(out, expected, atol=1e-4), (
    f"differs from Conv2D by up to {np.abs(out - expected).max():.3g}: is the kernel flipped, "
    "the padding on every side, the bias added?")
print("conv2d_forward equals keras.layers.Conv2D: OK")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("cnn", "test_conv2d_forward", globals())
### END HIDDEN TESTS

# %% [test] id=test_max_pool2d_forward
x = np.random.default_rng(1).normal(size=(2, 7, 7, 3)).astype("float32") - 3.0
for size, stride in [(2, None), (3, 2)]:
    expected = keras.ops.convert_to_numpy(layers.MaxPooling2D(size, stride)(x))
    out = np.asarray(max_pool2d_forward(x, size, stride))
    assert out.shape == expected.shape, f"expected shape {expected.shape}, got {out.shape}"
    assert np.allclose(out, expected), f"pool_size {size}, stride {stride}: differs from Keras"
print("max_pool2d_forward equals keras.layers.MaxPooling2D: OK")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("cnn", "test_max_pool2d_forward", globals())
### END HIDDEN TESTS

# %% [markdown]
# ## Part 2: the task
# Each 8x8 scikit-learn digit was placed at a random position on a blank 16x16 canvas. The same
# "3" appears at the top left in one image and the bottom right in another. A small dense
# network (Flatten then Dense layers) gets under 50 % here, and even the widest one allowed
# stays under 66 %; a small CNN gets over 90 %.
#
# ## Your task: `build_cnn(input_shape, num_classes)`
# Write a function that returns a **compiled** `keras.Model`:
# - input: images of shape `input_shape`, e.g. `(16, 16, 1)`, float32 in [0, 1];
# - output: one score per class, shape `(batch, num_classes)`: probabilities (softmax) or logits
#   (then use a loss with `from_logits=True`); the grader takes the `argmax`;
# - compile it yourself: choose the optimizer, the loss (labels are integer ids, so a *sparse*
#   categorical cross-entropy) and `metrics=["accuracy"]`;
# - keep to the rules below: the grader rebuilds your model from its configuration, with at
#   most {{cnn.max_params}} parameters.
#
# Ideas: a few `Conv2D` layers with `relu`, `MaxPooling2D` between them, then a global pooling
# layer and a small `Dense` head.

# %% [rules]

# %% [solution] id=build_cnn from=solutions.cnn:build_cnn

# %% [markdown]
# ## Visible checks
# These run when you execute them, and again when your notebook is graded
# ({{test_cnn_builds.points}} point each).

# %% [test] id=test_cnn_builds
model = build_cnn((16, 16, 1), 10)
assert isinstance(model, keras.Model), f"expected a keras.Model, got {type(model).__name__}"
from autograder.visible import assert_rebuilds  # the grader's own rebuild test
assert_rebuilds(model, input_shape=(16, 16, 1), max_params={{cnn.max_params}},
                max_activations={{cnn.max_activations}})
model.summary()

# %% [test] id=test_cnn_output_shape
model = build_cnn((16, 16, 1), 10)
assert tuple(model.output_shape) == (None, 10), (
    f"expected output shape (None, 10), got {model.output_shape}")

# %% [test] id=test_cnn_compiled
model = build_cnn((16, 16, 1), 10)
assert model.optimizer is not None and model.loss is not None, (
    "the model is not compiled: call model.compile(optimizer=..., loss=..., metrics=[...])")

# %% [markdown]
# ## Try it
# Train your model for a few epochs and look at the learning curves. This cell carries the tag
# `skip-grading`: the grader does not run it (and skips `model.fit` in any other cell), because
# it trains your model itself. Tag your own exploration cells the same way.

# %% [code] tags=skip-grading
model = build_cnn(digits.input_shape, digits.num_classes)
result = training.fit(model, digits.x_train, digits.y_train,
                      budget=training.Budget(epochs=5, batch_size=64),
                      validation_data=(digits.x_val, digits.y_val))
print("validation accuracy:", round(result.history["val_accuracy"][-1], 3))
plots.learning_curves(result.history, title="Your CNN, 5 epochs");

# %% [markdown]
# ## Graded by training ({{test_cnn_accuracy.points}} points)
# The grader rebuilds your model from its configuration in a separate, trusted process and
# trains it from scratch with a fixed seed (batch {{cnn.batch_size}}) on the training split for
# up to **{{cnn.epochs}} epochs**, stopping once validation accuracy has not improved for
# {{cnn.patience}} epochs and keeping the best weights. It then measures accuracy on held-out
# test digits. Accuracy of {{test_cnn_accuracy.threshold}} or more earns all
# {{test_cnn_accuracy.points}} points, {{test_cnn_accuracy.floor}} or less earns none, and
# points grow linearly in between: the widest dense network allowed stays at or below the
# floor, so only shared local filters earn these points. Your feedback shows the learning
# curves and a confusion matrix.

# %% [test] id=test_cnn_accuracy
print("This check trains your model when the notebook is graded.")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("cnn", "test_cnn_accuracy", globals())
### END HIDDEN TESTS
