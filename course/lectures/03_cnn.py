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
# This lecture applies filters by hand, pools, and then looks at what the filters of a trained
# network look like.

# %% [markdown]
# ## Setup

# %%
from course import runtime

runtime.configure()

import matplotlib.pyplot as plt
import numpy as np
import keras
from keras import layers, ops

from course import data, plots, training

runtime.seed_everything(0)
print("Keras", keras.__version__, "on", runtime.detect_device())
digits = data.load_digits_8x8()
print("examples:", digits.sizes(), "image shape:", digits.input_shape)
fig = plots.image_grid(digits.x_train[:20], labels=digits.y_train[:20],
                       title="scikit-learn's 8x8 digits")

# %% [markdown]
# ## A filter is a small pattern slid over the image
#
# A 3x3 filter holds 9 weights. At each position, multiply the 9 pixels under it by the 9
# weights and add: the result is large where the image looks like the filter. Doing this at
# every position gives a **feature map**. Here are two hand-made filters, one that responds to
# vertical edges (dark-to-light from left to right) and one to horizontal edges, applied with
# `keras.ops.conv` to a digit enlarged to 16x16 so the maps are easier to see.

# %%
digit = np.kron(digits.x_train[3, :, :, 0], np.ones((2, 2)))  # 16x16, each pixel doubled
filters = np.zeros((3, 3, 1, 2), dtype="float32")
filters[:, :, 0, 0] = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]   # vertical edges
filters[:, :, 0, 1] = [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]   # horizontal edges
maps = ops.convert_to_numpy(ops.conv(digit[None, :, :, None].astype("float32"), filters,
                                     padding="same"))[0]

fig, axes = plt.subplots(1, 5, figsize=(11, 2.6))
panels = [(digit, "digit", "gray_r"), (filters[:, :, 0, 0], "vertical filter", "bwr"),
          (maps[:, :, 0], "vertical-edge map", "bwr"),
          (filters[:, :, 0, 1], "horizontal filter", "bwr"),
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
# Because the same filter is used everywhere, moving the digit moves its feature map by the
# same amount (the map is *equivariant* to shifts). Taking the **maximum over the whole map**
# (global max pooling) then gives the same number wherever the digit is: "is there a vertical
# edge anywhere?"

# %%
canvas_a = np.zeros((24, 24), dtype="float32")
canvas_b = np.zeros((24, 24), dtype="float32")
canvas_a[1:17, 1:17] = digit
canvas_b[7:23, 6:22] = digit
pair = np.stack([canvas_a, canvas_b])[..., None]
pair_maps = ops.convert_to_numpy(ops.conv(pair, filters[:, :, :, :1], padding="same"))[..., 0]

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
# ## Pooling
#
# Between convolutions, **max pooling** keeps the largest value in each 2x2 window. The map
# shrinks to a quarter, so a 3x3 filter in the next layer covers a 6x6 area of the original
# image; and a feature that moves by one pixel usually stays in the same window, so small
# shifts barely change the pooled map.

# %%
vertical = maps[None, :, :, :1]
pooled = ops.convert_to_numpy(ops.max_pool(vertical, pool_size=2, strides=2))[0, :, :, 0]
pooled_twice = ops.convert_to_numpy(ops.max_pool(vertical, pool_size=4, strides=4))[0, :, :, 0]
fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.6))
titles = ["vertical-edge map 16x16", "max pool 2x2 -> 8x8", "max pool 4x4 -> 4x4"]
for ax, img, title in zip(axes, [vertical[0, :, :, 0], pooled, pooled_twice], titles):
    ax.imshow(img, cmap="bwr", vmin=-3, vmax=3)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## Learning the filters
#
# Nobody hand-designs filters any more: they are weights like any others, learned by
# backpropagation. Below, a small CNN is trained on the digits enlarged to 16x16 (each pixel
# doubled, so that a stroke is a few pixels wide, as edges are in photographs). Its first layer
# has 16 filters of 5x5; we keep a copy of them before training to compare.

# %%
def enlarge(images):
    return np.kron(images, np.ones((1, 2, 2, 1), dtype="float32"))


x_train, x_val, x_test = (enlarge(x) for x in (digits.x_train, digits.x_val, digits.x_test))


