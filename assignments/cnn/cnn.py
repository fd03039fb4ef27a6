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
# position, and so must a recurrent network that reads the image row by row (each row goes
# through a dense map). In this assignment you will see that difference decide the grade.
#
# In this assignment you will:
# 1. write a convolution and max pooling in NumPy (`conv2d_forward`, `max_pool2d`) and check
#    them against Keras' own `Conv2D` and `MaxPooling2D`;
# 2. build a small CNN in Keras (`build_cnn`) that finds patterns anywhere on a canvas.
#
# Lecture 3 (`course/lectures/03_cnn.py`) prepares it.

# %% [markdown]
# ## Setup
# Run this cell first. It picks the Keras backend (TensorFlow unless `KERAS_BACKEND` says
# otherwise), says which device you are on, draws the images (generated, the same every time
# for seed 0) and shows the four patterns and a few images.

# %% [setup] id=setup
import keras
from keras import layers

import numpy as np

from course import motifs, plots, runtime, training

print("Keras", keras.__version__, "on", runtime.detect_device())
images = motifs.load_motifs(canvas=16, copies=3, seed=0)
print("examples:", images.sizes(), "image shape:", images.input_shape)
plots.image_grid(np.stack([motifs.motif(m) for m in motifs.CLASSES]), ncols=4,
                 labels=[f"class {k}" for k in range(4)], title="The four patterns");
plots.image_grid(images.x_train[:20], ncols=10, labels=images.y_train[:20],
                 title="Three copies of the class pattern among four distractors");

# %% [markdown]
# ## Part 1: convolution and pooling by hand
#
# Before you stack Keras' layers, write what two of them compute, in **NumPy** only. Images are
# *channels last*, as in Keras: a batch `x` has shape (batch, H, W, C), C channels per pixel
# (1 for a grey image, 3 for colour, F after a layer of F filters).
#
# ### `conv2d_forward(x, kernel, bias, stride=1, padding="valid")`
# - `kernel` has shape (kh, kw, C, F): F filters, each kh x kw x C (it spans every input
#   channel); `bias` has shape (F,), one number per filter;
# - output channel f at position (i, j) is the filter laid on the input patch whose top-left
#   corner is (i s, j s), with s the stride: multiply element by element, sum over the kh x kw x C
#   numbers, add `bias[f]`:
#
# $$\mathrm{out}[n, i, j, f] = \mathrm{bias}[f] + \sum_{a < k_h} \sum_{b < k_w} \sum_{c < C}
#   x[n,\, i s + a,\, j s + b,\, c]\; \mathrm{kernel}[a, b, c, f]$$
#
# - this is **cross-correlation**: Keras' `Conv2D` does *not* flip the kernel, as the textbook
#   convolution does. For a layer that learns its weights the two are the same up to how the
#   weights are stored, but here the numbers are compared, so do not flip;
# - `padding="valid"`: no padding; a filter is only laid where it fits entirely, so the output
#   is H_out = (H - kh) // s + 1 rows high, and W_out = (W - kw) // s + 1 columns wide;
# - `padding="same"`: zeros around `x` so that H_out = ceil(H / s) (= H for stride 1). The rows
#   of zeros needed in all are max((H_out - 1) s + kh - H, 0); put floor(total / 2) above and
#   the rest below (when the total is odd, the extra zero row goes at the bottom). The same
#   across the width: floor(total / 2) on the left, the rest on the right. `np.pad` adds them;
# - return the output, shape (batch, H_out, W_out, F).
#
# Loops over the output positions are fine at these sizes. (Faster versions loop over the
# kh x kw offsets inside the kernel instead, and treat every output position at once with
# strided slices of `x`.)
#
# ### `max_pool2d(x, pool_size=2, stride=None)`
# - windows of pool_size x pool_size pixels, `stride` apart (when `stride` is None it equals
#   `pool_size`: windows side by side, no overlap); each channel on its own;
# - each window gives its **largest** value (mind inputs that are all negative);
# - "valid" only: a window that would stick out past the edge is dropped, so
#   H_out = (H - pool_size) // stride + 1, and the same across the width;
# - return shape (batch, H_out, W_out, C).
#
# **How it is graded.** The grader calls each function on inputs it draws itself: for
# `conv2d_forward` several channels and filters, a kernel that is not square, strides 1 to 3,
# both paddings (with odd and even totals of zeros); for `max_pool2d` sizes that do not divide
# evenly, overlapping windows and all-negative inputs. Each case is compared with the grader's
# own answer (what Keras computes) to within 0.0001 for `conv2d_forward` and 0.000001 for
# `max_pool2d`, and each case that matches earns its share of the points:
# {{test_conv2d_forward.points}} for `conv2d_forward`, {{test_max_pool2d.points}} for
# `max_pool2d`. A failing case's feedback names the common mistake it looks like.

