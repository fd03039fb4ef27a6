# %% [markdown]
# # Lecture 3: Convolutional networks
#
# A dense layer connects every input pixel to every unit. For images that is wasteful in two
# ways: a unit that detects a stroke at the top left learns nothing about the same stroke at the
# bottom right, and the number of weights grows with the image size times the layer width.
#
# Convolutional networks build two facts about images into the architecture:
#
# - **locality**: what matters first is a small neighbourhood of pixels (an edge, a corner);
# - **translation**: a pattern means the same thing wherever it appears.
#
# The idea grew from Hubel and Wiesel's studies of the visual cortex (cells that respond to
# edges in a small patch of the visual field) and Fukushima's Neocognitron (1980); LeCun and
# colleagues made it practical with gradient training, and their LeNet-5 (1998) read
# handwritten digits on bank cheques.
#
# **The 2012 moment.** For the next decade, most computer-vision systems still used
# hand-designed features. Then, at the 2012 ImageNet challenge (1.2 million photographs, 1,000
# classes), Krizhevsky, Sutskever and Hinton's *AlexNet*, a deeper and wider LeNet with ReLU
# activations and dropout, made about 15% top-5 errors where the best other entry made about
# 26%. Two things had changed since 1998 more than the ideas had: a data set large enough to
# train millions of weights without memorising it, and graphics cards (two NVIDIA GTX 580s,
# trained for five to six days), whose thousands of arithmetic units do the convolutions' many
# multiply-adds in parallel. Within a few years nearly every vision system was a convolutional
# network. Lecture 7 returns to GPUs.
#
# This lecture computes a convolution by hand, checks it against Keras, works out what pooling
# does (and does not) buy, and then pits a dense network, a tree ensemble and a small CNN
# against each other on shapes that appear in places the models never saw during training,
# and shows why the CNN copes.

# %% [markdown]
# ## Setup

# %%
from course import runtime

runtime.configure()

import matplotlib.pyplot as plt
import numpy as np
import keras
from keras import layers, ops
from sklearn.ensemble import HistGradientBoostingClassifier

from course import data, plots, training

runtime.seed_everything(0)
rng = np.random.default_rng(0)
print("Keras", keras.__version__, "on", runtime.detect_device())
digits = data.load_digits_8x8()
digit = np.kron(digits.x_train[3, :, :, 0], np.ones((2, 2)))  # a 16x16 digit (pixels doubled)

# %% [markdown]
# ## A filter is a small pattern slid over the image
#
# A 3x3 filter holds 9 weights. At each position, multiply the 9 pixels under it by the 9
# weights and add: the result is large where the image looks like the filter. Doing this at
# every position gives a **feature map**. Written as loops, for one image and one filter:

# %%
def convolve_loops(image, kernel):
    """Slide ``kernel`` over ``image`` (no padding): out[i, j] = sum(patch at (i, j) * kernel)."""
    k_rows, k_cols = kernel.shape
    out = np.zeros((image.shape[0] - k_rows + 1, image.shape[1] - k_cols + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + k_rows, j:j + k_cols] * kernel)
    return out


vertical = np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype="float32")    # dark -> light
horizontal = np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]], dtype="float32")  # dark -> light, top to bottom
filters = np.stack([vertical, horizontal], -1)[:, :, None, :]  # (rows, cols, in, out)

by_loops = np.stack([convolve_loops(digit, f) for f in (vertical, horizontal)], -1)
by_keras = ops.convert_to_numpy(ops.conv(digit[None, :, :, None].astype("float32"), filters,
                                         padding="valid"))[0]
print("feature maps:", by_loops.shape, "largest difference loops vs keras.ops.conv:",
      float(np.abs(by_loops - by_keras).max()))
assert np.allclose(by_loops, by_keras, atol=1e-5)

# %% [markdown]
# The loops and `keras.ops.conv` agree. (Strictly, this is *cross-correlation*: mathematics'
# convolution flips the filter first. Since the filters are learned, the flip does not matter,
# and every deep-learning library computes the unflipped version.) A `Conv2D` layer does
# exactly this for many filters and input channels at once, adds a bias, and applies its
# activation; `padding="same"` first adds a border of zeros so the map keeps the image's size.

# %%
maps = ops.convert_to_numpy(ops.conv(digit[None, :, :, None].astype("float32"), filters,
                                     padding="same"))[0]