def small_cnn():
    model = keras.Sequential([
        keras.Input(x_train.shape[1:]),
        layers.Conv2D(16, 5, padding="same", activation="relu", name="first_conv"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.GlobalMaxPooling2D(),
        layers.Dense(digits.num_classes),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


cnn = small_cnn()
cnn.summary()
filters_before = ops.convert_to_numpy(cnn.get_layer("first_conv").kernel).copy()
result = training.fit(cnn, x_train, digits.y_train, budget=training.Budget(epochs=20),
                      validation_data=(x_val, digits.y_val), progress=False)
print(f"trained in {result.seconds:.1f} s; test accuracy "
      f"{training.accuracy(cnn, x_test, digits.y_test):.3f}")
fig = plots.learning_curves(result.history, title="Small CNN on the enlarged digits")

# %% [markdown]
# Compare with a dense layer's bill: a `Dense(16)` on the 256 pixels has 4,112 weights and
# sees the whole image at once; the `Conv2D(16, 5)` above has 416 and sees 5x5 patches. The
# summary shows the whole network has only a few thousand weights.
#
# ## What the first layer learned
#
# Each filter is drawn as a 5x5 picture (dark = large weight). Before training they are random
# noise; after training most have become smooth ramps and bars: detectors for edges and
# strokes at various angles, the local patterns later layers assemble into whole shapes. One
# number captures the change: how strongly neighbouring weights within a filter agree
# (correlation 0 for noise, closer to 1 for smooth patterns).

# %%
def as_images(kernels):
    k = np.moveaxis(kernels[:, :, 0, :], -1, 0)  # (filters, 5, 5)
    low = k.min(axis=(1, 2), keepdims=True)
    high = k.max(axis=(1, 2), keepdims=True)
    return (k - low) / (high - low + 1e-8)       # each filter stretched to [0, 1]


def neighbour_agreement(kernels):
    k = np.moveaxis(kernels[:, :, 0, :], -1, 0)
    left_up = np.concatenate([k[:, :, :-1].ravel(), k[:, :-1, :].ravel()])
    right_down = np.concatenate([k[:, :, 1:].ravel(), k[:, 1:, :].ravel()])
    return np.corrcoef(left_up, right_down)[0, 1]


filters_after = ops.convert_to_numpy(cnn.get_layer("first_conv").kernel)
for name, kernels in (("before", filters_before), ("after", filters_after)):
    print(f"neighbouring weights agree {name} training: {neighbour_agreement(kernels):+.2f}")
    fig = plots.image_grid(as_images(kernels), ncols=8, title=f"First-layer filters: {name}")

# %% [markdown]
# And the 16 feature maps the trained first layer produces for one test digit: each filter
# lights up on a different part of the strokes.

# %%
first_layer = keras.Model(cnn.inputs[0], cnn.get_layer("first_conv").output)
feature_maps = ops.convert_to_numpy(first_layer(x_test[:1]))[0]
feature_maps = np.moveaxis(feature_maps, -1, 0) / (feature_maps.max() + 1e-8)
fig, ax = plt.subplots(figsize=(1.5, 1.5))
ax.imshow(x_test[0, :, :, 0], cmap="gray_r")
ax.set_title(f"test digit ({digits.y_test[0]})", fontsize=8)
ax.axis("off")
fig = plots.image_grid(feature_maps, ncols=8, title="Its 16 first-layer feature maps")

# %% [markdown]
# Finally, where the network still errs: the confusion matrix counts, for each true digit
# (row), which digit was predicted (column).

# %%
predicted = training.predict_classes(cnn, x_test)
fig = plots.confusion_figure(plots.confusion_matrix(digits.y_test, predicted, 10))

# %% [markdown]
# ## Self-check questions
#
# 1. How many weights (including biases) does `Conv2D(32, 3)` have when its input has 16
#    channels? How many would a `Dense` layer need to map an 8x8x16 input to an 8x8x32 output?
# 2. The vertical-edge filter gave both red and blue regions on the same stroke. Why?
# 3. Shifting the digit changed the feature map but not its global maximum. Which property of
#    convolution explains the first, and which operation the second?
# 4. After two 2x2 max-pooling layers, how large is the area of the input that one 3x3 filter
#    in the next convolution "sees"?
# 5. Why do the filters look like noise before training, and what kinds of patterns would you
#    expect first-layer filters to learn on photographs rather than digits?