# %% [solution] id=conv2d_forward from=solutions.cnn:conv2d_forward
def conv2d_forward(x, kernel, bias, stride=1, padding="valid"):
    """Keras' Conv2D forward pass in NumPy (channels last, no kernel flip).

    x: (batch, H, W, C). kernel: (kh, kw, C, F). bias: (F,). stride: an int, the same along
    both axes. padding: "valid" or "same" (output ceil(H / stride) by ceil(W / stride), zeros
    split floor-half before and the rest after). Returns an array (batch, H_out, W_out, F).
    Graded against the grader's own on inputs it draws (within 1e-4).
    """

# %% [solution] id=max_pool2d from=solutions.cnn:max_pool2d
def max_pool2d(x, pool_size=2, stride=None):
    """Keras' MaxPooling2D forward pass in NumPy ("valid" padding, channels last).

    x: (batch, H, W, C). pool_size: the window's side. stride: the step between windows
    (None means pool_size). Returns an array (batch, H_out, W_out, C) holding each window's
    largest value. Graded against the grader's own on inputs it draws (within 1e-6).
    """

# %% [markdown]
# ### Visible checks for Part 1
# Small cases you can check by hand, then a comparison with Keras' layers given the same
# weights. When graded, the grader runs its own, harder cases (see above).

# %% [test] id=test_conv2d_forward
x = np.arange(16.0).reshape(1, 4, 4, 1)  # one 4x4 image, one channel: x[i, j] = 4 i + j
kernel = np.zeros((2, 2, 1, 1))
kernel[0, 0, 0, 0], kernel[1, 1, 0, 0] = 1.0, -1.0  # top-left minus bottom-right
out = np.asarray(conv2d_forward(x, kernel, np.array([0.5])))
assert out.shape == (1, 3, 3, 1), f"expected shape (1, 3, 3, 1) (4 - 2 + 1), got {out.shape}"
assert not np.allclose(out, 5.5), "you flipped the kernel: Conv2D computes cross-correlation"
assert np.allclose(out, -4.5), (
    f"every output should be x[i, j] - x[i+1, j+1] + 0.5 = -5 + 0.5 = -4.5, got\n{out[0, ..., 0]}")
ones = np.ones((1, 4, 4, 1))
out = np.asarray(conv2d_forward(ones, np.ones((3, 3, 1, 1)), np.zeros(1), stride=2,
                                padding="same"))
assert out.shape == (1, 2, 2, 1), f"expected shape (1, 2, 2, 1) (ceil(4 / 2)), got {out.shape}"
assert np.allclose(out[0, ..., 0], [[9, 6], [6, 4]]), (
    "'same' padding with stride 2 on a 4x4 input needs 1 row and 1 column of zeros, after the "
    f"input (bottom, right): windows of 9, 6, 6 and 4 ones; got\n{out[0, ..., 0]}")
