# %% [markdown]
# # Assignment: generative adversarial networks
#
# In 2014 Ian Goodfellow and colleagues proposed a new way to teach a network to *draw*: set
# two networks against each other. The **generator** $G$ turns a vector of random noise $z$
# into an image. The **discriminator** $D$ looks at an image and says whether it came from the
# data or from $G$. They train in turns: $D$ learns to tell real from fake, then $G$ learns to
# fool the $D$ of the moment. $G$ never sees a real image: everything it learns comes through
# $D$'s gradient.
#
# Written as a game, $D$ maximises and $G$ minimises the same value,
# $$\min_G \max_D \; \mathbb{E}_{x}[\log D(x)] + \mathbb{E}_{z}[\log(1 - D(G(z)))].$$
# If both played perfectly, $G$'s images would follow the data's distribution and $D$ could do
# no better than a coin flip. In practice $G$ does not minimise $\log(1 - D(G(z)))$: early in
# training $D$ rejects the fakes easily, that term is flat, and $G$ gets almost no gradient.
# Instead $G$ *maximises* $\log D(G(z))$ (the "non-saturating" loss): the same goal, with a
# strong gradient exactly when $G$ is losing. In Keras this is simply binary cross-entropy
# with the fakes labelled "real" during $G$'s turn.
#
# Where it fails: the two players can chase each other instead of settling, and $G$ can find
# one image that fools $D$ and draw nothing else (**mode collapse**). A GAN's losses say little
# about its images, so GANs are judged by their samples.
#
# In this assignment you will:
# 1. write the two players' losses in NumPy (`discriminator_loss`, `generator_loss`), stable
#    for any logit;
# 2. build a generator and a discriminator in Keras (`build_generator`, `build_discriminator`),
#    which the course's trainer pits against each other.
#
# Lecture 6 (`course/lectures/06_gan.py`) prepares this assignment.

# %% [markdown]
# ## Setup
# Run this cell first. It picks the Keras backend (TensorFlow unless `KERAS_BACKEND` says
# otherwise), says which device you are on, and loads the 8x8 digits of the public pool, 1,437
# of scikit-learn's 1,797 (the other 360 are kept aside for grading; the labels are not used: a
# GAN learns from images alone).

# %% [setup] id=setup
import math

import keras
import numpy as np
from keras import layers

from course import data, evaluator, gan, plots, runtime

print("Keras", keras.__version__, "on", runtime.detect_device())
digits = data.load_digits_8x8(seed=0)
LATENT_DIM = 32
IMAGE_SHAPE = (8, 8, 1)
print("training images:", digits.x_train.shape, "pixel range:",
      float(digits.x_train.min()), "to", float(digits.x_train.max()))
plots.image_grid(digits.x_train[:20], ncols=10, title="Real 8x8 digits");

# %% [markdown]
# ## Part 1: the two losses, by hand
#
# The discriminator outputs a **logit** $z$ per image; $D = \sigma(z) = 1 / (1 + e^{-z})$ is
# its probability that the image is real. Binary cross-entropy for a logit $z$ and a label $y$
# (1: real, 0: fake) is
#
# $$\ell(z, y) = -\left[\, y \log \sigma(z) + (1 - y) \log\big(1 - \sigma(z)\big) \right],$$
#
# and since $1 - \sigma(z) = \sigma(-z)$, a label 1 costs $-\log \sigma(z)$ and a label 0
# costs $-\log \sigma(-z)$. Write the two losses the course's trainer uses, in **NumPy**:
#
# - `discriminator_loss(real_logits, fake_logits)`: the real logits are labelled 1, the fake
#   ones 0, and the loss is the mean of $\ell$ over **all of them together**, as
#   `course.gan.train_gan` computes it on the real and fake batch joined into one. With $m$
#   real and $k$ fake logits that is the sum of all $m + k$ losses divided by $m + k$: not the
#   sum of the two means, and not their average (the two differ when $m \ne k$);
# - `generator_loss(fake_logits)`: the **non-saturating** loss of the introduction, the fakes
#   labelled *real*: the mean of $-\log \sigma(z)$ over the fake logits.
#
# The logits may come as a flat vector (n,) or a column (n, 1); each function returns **one
# number**, a Python `float`.
#
# **Numerical stability.** A confident discriminator gives logits of hundreds. Written as it
# reads, `np.log(1 / (1 + np.exp(-z)))` at $z = -1000$ computes `np.exp(1000)`, which
# overflows to `inf`; then `1 / inf` is 0 and `np.log(0)` is `-inf`, so the loss is infinite
# (and other arrangements give `nan`, `0 * inf` or `inf - inf`), while the true value is about
# 1000. Rewrite the loss first:
#
# $$-\log \sigma(z) = \log\left(1 + e^{-z}\right) = \mathrm{softplus}(-z).$$
#
# For large $u$, $\log(1 + e^{u}) \approx u$: no overflow is needed to get it. NumPy has a
# function made for this: `np.logaddexp(a, b)` computes $\log(e^a + e^b)$ exactly for any $a$
# and $b$. (Write 1 as a power of $e$.)
#
# **How it is graded** ({{test_discriminator_loss.points}} points for `discriminator_loss`,
# {{test_generator_loss.points}} for `generator_loss`). The grader calls each function on logits
# it draws itself: moderate ones, flat vectors and columns, unequal numbers of real and fake
# logits, confident right and wrong answers, and logits of $\pm 1000$. Each case is compared
# with the grader's own value to within 0.00001 and earns an equal share of the points; a
# failing case's feedback says which common mistake it looks like.