fig, axes = plt.subplots(1, 5, figsize=(11, 2.6))
panels = [(digit, "digit", "gray_r"), (vertical, "vertical filter", "bwr"),
          (maps[:, :, 0], "vertical-edge map", "bwr"), (horizontal, "horizontal filter", "bwr"),
          (maps[:, :, 1], "horizontal-edge map", "bwr")]
for ax, (img, title, cmap) in zip(axes, panels):
    limit = np.abs(img).max()
    ax.imshow(img, cmap=cmap, vmin=-limit if cmap == "bwr" else 0, vmax=limit)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# Red marks where the image rises in the filter's direction, blue where it falls. The same 9
# weights were used at every position: that is **weight sharing**. A dense layer producing a
# 16x16 map from a 16x16 image would need $256 \times 256 = 65{,}536$ weights; the convolution
# needs 9 (plus a bias).
#
# ## Shifted input, shifted map
#
# Because the same filter is used everywhere, moving the image moves its feature map by the
# same amount: the map is *equivariant* to shifts. Taking the **maximum over the whole map**
# (global max pooling) then gives the same number wherever the digit is: "is there a vertical
# edge anywhere?"

# %%
canvas_a = np.zeros((24, 24), dtype="float32")
canvas_b = np.zeros((24, 24), dtype="float32")
canvas_a[1:17, 1:17] = digit
canvas_b[7:23, 6:22] = digit  # the same digit, 6 rows down and 5 columns right
pair = np.stack([canvas_a, canvas_b])[..., None]
pair_maps = ops.convert_to_numpy(ops.conv(pair, filters[:, :, :, :1], padding="same"))[..., 0]
assert np.allclose(pair_maps[1, 6:, 5:], pair_maps[0, :-6, :-5], atol=1e-5)  # shifted map
assert np.isclose(pair_maps[0].max(), pair_maps[1].max())                   # same maximum

fig, axes = plt.subplots(1, 4, figsize=(9, 2.6))
for k in range(2):
    axes[2 * k].imshow(pair[k, :, :, 0], cmap="gray_r")
    axes[2 * k].set_title(f"digit at position {'AB'[k]}", fontsize=9)
    axes[2 * k + 1].imshow(pair_maps[k], cmap="bwr", vmin=-3, vmax=3)
    axes[2 * k + 1].set_title(f"map: global max {pair_maps[k].max():.2f}", fontsize=9)
for ax in axes:
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## Pooling: a wider view, and less shift tolerance than you might think
#
# Between convolutions, **max pooling** keeps the largest value in each 2x2 window (stride 2),
# so the map shrinks to a quarter. Two consequences, each worth checking rather than believing.
#
# **A wider view.** Take a 5x5 convolution, 2x2 pooling, then a 3x3 convolution. One unit of
# the last layer sees 3x3 cells of the pooled map, which cover 6x6 cells of the first map; each
# of those saw 5x5 pixels, so together they see $6 + 5 - 1 = 10$ pixels in each direction: a
# 10x10 patch of the image (its *receptive field*). To check, push single-pixel images through
# the same stack with all weights 1 and see which pixels reach one output unit:

# %%
impulses = np.eye(24 * 24, dtype="float32").reshape(-1, 24, 24, 1)  # one lit pixel per image
ones5, ones3 = np.ones((5, 5, 1, 1), "float32"), np.ones((3, 3, 1, 1), "float32")
stack = ops.conv(ops.max_pool(ops.conv(impulses, ones5, padding="same"), 2, 2), ones3,
                 padding="same")
reaches = ops.convert_to_numpy(stack)[:, 6, 6, 0].reshape(24, 24) > 0  # one output unit
rows, cols = np.nonzero(reaches)
field = (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1))
print("receptive field of one unit after conv 5x5, pool 2x2, conv 3x3:", field)
assert field == (10, 10)

# %% [markdown]
# **Some shift tolerance.** A feature that moves by one pixel stays in the same pooling window
# only if it does not cross a window boundary. With 2x2 windows at stride 2, a one-pixel move
# to the right keeps the feature in its window from an even column, and moves it to the next
# window from an odd column: *half* of all positions. Counting it for a single bright pixel
# starting at each of 16 columns of a map:

