# %% [markdown]
# # Lecture 6: Generative adversarial networks
#
# Every model so far learned to *answer* (which digit? A before B?). A generative model learns
# to *produce* new examples that look like the training data. In 2014 Ian Goodfellow and
# colleagues proposed to train one by setting two networks against each other:
#
# - the **generator** $G$ turns random noise $z$ into an image;
# - the **discriminator** $D$ looks at an image and says how likely it is to be real (here it
#   outputs a logit: positive means "real").
#
# $D$ is trained to tell real images from $G$'s fakes; $G$ is trained to make $D$ say "real"
# to its fakes. Neither network ever sees a target image for a given $z$: $G$ learns only
# from $D$'s gradient. If both play perfectly, $G$'s images become indistinguishable from the
# data and $D$ can do no better than a coin flip.
#
# This lecture trains a small GAN on the 8x8 digits, step by step, then breaks it on purpose
# to show the most common failure: **mode collapse**.

# %% [markdown]
# ## Setup

# %%
from course import runtime

runtime.configure()

import matplotlib.pyplot as plt
import numpy as np
import keras
from keras import layers, ops
from sklearn.linear_model import LogisticRegression

from course import data, plots

runtime.seed_everything(0)
rng = np.random.default_rng(0)
print("Keras", keras.__version__, "on", runtime.detect_device())
digits = data.load_digits_8x8()
real_images = np.concatenate([digits.x_train, digits.x_val])  # the GAN needs no labels
fig = plots.image_grid(real_images[:20], title="Real digits (what D sees as 'real')")

# %% [markdown]
# ## The two players
#
# Both are small dense networks. The generator ends in a sigmoid so that its pixels lie in
# [0, 1] like the real ones.

# %%
LATENT = 32  # length of the noise vector z

generator = keras.Sequential([
    keras.Input((LATENT,)),
    layers.Dense(128, activation="relu"),
    layers.Dense(64, activation="sigmoid"),
    layers.Reshape((8, 8, 1)),
], name="generator")
discriminator = keras.Sequential([
    keras.Input((8, 8, 1)),
    layers.Flatten(),
    layers.Dense(128),
    layers.LeakyReLU(0.2),
    layers.Dense(1),  # a logit: > 0 means "real"
], name="discriminator")
print(f"generator {generator.count_params():,} weights, "
      f"discriminator {discriminator.count_params():,} weights")

# %% [markdown]
# ## Taking turns, the Keras 3 way
#
# Each training step has two halves:
#
# 1. **D's turn**: show it a batch of real images labelled 1 and a batch of fakes labelled 0;
#    one gradient step on binary cross-entropy.
# 2. **G's turn**: generate fakes and label them 1 ("real"), then take one gradient step on the
#    *stacked* model $D(G(z))$ with **D frozen**, so only $G$ changes: $G$ moves its images in
#    the direction that makes $D$ more convinced they are real.
#
# The stacked model is compiled once. The catch: Keras 3 decides which weights to train when a
# step runs, not when a model is compiled. So `discriminator.trainable` must be switched on
# before every D step and off before every G step. (The older recipe of freezing D once
# before compiling the stacked model leaves D never training at all in Keras 3.)

# %%
bce = keras.losses.BinaryCrossentropy(from_logits=True)
discriminator.compile(optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss=bce)
stacked = keras.Sequential([generator, discriminator], name="stacked")
stacked.compile(optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss=bce)

BATCH = 64
ones, zeros = np.ones((BATCH, 1), "float32"), np.zeros((BATCH, 1), "float32")
fixed_z = rng.normal(size=(12, LATENT)).astype("float32")  # the same noise at every snapshot


def noise(n=BATCH):
    return rng.normal(size=(n, LATENT)).astype("float32")


def train_steps(steps, log, snapshots, snapshot_every=500):
    for _ in range(steps):
        real = real_images[rng.integers(0, len(real_images), BATCH)]
        fake = ops.convert_to_numpy(generator(noise()))
        discriminator.trainable = True   # D's turn
        d_loss = discriminator.train_on_batch(np.concatenate([real, fake]),
                                              np.concatenate([ones, zeros]))
        discriminator.trainable = False  # G's turn: only G may change
        g_loss = stacked.train_on_batch(noise(), ones)
        log["d_loss"].append(float(d_loss))
        log["g_loss"].append(float(g_loss))
        step = len(log["d_loss"])
        if step % 50 == 0:
            p_real = ops.convert_to_numpy(ops.sigmoid(discriminator(real)))
            p_fake = ops.convert_to_numpy(ops.sigmoid(discriminator(fake)))
            log["step"].append(step)
            log["p_real"].append(float(p_real.mean()))
            log["p_fake"].append(float(p_fake.mean()))
        if step % snapshot_every == 0:
            snapshots[step] = ops.convert_to_numpy(generator(fixed_z))


log = {"d_loss": [], "g_loss": [], "step": [], "p_real": [], "p_fake": []}
snapshots = {0: ops.convert_to_numpy(generator(fixed_z))}
train_steps(2000, log, snapshots)
print("steps trained:", len(log["d_loss"]))