# %% [solution] id=discriminator_loss from=solutions.gan:discriminator_loss
def discriminator_loss(real_logits, fake_logits):
    """Mean binary cross-entropy from logits, in NumPy: real labelled 1, fake labelled 0.

    real_logits, fake_logits: arrays of logits, shape (m,) or (m, 1) and (k,) or (k, 1). The
    mean runs over all m + k logits together. Returns one float, finite even for logits of
    +-1000. Graded against the grader's own on logits it draws (within 1e-5).
    """

# %% [solution] id=generator_loss from=solutions.gan:generator_loss
def generator_loss(fake_logits):
    """The non-saturating generator loss from logits, in NumPy.

    fake_logits: the discriminator's logits on generated images, shape (k,) or (k, 1),
    labelled real (1). Returns one float, the mean over the k logits, finite even for logits of
    +-1000. Graded against the grader's own on logits it draws (within 1e-5).
    """

# %% [markdown]
# ### Visible checks for Part 1
# Each compares your function with Keras' own binary cross-entropy on moderate logits, then
# checks logits of +-1000 (exact values: $-\log \sigma(1000) \approx 0$ and
# $-\log \sigma(-1000) \approx 1000$). When graded, the grader runs its own cases (see above).

# %% [test] id=test_discriminator_loss
bce = keras.losses.BinaryCrossentropy(from_logits=True)
rng = np.random.default_rng(0)
for n_real, n_fake in [(8, 8), (6, 10)]:
    real = rng.normal(0, 2, size=(n_real, 1)).astype("float32")
    fake = rng.normal(0, 2, size=(n_fake, 1)).astype("float32")
    labels = np.concatenate([np.ones((n_real, 1)), np.zeros((n_fake, 1))]).astype("float32")
    expected = float(keras.ops.convert_to_numpy(bce(labels, np.concatenate([real, fake]))))
    loss = np.asarray(discriminator_loss(real, fake))
    assert loss.size == 1, f"expected one number, got shape {loss.shape}"
    assert np.isclose(loss.item(), expected, rtol=1e-5, atol=1e-5), (
        f"{n_real} real, {n_fake} fake logits: expected {expected:.6f} (Keras' binary "
        f"cross-entropy over all of them together), got {loss.item():.6f}")
    flat = np.asarray(discriminator_loss(real[:, 0], fake[:, 0])).item()
    assert np.isclose(flat, expected, rtol=1e-5, atol=1e-5), (
        "flat vectors (n,) must give the same loss as columns (n, 1)")
loss = np.asarray(discriminator_loss(np.array([1000.0, -1000.0]),
                                     np.array([-1000.0, 1000.0]))).item()
assert np.isfinite(loss), f"logits of +-1000 give {loss}: use a stable form (see above)"
assert np.isclose(loss, 500.0), (
    f"expected (0 + 1000 + 0 + 1000) / 4 = 500 for logits of +-1000, got {loss}")
print("discriminator_loss: OK")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("gan", "test_discriminator_loss", globals())
### END HIDDEN TESTS

# %% [test] id=test_generator_loss
bce = keras.losses.BinaryCrossentropy(from_logits=True)
rng = np.random.default_rng(1)
fake = rng.normal(0, 2, size=(10, 1)).astype("float32")
expected = float(keras.ops.convert_to_numpy(bce(np.ones((10, 1), "float32"), fake)))
loss = np.asarray(generator_loss(fake))
assert loss.size == 1, f"expected one number, got shape {loss.shape}"
assert np.isclose(loss.item(), expected, rtol=1e-5, atol=1e-5), (
    f"expected {expected:.6f} (Keras' binary cross-entropy with the fakes labelled real, 1), "
    f"got {loss.item():.6f}")
