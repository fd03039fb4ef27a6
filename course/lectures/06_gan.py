# %% [markdown]
# # Lecture 6: Generative adversarial networks
#
# Every model so far learned to *answer* (which ring? which marker first?). A generative model
# learns to *produce* new examples that look like the training data. In 2014 Ian Goodfellow
# and colleagues proposed to train one by setting two networks against each other:
#
# - the **generator** $G$ turns random noise $z$ into an example;
# - the **discriminator** $D$ looks at an example and says how likely it is to be real (here it
#   outputs a logit: positive means "real").
#
# $D$ is trained to tell real examples from $G$'s fakes; $G$ is trained to make $D$ say "real"
# to its fakes. Neither network ever sees a target output for a given $z$: $G$ learns only
# from $D$'s gradient.
#
# This lecture plays the game on data you can see all of at once: points in the plane, drawn
# from eight blobs on a ring. Every sample of the generator can be plotted against the real
# distribution, and so can the discriminator's opinion of every point. The `gan` assignment
# plays the same game on 8x8 digit images.

# %% [markdown]
# ## Setup

# %%
from course import runtime

runtime.configure()

import matplotlib.pyplot as plt
import numpy as np
import keras
from keras import layers, ops

runtime.seed_everything(0)
rng = np.random.default_rng(0)
print("Keras", keras.__version__, "on", runtime.detect_device())

MODES = 8  # blobs on a circle of radius 2
CENTRES = 2.0 * np.stack([np.cos(2 * np.pi * np.arange(MODES) / MODES),
                          np.sin(2 * np.pi * np.arange(MODES) / MODES)], axis=1)


def real_points(n):
    """n points from the ring: a random blob each, plus a little Gaussian spread."""
    return (CENTRES[rng.integers(0, MODES, n)] + rng.normal(0, 0.08, (n, 2))).astype("float32")


fig, ax = plt.subplots(figsize=(3.4, 3.4))
ax.scatter(*real_points(1000).T, s=3)
ax.set(aspect="equal", xlim=(-3, 3), ylim=(-3, 3), title="The real data: 8 blobs")
fig.tight_layout()

# %% [markdown]
# ## The game, in one formula
#
# Write $D(x) = \sigma(\text{logit})$ for D's probability that $x$ is real. The original paper
# states the game as a **minimax** problem:
#
# $$\min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim \text{data}}\big[\log D(x)\big]
#   + \mathbb{E}_{z}\big[\log\big(1 - D(G(z))\big)\big].$$
#
# $D$ maximises $V$: that is exactly minimising binary cross-entropy with real examples
# labelled 1 and fakes labelled 0. For a fixed $G$, the best $D$ is
# $D^*(x) = p_\text{data}(x) / (p_\text{data}(x) + p_G(x))$: the share of examples at $x$ that
# are real. Put that back into $V$, and what is left for $G$ to minimise is (up to constants)
# the Jensen-Shannon divergence between the data distribution and $G$'s: it is smallest, and
# the game is at rest, exactly when $p_G = p_\text{data}$. Then $D^*(x) = 1/2$ everywhere: a coin
# flip.
#
# ## Why G does not minimise that formula in practice
#
# $G$'s part of $V$ is $\log(1 - D(G(z)))$. Early in training, $G$'s fakes are bad, $D$ rejects
# them confidently ($D(G(z)) \approx 0$), and there this term is flat: $G$ gets almost no
# gradient exactly when it most needs one. The same paper suggests a fix: let $G$ *maximise*
# $\log D(G(z))$ instead, i.e. minimise $-\log D(G(z))$, which is binary cross-entropy with the
# fakes labelled 1 ("real"). Same goal (fool $D$), but steep where $D$ is confident. It is
# called the **non-saturating** loss, and it is what Keras code (and the course's GAN trainer)
# uses. The gradients, with respect to D's logit for a fake:

# %%
logit = np.linspace(-8, 8, 321).astype("float32")
zeros_, ones_ = np.zeros((len(logit), 1), "float32"), np.ones((len(logit), 1), "float32")
bce = keras.losses.BinaryCrossentropy(from_logits=True, reduction=None)
saturating = -ops.convert_to_numpy(bce(zeros_, logit[:, None]))  # log(1 - D): G minimises it
non_saturating = ops.convert_to_numpy(bce(ones_, logit[:, None]))  # -log D
slope_sat, slope_ns = np.gradient(saturating, logit), np.gradient(non_saturating, logit)

fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(9, 3.2))
for ax, curves in ((ax_loss, (saturating, non_saturating)), (ax_grad, (slope_sat, slope_ns))):
    ax.plot(logit, curves[0], label="log(1 - D(G(z)))  (minimax)")
    ax.plot(logit, curves[1], label="-log D(G(z))  (non-saturating)")
    ax.axvspan(-8, -3, color="red", alpha=0.08)
    ax.set(xlabel="D's logit for a fake (negative: 'fake')")
    ax.legend(fontsize=7)
ax_loss.set(ylabel="G's loss", title="Generator losses")
ax_grad.set(ylabel="d loss / d logit", title="Their gradients")
fig.tight_layout()
at = np.searchsorted(logit, -6.0)
print(f"where D is sure the fake is fake (logit -6): minimax slope {slope_sat[at]:.4f}, "
      f"non-saturating slope {slope_ns[at]:.4f}")
assert abs(slope_sat[at]) < 0.01 and abs(slope_ns[at]) > 0.99

# %% [markdown]
# In the shaded region (D confident, as it is at the start) the minimax loss is flat and the
# non-saturating one is steep. Both push the logit the same way.
#
# ## The two players
#
# Both are small dense networks. The generator maps 4 numbers of noise to a point; the
# discriminator maps a point to one logit.

# %%
LATENT = 4  # length of the noise vector z