# %% [markdown]
# ## Watching the game
#
# The same 12 noise vectors, pushed through the generator as training goes on (one row per
# snapshot):

# %%
fig, axes = plt.subplots(len(snapshots), len(fixed_z), figsize=(len(fixed_z) * 0.7,
                                                                 len(snapshots) * 0.75))
for row, (step, images) in zip(axes, snapshots.items()):
    for ax, image in zip(row, images):
        ax.imshow(image[:, :, 0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(f"step {step}", rotation=0, ha="right", va="center", fontsize=8)
fig.suptitle("The generator learning: same noise, later steps")
fig.tight_layout()

# %% [markdown]
# And the scoreboard. Early on, D tells real from fake easily. As G improves, D's two
# probabilities drift towards each other and towards 0.5: neither player "wins", and
# the losses do not fall steadily the way a classifier's do. That is normal for a GAN, and it
# is why a GAN's loss curve says little about image quality: look at the samples.

# %%
fig, (ax_p, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.2))
ax_p.plot(log["step"], log["p_real"], label="D(real)")
ax_p.plot(log["step"], log["p_fake"], label="D(fake)")
ax_p.axhline(0.5, color="gray", ls=":")
ax_p.set(xlabel="step", ylabel="mean probability 'real'", ylim=(0, 1),
         title="What the discriminator believes")
ax_p.legend()
window = 50
for key in ("d_loss", "g_loss"):
    smooth = np.convolve(log[key], np.ones(window) / window, mode="valid")
    ax_loss.plot(np.arange(window, len(log[key]) + 1), smooth, label=key)
ax_loss.set(xlabel="step", ylabel=f"loss ({window}-step average)", title="Losses")
ax_loss.legend()
fig.tight_layout()

# %% [markdown]
# ## Which digits does it make?
#
# A GAN can produce sharp images and still be a poor model of the data if it only produces a
# few kinds. To check variety, a plain logistic-regression digit classifier (trained on the
# real digits) labels 1,000 generated images, and we count the classes.

# %%
reader = LogisticRegression(max_iter=2000).fit(real_images.reshape(len(real_images), -1),
                                               np.concatenate([digits.y_train, digits.y_val]))
print(f"reader accuracy on real test digits: "
      f"{reader.score(digits.x_test.reshape(len(digits.x_test), -1), digits.y_test):.3f}")


def census(images):
    """Counts of each digit class the reader sees, and the average distance between images."""
    flat = images.reshape(len(images), -1)
    counts = np.bincount(reader.predict(flat), minlength=10)
    spread = np.sqrt(((flat[:200, None] - flat[None, :200]) ** 2).sum(-1)).mean()
    return counts, spread


before_counts, before_spread = census(ops.convert_to_numpy(generator(noise(1000))))
print("digits made:", before_counts.tolist(), f"average distance between samples "
      f"{before_spread:.2f}")

# %% [markdown]
# ## Mode collapse
#
# The game only works while the players keep each other in check. Suppose D stops learning
# and G keeps training against it. G's best reply to a *fixed* D is to put every image on
# whatever D currently finds most convincing, whatever the noise $z$ says. Diversity then
# costs G nothing to give up, and it does. We freeze D and give G 1,000 more steps alone, with
# a larger learning rate so that it runs well ahead:

# %%
discriminator.trainable = False
stacked.optimizer.learning_rate.assign(1e-3)  # was 2e-4
for _ in range(1000):
    stacked.train_on_batch(noise(), ones)
collapsed = ops.convert_to_numpy(generator(noise(1000)))
after_counts, after_spread = census(collapsed)
print("digits made:", after_counts.tolist(), f"average distance between samples "
      f"{after_spread:.2f}")
fig = plots.image_grid(collapsed[:20], title="After 1,000 steps against a frozen discriminator")

fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(np.arange(10) - 0.2, before_counts, 0.4, label="after the game")
ax.bar(np.arange(10) + 0.2, after_counts, 0.4, label="after G alone")
ax.set(xticks=range(10), xlabel="digit (as read by the classifier)", ylabel="of 1,000 samples",
       title="Mode collapse: variety lost")
ax.legend()
fig.tight_layout()

# %% [markdown]
# The generator now makes one or a few kinds of digit, whatever the noise, and the samples sit
# much closer together. In real training, collapse happens in a milder, moving form: G
# concentrates on a few kinds of digit, D learns to reject them, G jumps to another few, and so
# on. Remedies include keeping
# the two players balanced (learning rates, steps per turn), letting D compare samples within a
# batch so that it can notice a lack of variety, and different losses (for example the
# Wasserstein GAN). When grading or comparing GANs, measure variety, not only sharpness.

# %% [markdown]
# ## Self-check questions
#
# 1. Why does the generator never need a target image for a given noise vector $z$? Where do
#    its gradients come from?
# 2. What goes wrong if `discriminator.trainable` is left `True` during G's turn? And if it is
#    left `False` during D's turn?
# 3. At the ideal end of the game, what probability does D assign to real and to fake images,
#    and why?
# 4. Why is a falling generator loss not evidence that the images are getting better?
# 5. The collapsed generator's images may look cleaner than before. Why is it nevertheless a
#    worse generative model, and which number above shows it?