loss = np.asarray(generator_loss(np.array([1000.0, -1000.0]))).item()
assert np.isfinite(loss), f"logits of +-1000 give {loss}: use a stable form (see above)"
assert np.isclose(loss, 500.0), f"expected (0 + 1000) / 2 = 500 for logits of +-1000, got {loss}"
print("generator_loss: OK")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("gan", "test_generator_loss", globals())
### END HIDDEN TESTS

# %% [markdown]
# ### Try it: why the generator's loss is non-saturating
# The generator's turn, for one fake image, as the discriminator's belief $D(G(z))$ that it is
# real varies. Early in training the fakes are easy to spot ($D$ near 0). The saturating loss
# $\log(1 - D)$, the one in the game's formula, is flat there; your non-saturating loss
# $-\log D$ is steep exactly there, so the generator learns most when it is losing.

# %% [code] tags=skip-grading
import matplotlib.pyplot as plt

logits = np.linspace(-8, 8, 161)
belief = 1 / (1 + np.exp(-logits))  # D(G(z)) for each logit
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(belief, [generator_loss(np.array([z])) for z in logits], label="-log D (yours)")
ax.plot(belief, np.log(1 - belief + 1e-12), label="log(1 - D) (saturating)")
ax.set(xlabel="D(G(z)): the discriminator's belief that a fake is real", ylabel="loss",
       title="The generator's two losses")
ax.legend()
fig.tight_layout();

# %% [markdown]
# ## Part 2: two builders
# Write two functions that return **uncompiled** `keras.Model`s; the course's GAN trainer
# (`course.gan.train_gan`) compiles them (binary cross-entropy on logits, Adam) and trains them
# against each other.
#
# `build_generator(latent_dim, image_shape)`:
# - input: noise vectors of shape `(latent_dim,)`;
# - output: images of shape `image_shape`, e.g. `(8, 8, 1)`, with every pixel in [0, 1]
#   (a `sigmoid` output layer does this), so the output shape is `(batch, 8, 8, 1)`.
#
# `build_discriminator(image_shape)`:
# - input: images of shape `image_shape`;
# - output: **one logit per image**, shape `(batch, 1)`: a plain `Dense(1)` with no activation.
#   Positive means "real". Do not add a sigmoid: the trainer's loss applies it.
#
# Keep to the rules below: the grader rebuilds your models from their configurations, with at
# most {{gan.max_params}} parameters each.
#
# Ideas: one or two `Dense` layers in each network; `LeakyReLU` in the discriminator keeps a
# gradient flowing to the generator. Keep the two players roughly matched: a generator much
# stronger than its discriminator tends to collapse onto a few digits.

# %% [rules]

# %% [solution] id=build_generator from=solutions.gan:build_generator
def build_generator(latent_dim, image_shape):
    """Return an uncompiled keras.Model: noise in, images out.

    Input: noise vectors of shape (latent_dim,). Output: images of shape ``image_shape`` with
    every pixel in [0, 1], shape (batch, *image_shape). The course's GAN trainer compiles and
    trains it (see "Graded by training").
    """

# %% [solution] id=build_discriminator from=solutions.gan:build_discriminator
def build_discriminator(image_shape):
    """Return an uncompiled keras.Model: images in, one logit per image out.

    Input: images of shape ``image_shape``. Output: shape (batch, 1), a logit (positive means
    "real"), no sigmoid. The course's GAN trainer compiles and trains it.
    """

# %% [markdown]
# ### Visible checks for Part 2
# These run when you execute them, and again when your notebook is graded
# ({{test_generator_builds.points}} points each for the generator,
# {{test_discriminator_builds.points}} each for the discriminator).

# %% [test] id=test_generator_builds
generator = build_generator(LATENT_DIM, IMAGE_SHAPE)
assert isinstance(generator, keras.Model), (
    f"expected a keras.Model, got {type(generator).__name__}")
from autograder.visible import assert_rebuilds  # the grader's own rebuild test
assert_rebuilds(generator, input_shape=(LATENT_DIM,), max_params={{gan.max_params}},
                max_activations={{gan.max_activations}})
generator.summary()

# %% [test] id=test_generator_output_shape
generator = build_generator(LATENT_DIM, IMAGE_SHAPE)
assert tuple(generator.output_shape) == (None, 8, 8, 1), (
    f"expected output shape (None, 8, 8, 1), got {generator.output_shape}")
images = gan.sample(generator, 16, LATENT_DIM, seed=0)
print("pixel range of 16 untrained samples:", float(images.min()), "to", float(images.max()))