rng = np.random.default_rng(0)
x = rng.normal(size=(2, 7, 8, 3)).astype("float32")
for stride, padding in [(1, "valid"), (1, "same"), (2, "valid"), (2, "same"), (3, "same")]:
    layer = keras.layers.Conv2D(4, (3, 2), strides=stride, padding=padding)
    layer.build(x.shape)
    kernel = rng.normal(0, 0.5, size=(3, 2, 3, 4)).astype("float32")
    bias = rng.normal(size=4).astype("float32")
    layer.set_weights([kernel, bias])
    expected = keras.ops.convert_to_numpy(layer(x))
    out = np.asarray(conv2d_forward(x, kernel, bias, stride=stride, padding=padding))
    assert out.shape == expected.shape, (
        f"stride {stride}, {padding!r}: expected shape {expected.shape}, got {out.shape}")
    assert np.allclose(out, expected, atol=1e-4), (
        f"stride {stride}, {padding!r}: differs from keras.layers.Conv2D by up to "
        f"{np.abs(out - expected).max():.3g}")
print("conv2d_forward: OK")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("cnn", "test_conv2d_forward", globals())
### END HIDDEN TESTS

# %% [test] id=test_max_pool2d
x = np.array([[1, 2, 5, 0],
              [3, 4, -1, 6],
              [0, -2, 7, 8],
              [-3, -4, 9, 1]], dtype=float).reshape(1, 4, 4, 1)
out = np.asarray(max_pool2d(x))
assert out.shape == (1, 2, 2, 1), f"expected shape (1, 2, 2, 1), got {out.shape}"
assert np.allclose(out[0, ..., 0], [[4, 6], [0, 9]]), (
    f"expected the largest value of each 2x2 block, [[4, 6], [0, 9]], got\n{out[0, ..., 0]}")
out = np.asarray(max_pool2d(-np.abs(x) - 1.0))
assert np.all(out < 0), "an all-negative window has a negative maximum (do not start at 0)"
rng = np.random.default_rng(0)
x = rng.normal(size=(2, 9, 9, 3)).astype("float32")
for pool_size, stride in [(2, None), (3, None), (3, 2), (2, 1)]:
    layer = keras.layers.MaxPooling2D(pool_size=pool_size, strides=stride)
    expected = keras.ops.convert_to_numpy(layer(x))
    out = np.asarray(max_pool2d(x, pool_size=pool_size, stride=stride))
    assert out.shape == expected.shape, (
        f"pool {pool_size}, stride {stride}: expected shape {expected.shape}, got {out.shape}")
    assert np.allclose(out, expected, atol=1e-6), (
        f"pool {pool_size}, stride {stride}: differs from keras.layers.MaxPooling2D")
print("max_pool2d: OK")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("cnn", "test_max_pool2d", globals())
### END HIDDEN TESTS

# %% [markdown]
# ### Try it: a filter that is the pattern
# Take one training image and one filter: the class pattern itself (shifted to mean 0, so flat
# areas give 0). Convolving with it ("same" padding) gives a map that is bright where the
# pattern is stamped, wherever that is; 2x2 max pooling halves the map and keeps the peaks.
# This is what a trained `Conv2D` layer learns to do, with filters it finds itself.

# %% [code] tags=skip-grading
import matplotlib.pyplot as plt

k = int(images.y_train[0])
pattern = motifs.motif(motifs.CLASSES[k])
kernel = (pattern - pattern.mean())[:, :, None, None]  # (3, 3, 1, 1): one filter
response = np.asarray(conv2d_forward(images.x_train[:1], kernel, np.zeros(1), padding="same"))
pooled = np.asarray(max_pool2d(response))
fig, axes = plt.subplots(1, 4, figsize=(11, 3))
panels = [(pattern, f"class {k} pattern"), (images.x_train[0, ..., 0], "image"),
          (response[0, ..., 0], f"conv: {response.shape[1:3]}"),
          (pooled[0, ..., 0], f"max pool: {pooled.shape[1:3]}")]
for ax, (picture, title) in zip(axes, panels):
    ax.imshow(picture, cmap="viridis")
    ax.set(title=title, xticks=[], yticks=[])
fig.tight_layout();