# %%
same_window = []
for col in range(16):
    a = np.zeros((1, 16, 18, 1), "float32")
    b = np.zeros((1, 16, 18, 1), "float32")
    a[0, 8, col, 0], b[0, 8, col + 1, 0] = 1.0, 1.0  # the pixel, and the pixel moved right
    pooled_a, pooled_b = (ops.convert_to_numpy(ops.max_pool(m, 2, 2)) for m in (a, b))
    same_window.append(bool(np.array_equal(pooled_a, pooled_b)))
print("pooled map unchanged after a one-pixel shift, by starting column:",
      "".join("=" if s else "x" for s in same_window))
print(f"unchanged for {np.mean(same_window):.0%} of positions")
assert np.mean(same_window) == 0.5

# %% [markdown]
# So one pooling layer does not make a network blind to shifts; it only halves how far a
# shifted feature moves in the map. Shift tolerance comes from the *whole* design: shared
# filters (equivariance), several pooling stages, and often a global pooling at the end that
# asks only whether a feature occurred anywhere.

# %%
pooled = ops.convert_to_numpy(ops.max_pool(maps[None, :, :, :1], pool_size=2, strides=2))
pooled_twice = ops.convert_to_numpy(ops.max_pool(maps[None, :, :, :1], pool_size=4, strides=4))
fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.6))
titles = ["vertical-edge map 16x16", "max pool 2x2 -> 8x8", "max pool 4x4 -> 4x4"]
for ax, img, title in zip(axes, [maps[:, :, 0], pooled[0, :, :, 0], pooled_twice[0, :, :, 0]],
                          titles):
    ax.imshow(img, cmap="bwr", vmin=-3, vmax=3)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## Shapes in places never seen: dense network vs trees vs CNN
#
# A task built to test one thing. Four 5x5 shapes (plus, cross, ring, corner) are drawn on a
# 20x20 canvas of faint noise. In the **training** images a shape sits anywhere in the *left*
# part of the canvas (its left edge in columns 0-7); in the **test** images it sits in the
# *right* part (columns 8-15). A model that has learned "what a cross looks like" rather than
# "which pixels a cross lights up" should not care.

# %%
SHAPES = {
    "plus":   ["..#..", "..#..", "#####", "..#..", "..#.."],
    "cross":  ["#...#", ".#.#.", "..#..", ".#.#.", "#...#"],
    "ring":   ["#####", "#...#", "#...#", "#...#", "#####"],
    "corner": ["#####", "#....", "#....", "#....", "#...."],
}
STAMPS = np.array([[[c == "#" for c in row] for row in rows] for rows in SHAPES.values()],
                  dtype="float32")
CANVAS = 20


def shapes_at(n, columns):
    """n noisy canvases, each with one shape whose left edge lies in ``columns`` (first, last)."""
    labels = rng.integers(0, len(STAMPS), n)
    images = rng.uniform(0, 0.3, (n, CANVAS, CANVAS)).astype("float32")
    tops = rng.integers(0, CANVAS - 5 + 1, n)
    lefts = rng.integers(columns[0], columns[1] + 1, n)
    for image, label, top, left in zip(images, labels, tops, lefts):
        patch = image[top:top + 5, left:left + 5]
        np.maximum(patch, STAMPS[label], out=patch)
    return images[..., None], labels.astype("int32")


x_train, y_train = shapes_at(1000, (0, 7))
x_test, y_test = shapes_at(500, (8, 15))
fig = plots.image_grid(np.concatenate([x_train[:6], x_test[:6]]), ncols=6,
                       labels=[list(SHAPES)[k] for k in np.concatenate([y_train[:6],
                                                                        y_test[:6]])],
                       title="Top: training images (shape on the left). Bottom: test images")

# %% [markdown]
# Three contestants, trained on the same 1,000 images:
#
# - a **dense** network: flatten the 400 pixels, one hidden layer of 64 units;
# - a **gradient-boosted tree ensemble** (scikit-learn's `HistGradientBoostingClassifier`),
#   the usual winner on tables of numbers, which splits on one pixel value at a time;
# - a small **CNN**: two 3x3 convolutions with pooling between them, a global max pooling, and
#   one logit per shape.