# %% [test] id=test_discriminator_builds
discriminator = build_discriminator(IMAGE_SHAPE)
assert isinstance(discriminator, keras.Model), (
    f"expected a keras.Model, got {type(discriminator).__name__}")
from autograder.visible import assert_rebuilds  # the grader's own rebuild test
assert_rebuilds(discriminator, input_shape=IMAGE_SHAPE, max_params={{gan.max_params}},
                max_activations={{gan.max_activations}})
discriminator.summary()

# %% [test] id=test_discriminator_output_shape
discriminator = build_discriminator(IMAGE_SHAPE)
assert tuple(discriminator.output_shape) == (None, 1), (
    f"expected output shape (None, 1): one logit per image, got {discriminator.output_shape}")

# %% [markdown]
# ### Try it
# Train your pair briefly and look at what the generator draws. This cell carries the tag
# `skip-grading`: the grader does not run it, because it trains your models itself. A few
# hundred steps give blobs; the grader's budget gives recognisable digits.
#
# The scores below are the ones the grader uses (see the next section).

# %% [code] tags=skip-grading
runtime.seed_everything(0)
generator = build_generator(LATENT_DIM, IMAGE_SHAPE)
discriminator = build_discriminator(IMAGE_SHAPE)
result = gan.train_gan(generator, discriminator, digits.x_train, latent_dim=LATENT_DIM,
                       steps=1000, seed=0)
print(f"{result.steps_run} steps in {result.seconds:.0f} s; last d_loss "
      f"{result.history['d_loss'][-1]:.3f}, g_loss {result.history['g_loss'][-1]:.3f}")
samples = gan.sample(generator, 1000, LATENT_DIM, seed=1)
print(evaluator.scores(samples, real=digits.x_test, train=digits.x_train))
plots.image_grid(samples[:40], ncols=10, title="Your generator after 1,000 steps");

# %% [handin]

# %% [markdown]
# ## Graded by training
# Nobody looks at your samples when grading. Instead a **frozen evaluator**, a small digit
# classifier trained once on real digits, reads 1,000 of your generator's images:
#
# - **Inception-style score** (IS, {{test_gan_inception_score.points}} points): high when
#   each image is confidently one digit *and* the digits are spread over all ten classes; 1 for
#   a single class, 10 at best. Real digits score about 9.5.
# - **Classes** ({{test_gan_classes.points}} points): how many digits the evaluator sees in at
#   least 2 % of your samples.
# - **Fréchet distance** (FD, {{test_gan_frechet_distance.points}} points): the distance
#   between the statistics of the evaluator's inner features on your samples and on held-out
#   real digits: when graded, **held-out images you have not seen**, the 360 digits of a
#   private pool that no notebook loads (your `digits` come from the other 1,437, and so do the
#   evaluator's and the grader's training images). Lower is better (real digits: about 1; pure
#   noise: about 100).
# - **Memorisation** ({{test_gan_memorisation.points}} points): the share of your samples that
#   are near-copies of a training image. Copying is not generating, so this must stay low. It
#   is judged only when the inception score earns points: blank or noise images copy nothing,
#   and that is no achievement.
#
# The grader rebuilds both models from their configurations in a separate, trusted process,
# trains them with `course.gan.train_gan` on the 1,437 public digits for {{gan.steps}} steps
# (batch {{gan.batch_size}}) with a fixed seed, and scores the samples. Each metric earns its
# points linearly between a floor (what a broken GAN gets) and a pass threshold: inception
# score {{test_gan_inception_score.floor}} to {{test_gan_inception_score.threshold}}, classes
# {{test_gan_classes.floor}} to {{test_gan_classes.threshold}}, Fréchet distance
# {{test_gan_frechet_distance.floor}} down to {{test_gan_frechet_distance.threshold}},
# memorisation {{test_gan_memorisation.floor}} down to {{test_gan_memorisation.threshold}}.

# %% [test] id=test_gan_inception_score
print("This check trains your model when the notebook is graded.")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("gan", "test_gan_inception_score", globals())
### END HIDDEN TESTS

# %% [test] id=test_gan_classes
print("This check trains your model when the notebook is graded.")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("gan", "test_gan_classes", globals())
### END HIDDEN TESTS

# %% [test] id=test_gan_frechet_distance
print("This check trains your model when the notebook is graded.")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("gan", "test_gan_frechet_distance", globals())
### END HIDDEN TESTS

# %% [test] id=test_gan_memorisation
print("This check trains your model when the notebook is graded.")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("gan", "test_gan_memorisation", globals())
### END HIDDEN TESTS