# %% [markdown]
# ## Part 2: a CNN that finds patterns anywhere
#
# ### The task
# Each class is one small 3x3 pattern of ink (shown above). An image is a 16x16 canvas of faint
# noise on which its class's pattern is stamped three times, at random places, among four
# *distractors*: 3x3 patterns of a shared set that belong to no class (two of them differ from
# a class pattern in one row only). Patterns may overlap. Name the class. The pixels come
# standardised (mean 0, standard deviation 1 over the training images).
#
# One 3x3 filter per pattern, slid over the canvas, finds it wherever it is. A dense network
# sees a different input every time the pattern moves: even the widest one allowed stays under
# 40 % (chance is 25 %). A recurrent network reading the canvas row by row must learn each
# pattern at every column apart, and stays under 75 %. LeNet-5 reaches about 90 %, a small CNN
# with global pooling about 95 %.
#
# ### Your task: `build_cnn(input_shape, num_classes)`
# Write a function that returns a **compiled** `keras.Model`:
# - input: images of shape `input_shape`, e.g. `(16, 16, 1)`, float32, standardised;
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
def build_cnn(input_shape, num_classes):
    """Return a compiled keras.Model for images.

    Input: images of shape ``input_shape``, e.g. (16, 16, 1). Output: one score per class,
    shape (batch, num_classes), probabilities or logits. Graded by training (see "Graded by
    training").
    """

# %% [markdown]
# ### Visible checks for Part 2
# These run when you execute them, and again when your notebook is graded
# ({{test_cnn_builds.points}} points each).

# %% [test] id=test_cnn_builds
model = build_cnn((16, 16, 1), 4)
assert isinstance(model, keras.Model), f"expected a keras.Model, got {type(model).__name__}"
from autograder.visible import assert_rebuilds  # the grader's own rebuild test
assert_rebuilds(model, input_shape=(16, 16, 1), max_params={{cnn.max_params}},
                max_activations={{cnn.max_activations}})
model.summary()

# %% [test] id=test_cnn_output_shape
model = build_cnn((16, 16, 1), 4)
assert tuple(model.output_shape) == (None, 4), (
    f"expected output shape (None, 4), got {model.output_shape}")

# %% [test] id=test_cnn_compiled
model = build_cnn((16, 16, 1), 4)
assert model.optimizer is not None and model.loss is not None, (
    "the model is not compiled: call model.compile(optimizer=..., loss=..., metrics=[...])")

# %% [markdown]
# ### Try it
# Train your model for a few epochs and look at the learning curves. This cell carries the tag
# `skip-grading`: the grader does not run it (and skips `model.fit` in any other cell), because
# it trains your model itself. Tag your own exploration cells the same way.

# %% [code] tags=skip-grading
model = build_cnn(images.input_shape, images.num_classes)
result = training.fit(model, images.x_train, images.y_train,
                      budget=training.Budget(epochs=5, batch_size=64),
                      validation_data=(images.x_val, images.y_val))
print("validation accuracy:", round(result.history["val_accuracy"][-1], 3))
plots.learning_curves(result.history, title="Your CNN, 5 epochs");

# %% [handin]

# %% [markdown]
# ## Graded by training ({{test_cnn_accuracy.points}} points)
# The grader rebuilds your model from its configuration in a separate, trusted process and
# trains it from scratch with a fixed seed (batch {{cnn.batch_size}}) on a fresh draw of images
# made with a seed only the grader knows (as many as yours: 1,200 to train on, 300 to
# validate), for up to **{{cnn.epochs}} epochs**, stopping once validation accuracy has not
# improved for {{cnn.patience}} epochs and keeping the best weights. It then measures accuracy
# on **400 new images you have not seen**, drawn the same way. Accuracy of
# {{test_cnn_accuracy.threshold}} or more earns all
# {{test_cnn_accuracy.points}} points, {{test_cnn_accuracy.floor}} or less earns none, and
# points grow linearly in between: the widest dense network allowed and a recurrent network
# reading rows stay at or below the floor, so only shared local filters earn these points.
# Your feedback shows the learning curves and a confusion matrix.

# %% [test] id=test_cnn_accuracy
print("This check trains your model when the notebook is graded.")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("cnn", "test_cnn_accuracy", globals())
### END HIDDEN TESTS