# %%
def compiled(model):
    model.compile(optimizer=keras.optimizers.Adam(3e-3), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


runtime.seed_everything(0)
dense = compiled(keras.Sequential([
    keras.Input((CANVAS, CANVAS, 1)), layers.Flatten(),
    layers.Dense(64, activation="relu"), layers.Dense(len(SHAPES)),
], name="dense"))
runtime.seed_everything(0)
cnn = compiled(keras.Sequential([
    keras.Input((CANVAS, CANVAS, 1)),
    layers.Conv2D(8, 3, padding="same", activation="relu", name="first_conv"),
    layers.MaxPooling2D(),
    layers.Conv2D(16, 3, padding="same", activation="relu"),
    layers.GlobalMaxPooling2D(),
    layers.Dense(len(SHAPES)),
], name="cnn"))

scores = {}
for model in (dense, cnn):
    result = training.fit(model, x_train, y_train, progress=False,
                          budget=training.Budget(epochs=8, batch_size=32))
    scores[model.name] = (result.history["accuracy"][-1], training.accuracy(model, x_test, y_test),
                          model.count_params())
trees = HistGradientBoostingClassifier(max_iter=10, random_state=0)
trees.fit(x_train.reshape(len(x_train), -1), y_train)
scores["trees"] = (trees.score(x_train.reshape(len(x_train), -1), y_train),
                   trees.score(x_test.reshape(len(x_test), -1), y_test), None)
for name, (train_acc, test_acc, params) in scores.items():
    size = f"{params:,} weights" if params else "10 rounds of trees"
    print(f"{name:6s} train accuracy {train_acc:.2f}   test accuracy (new places) {test_acc:.2f}"
          f"   ({size})")
assert scores["cnn"][1] > 0.9 and scores["dense"][1] < 0.5 and scores["trees"][1] < 0.5

fig, ax = plt.subplots(figsize=(6, 3))
names = list(scores)
ax.bar(np.arange(3) - 0.2, [scores[n][0] for n in names], 0.4, label="training images")
ax.bar(np.arange(3) + 0.2, [scores[n][1] for n in names], 0.4, label="test: shapes moved right")
ax.axhline(1 / len(SHAPES), color="gray", ls=":", label="guessing")
ax.set(xticks=range(3), xticklabels=names, ylabel="accuracy", ylim=(0, 1.05),
       title="Recognising shapes in places never seen")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# The trees fit the training images perfectly, and the dense network learns most of them; on
# the test images both fall to about chance: their splits (or weights) for the right-hand
# pixels were never trained on a shape. The CNN, with a fraction of the dense network's
# weights, recognises the shapes anywhere: its filters are applied at every position, and the
# global max pooling only asks whether each filter fired *somewhere*.
#
# This is the short answer to why deep learning took over images (and, with other shared
# structures, sound and text): the architecture encodes what is true of the data (locality,
# shift), so every example teaches every position. Tree ensembles have no such notion of
# neighbouring pixels; on *tables*, where each column means something different and has no
# neighbours, they are still very hard to beat (Lecture 7 puts them side by side).
#
# ## Why the CNN generalises to new places
#
# Take one cross on a blank canvas where the training images had shapes (left edge in column
# 6), and the same cross moved 4 columns to the right, where no training image had one. The
# 8 feature maps of the trained first layer are drawn for both (each filter on one colour
# scale): they are the same maps, moved by the same 4 columns. After the 2x2 pooling the second
# convolution sees the same pattern moved by 2 cells, and the global maximum of each of its
# maps does not care where the pattern is: the logits are identical. Moved by 5 columns, the
# first-layer maps still just move, but the pooling windows cut them differently (the pooling
# cell above), so the logits change a little; the answer does not. (Both places are chosen away
# from the canvas edge, where the zero padding would add a difference of its own.)

# %%
first_layer = keras.Model(cnn.inputs[0], cnn.get_layer("first_conv").output)


def lone_shape(index, left, top=7):
    image = np.zeros((1, CANVAS, CANVAS, 1), "float32")
    image[0, top:top + 5, left:left + 5, 0] = STAMPS[index]
    return image


CROSS = list(SHAPES).index("cross")
canvases = {"seen place": lone_shape(CROSS, 6), "moved 4": lone_shape(CROSS, 10),
            "moved 5": lone_shape(CROSS, 11)}
fmaps = {name: ops.convert_to_numpy(first_layer(x))[0] for name, x in canvases.items()}
logits = {name: ops.convert_to_numpy(cnn(x))[0] for name, x in canvases.items()}
for name, values in logits.items():
    print(f"{name:10s} logits {values.round(3)} -> {list(SHAPES)[int(np.argmax(values))]}")
assert np.allclose(fmaps["moved 4"][:, 4:], fmaps["seen place"][:, :-4], atol=1e-5)
assert np.allclose(logits["moved 4"], logits["seen place"], atol=1e-4)
assert all(int(np.argmax(values)) == CROSS for values in logits.values())

fig, axes = plt.subplots(2, 9, figsize=(13, 3.2))
for row, name in zip(axes, ("seen place", "moved 4")):
    row[0].imshow(canvases[name][0, :, :, 0], cmap="gray_r")
    row[0].set_ylabel(name)
    for k, ax in enumerate(row[1:]):
        top = max(fmaps["seen place"][:, :, k].max(), 1e-6)
        ax.imshow(fmaps[name][:, :, k], cmap="magma", vmin=0, vmax=top)
        ax.set_title(f"filter {k}", fontsize=8)
    for ax in row:
        ax.set_xticks([])
        ax.set_yticks([])
fig.suptitle("First-layer feature maps of the trained CNN: same shape, same maps, moved")
fig.tight_layout()

# %% [markdown]
# Each filter responds to some parts of the strokes more than others (ends, crossings, diagonal
# stretches); the second layer combines those parts into whole shapes. Where the network still
# errs on the test images, the confusion matrix shows which shapes it mixes up (rows: true
# shape; columns: predicted).

# %%
predicted = training.predict_classes(cnn, x_test)
fig = plots.confusion_figure(plots.confusion_matrix(y_test, predicted, len(SHAPES)),
                             labels=list(SHAPES), title="CNN on the moved shapes")

# %% [markdown]
# ## Change one line
#
# 1. In the CNN, replace `layers.GlobalMaxPooling2D()` by `layers.Flatten()`. The network still
#    has shared filters; what happens to the test accuracy, and why?
# 2. In `shapes_at`, train on columns `(0, 15)` (shapes anywhere) instead of `(0, 7)`. How close
#    does the dense network get now? What does that say about how it generalises?
# 3. In the receptive-field cell, change `ones3` to a 5x5 filter (and its shape). Predict the
#    new field before you run it.
# 4. In the pooling cell, shift the pixel by two columns instead of one. What fraction of
#    positions keeps the pooled map unchanged now?

# %% [markdown]
# ## Self-check questions
#
# 1. How many weights (including biases) does `Conv2D(32, 3)` have when its input has 16
#    channels? How many would a `Dense` layer need to map an 8x8x16 input to an 8x8x32 output?
#
#    <details><summary>Answer</summary>
#
#    $3 \cdot 3 \cdot 16 \cdot 32 + 32 = 4{,}640$. The dense layer: $(8 \cdot 8 \cdot 16)
#    \cdot (8 \cdot 8 \cdot 32) + 8 \cdot 8 \cdot 32 = 2{,}099{,}200$.
#    </details>
#
# 2. The vertical-edge filter gave both red and blue regions on the same stroke. Why?
#
#    <details><summary>Answer</summary>
#
#    A stroke has two edges: on its left the image goes from dark to light (a positive
#    response), on its right from light back to dark (negative).
#    </details>
#
# 3. Shifting the digit changed the feature map but not its global maximum. Which property of
#    convolution explains the first, and which operation the second?
#
#    <details><summary>Answer</summary>
#
#    Equivariance (the same filter everywhere, so the map moves with the image); global max
#    pooling, which forgets where the maximum was.
#    </details>
#
# 4. A network has conv 3x3, pool 2x2, conv 3x3, pool 2x2, conv 3x3 (stride-1 convolutions,
#    stride-2 pools). How large a patch of the input does one unit of the last convolution see?
#
#    <details><summary>Answer</summary>
#
#    18x18. Going back from one unit: the last conv covers 3 cells; through a pool each cell is
#    2, so 6; the middle conv adds 2 cells, 8; the first pool doubles it to 16; the first conv
#    adds 2 pixels: 18. (The receptive-field cell above checks cases like this.)
#    </details>
#
# 5. The dense network reached high training accuracy but about chance on the moved shapes.
#    Is that overfitting in the usual sense? What would more training images *at the same
#    positions* do for it?
#
#    <details><summary>Answer</summary>
#
#    It is a failure to generalise to a part of the input space it never saw: the weights of the
#    right-hand pixels were never shaped by a shape. More images on the left would not help on
#    the right; images with shapes on the right (or a model that shares weights across
#    positions) would.
#    </details>