runtime.seed_everything(0)
generator = keras.Sequential([
    keras.Input((LATENT,)),
    layers.Dense(64, activation="relu"),
    layers.Dense(64, activation="relu"),
    layers.Dense(2),  # a point in the plane
], name="generator")
discriminator = keras.Sequential([
    keras.Input((2,)),
    layers.Dense(64),
    layers.LeakyReLU(0.2),
    layers.Dense(64),
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
# 1. **D's turn**: show it a batch of real points labelled 1 and a batch of fakes labelled 0;
#    one gradient step on binary cross-entropy.
# 2. **G's turn**: generate fakes and label them 1 ("real"), then take one gradient step on the
#    *stacked* model $D(G(z))$ with **D frozen**, so only $G$ changes: the non-saturating loss,
#    moving $G$'s points in the direction that makes $D$ more convinced they are real.
#
# The stacked model is compiled once. The catch: Keras 3 decides which weights to train when a
# step runs, not when a model is compiled. So `discriminator.trainable` must be switched on
# before every D step and off before every G step. (The older recipe of freezing D once
# before compiling the stacked model leaves D never training at all in Keras 3.)

# %%
bce_logits = keras.losses.BinaryCrossentropy(from_logits=True)
discriminator.compile(optimizer=keras.optimizers.Adam(3e-3, beta_1=0.5), loss=bce_logits)
stacked = keras.Sequential([generator, discriminator], name="stacked")
stacked.compile(optimizer=keras.optimizers.Adam(3e-3, beta_1=0.5), loss=bce_logits)

BATCH = 128
ones, zeros = np.ones((BATCH, 1), "float32"), np.zeros((BATCH, 1), "float32")
fixed_z = rng.normal(size=(500, LATENT)).astype("float32")  # the same noise at every snapshot


def noise(n=BATCH):
    return rng.normal(size=(n, LATENT)).astype("float32")


def play(steps, log, snapshots, snapshot_every=175):
    for _ in range(steps):
        real = real_points(BATCH)
        fake = ops.convert_to_numpy(generator(noise()))
        discriminator.trainable = True   # D's turn
        d_loss = discriminator.train_on_batch(np.concatenate([real, fake]),
                                              np.concatenate([ones, zeros]))
        discriminator.trainable = False  # G's turn: only G may change
        g_loss = stacked.train_on_batch(noise(), ones)
        log["d_loss"].append(float(d_loss))
        log["g_loss"].append(float(g_loss))
        step = len(log["d_loss"])
        if step % 25 == 0:
            p_real = ops.convert_to_numpy(ops.sigmoid(discriminator(real)))
            p_fake = ops.convert_to_numpy(ops.sigmoid(discriminator(fake)))
            log["step"].append(step)
            log["p_real"].append(float(p_real.mean()))
            log["p_fake"].append(float(p_fake.mean()))
        if step % snapshot_every == 0:
            snapshots[step] = ops.convert_to_numpy(generator(fixed_z))


log = {"d_loss": [], "g_loss": [], "step": [], "p_real": [], "p_fake": []}
snapshots = {0: ops.convert_to_numpy(generator(fixed_z))}
play(700, log, snapshots)
print("steps played:", len(log["d_loss"]))

# %% [markdown]
# ## Watching the game
#
# The same 500 noise vectors, pushed through the generator as training goes on (orange), over
# the real data (grey):

# %%
reference = real_points(1000)
fig, axes = plt.subplots(1, len(snapshots), figsize=(2.4 * len(snapshots), 2.6))
for ax, (step, points) in zip(axes, snapshots.items()):
    ax.scatter(*reference.T, s=2, color="lightgray")
    ax.scatter(*points.T, s=2, color="tab:orange")
    ax.set(aspect="equal", xlim=(-3, 3), ylim=(-3, 3), xticks=[], yticks=[],
           title=f"step {step}")
fig.suptitle("Generator samples (orange) over the real data (grey)")
fig.tight_layout()

# %% [markdown]
# And the scoreboard. Early on, D tells real from fake easily. As G improves, D's two
# probabilities drift towards each other and towards 0.5: neither player "wins", and the losses
# do not fall steadily the way a classifier's do. That is normal for a GAN, and it is why a
# GAN's loss curve says little about sample quality: look at the samples, and measure them.

# %%
fig, (ax_p, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.2))
ax_p.plot(log["step"], log["p_real"], label="D(real)")
ax_p.plot(log["step"], log["p_fake"], label="D(fake)")
ax_p.axhline(0.5, color="gray", ls=":")
ax_p.set(xlabel="step", ylabel="mean probability 'real'", ylim=(0, 1),
         title="What the discriminator believes")
ax_p.legend()
window = 25
for key in ("d_loss", "g_loss"):
    smooth = np.convolve(log[key], np.ones(window) / window, mode="valid")
    ax_loss.plot(np.arange(window, len(log[key]) + 1), smooth, label=key)
ax_loss.set(xlabel="step", ylabel=f"loss ({window}-step average)", title="Losses")
ax_loss.legend()
fig.tight_layout()

# %% [markdown]
# ## Measuring variety
#
# A generator can put every sample on a convincing blob and still be a poor model of the data
# if it only uses a few of the blobs. Here variety is easy to measure: assign each sample to the
# nearest blob centre (if it is within 0.3 of one), and count the blobs that receive at least a
# quarter of their fair share ($1/8$) of the samples.

# %%
def census(points):
    """(blobs covered, share of samples near some blob, samples per blob)."""
    distance = np.linalg.norm(points[:, None, :] - CENTRES[None], axis=-1)
    near = distance.min(axis=1) < 0.3
    per_blob = np.bincount(distance.argmin(axis=1)[near], minlength=MODES)
    covered = int((per_blob >= 0.25 * len(points) / MODES).sum())
    return covered, float(near.mean()), per_blob


after_game = ops.convert_to_numpy(generator(noise(2000)))
covered_game, near_game, per_blob_game = census(after_game)
print(f"after the game: {covered_game} of {MODES} blobs covered, "
      f"{near_game:.0%} of samples on a blob; per blob {per_blob_game.tolist()}")
assert covered_game >= 6

# %% [markdown]
# ## Mode collapse
#
# The game only works while the players keep each other in check. Suppose D stops learning
# and G keeps training against it. G's best reply to a *fixed* D is to put every sample
# wherever D is currently most convinced, whatever the noise $z$ says. Variety then costs G
# nothing to give up, and it does. We freeze D and give G 250 more steps alone, with a larger
# learning rate so that it runs well ahead:

# %%
discriminator.trainable = False
stacked.optimizer.learning_rate.assign(1e-2)  # was 3e-3
for _ in range(250):
    stacked.train_on_batch(noise(), ones)
collapsed = ops.convert_to_numpy(generator(noise(2000)))
covered_alone, near_alone, per_blob_alone = census(collapsed)
print(f"after G alone:  {covered_alone} of {MODES} blobs covered, "
      f"{near_alone:.0%} of samples on a blob; per blob {per_blob_alone.tolist()}")
assert covered_alone <= 4 and covered_alone < covered_game

grid = np.stack(np.meshgrid(np.linspace(-3, 3, 120), np.linspace(-3, 3, 120)), -1)
belief = ops.convert_to_numpy(ops.sigmoid(discriminator(grid.reshape(-1, 2).astype("float32"))))
fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
for ax, (title, points) in zip(axes, (("after the game", after_game),
                                      ("after G alone", collapsed))):
    ax.contourf(grid[..., 0], grid[..., 1], belief.reshape(120, 120), levels=20, cmap="Greens")
    ax.scatter(*reference.T, s=2, color="gray")
    ax.scatter(*points[:500].T, s=2, color="tab:orange")
    ax.set(aspect="equal", xticks=[], yticks=[], title=title)
fig.suptitle("Samples (orange) over the frozen D's belief 'real' (green: high)")
fig.tight_layout()

# %% [markdown]
# The generator now piles its samples onto the few places the frozen discriminator likes best,
# whatever the noise: most blobs are abandoned, though each sample still looks "real" to D. In
# real training, collapse happens in a milder, moving form: G concentrates on a few modes, D
# learns to reject them, G jumps to a few others, and so on. Remedies include keeping the two
# players balanced (learning rates, steps per turn), letting D compare samples within a batch
# so that it can notice a lack of variety, and different losses (for example the Wasserstein
# GAN). When grading or comparing GANs, measure variety, not only realism: the `gan`
# assignment's grader counts which digits a generator draws for exactly this reason.

# %% [markdown]
# ## Change one line
#
# 1. In `play`, skip D's turn (comment out its `train_on_batch`). What does G learn against a
#    discriminator that never improves?
# 2. Switch G to the minimax loss: compile `stacked` with
#    `loss=lambda y, logit: -keras.losses.binary_crossentropy(0 * y, logit, from_logits=True)`,
#    which is $\log(1 - D(G(z)))$. How far does G get in 700 steps? Explain with the gradient
#    plot.
# 3. Give the generator `LATENT = 1` (one noise number). Can a continuous map from a line reach
#    eight separate blobs without leaving samples between them?
# 4. In the collapse cell, freeze G instead and train D alone for 250 steps. What happens to
#    D's belief map?

# %% [markdown]
# ## Self-check questions
#
# 1. Why does the generator never need a target output for a given noise vector $z$? Where do
#    its gradients come from?
#
#    <details><summary>Answer</summary>
#
#    Its loss is defined through $D$: "make $D$ say real". The gradient of that loss flows
#    back through $D$ (frozen) into $G$'s weights, telling each sample which way to move to look
#    more real to $D$.
#    </details>
#
# 2. What goes wrong if `discriminator.trainable` is left `True` during G's turn? And if it is
#    left `False` during D's turn?
#
#    <details><summary>Answer</summary>
#
#    During G's turn D would also be trained on fakes labelled "real", i.e. taught to be
#    fooled. During D's turn nothing would be trained: D never improves and G soon exploits it.
#    </details>
#
# 3. At the ideal end of the game, what probability does D assign to real and to fake
#    examples, and why?
#
#    <details><summary>Answer</summary>
#
#    1/2 to both: $D^*(x) = p_\text{data}(x) / (p_\text{data}(x) + p_G(x))$, and at the end
#    $p_G = p_\text{data}$, so there is nothing left to tell them apart.
#    </details>
#
# 4. Why does the minimax generator loss $\log(1 - D(G(z)))$ give almost no gradient early in
#    training, and what does the non-saturating loss change?
#
#    <details><summary>Answer</summary>
#
#    Its slope with respect to D's logit is $-\sigma(\text{logit})$, which is near 0 when D
#    confidently rejects the fakes (large negative logit). $-\log D(G(z))$ has slope
#    $\sigma(\text{logit}) - 1 \approx -1$ there: the same direction, full strength.
#    </details>
#
# 5. The collapsed generator's samples all sit near real blobs. Why is it nevertheless a worse
#    generative model, and which number above shows it?
#
#    <details><summary>Answer</summary>
#
#    A generative model should reproduce the whole distribution, not a few of its modes. The
#    number of blobs covered (and the per-blob counts) shows the lost variety, even though the
#    share of samples on some blob stays high.
#    </details>
