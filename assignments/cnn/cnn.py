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
# ## The task
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
# ## Your task: `build_cnn(input_shape, num_classes)`
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
# ## Visible checks
# These run when you execute them, and again when your notebook is graded (1 point each).

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
# ## Try it
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
