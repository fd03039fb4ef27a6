"""Training a GAN the Keras 3 way, on any backend: alternating ``train_on_batch`` steps.

The same trainer serves students in notebooks and the trusted grader, so a generator and a
discriminator are trained the same way in both places. Both models arrive *uncompiled*; this
module compiles them (binary cross-entropy on logits, Adam) and takes turns:

1. **D's turn**: a batch of real images labelled 1 and a batch of fakes labelled 0, one step.
2. **G's turn**: fresh noise labelled 1 ("real") through the stacked model ``D(G(z))`` with D
   frozen, one step (the non-saturating generator loss ``-log D(G(z))``).

Keras 3 reads a layer's ``trainable`` flag when a step runs, not when a model is compiled, so
``discriminator.trainable`` is switched on before every D step and off before every G step.
Only ``keras.ops`` and NumPy are used: TensorFlow, JAX and PyTorch all work.

Noise and the choice of real images come from a NumPy generator seeded by ``seed``; seed the
backend with :func:`course.runtime.seed_everything` before building the models, and a rerun is
bit-identical.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .training import BATCH_SIZE

# Two time scales (Heusel et al. 2017): the discriminator learns faster than the generator.
# With one rate for both (2e-4, DCGAN's), a generator a little stronger than its discriminator
# collapsed to 1-2 classes on every seed; with these, it covers 9-10 and wrong generators
# still fail (bench/results/measure_gan.md).
LEARNING_RATE = 4e-4  # the discriminator's Adam
G_LEARNING_RATE = 1e-4  # the generator's Adam
BETA_1 = 0.5
REAL_LABEL = 1.0
LOG_EVERY = 50  # steps per history entry (losses are averaged over them)


@dataclass
class GanResult:
    """What :func:`train_gan` returns.

    ``history`` holds one entry per ``log_every`` steps: ``step`` (steps done so far), and the
    mean ``d_loss`` / ``g_loss`` over those steps.
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    steps_run: int = 0
    stopped_by_time: bool = False


def _scalar(value) -> float:
    """``train_on_batch`` returns a scalar or a list (loss first) depending on metrics."""
    return float(np.asarray(value, dtype="float64").ravel()[0])


def _noise(rng: np.random.Generator, n: int, latent_dim: int) -> np.ndarray:
    return rng.standard_normal((n, latent_dim)).astype("float32")


def train_gan(generator, discriminator, images, *, latent_dim: int, steps: int,
              batch_size: int = BATCH_SIZE, max_seconds: float | None = None, progress: bool = True,
              seed: int = 0, log_every: int = LOG_EVERY, learning_rate: float = LEARNING_RATE,
              g_learning_rate: float = G_LEARNING_RATE, beta_1: float = BETA_1,
              real_label: float = REAL_LABEL, desc: str = "GAN", callback=None) -> GanResult:
    """Train ``generator`` and ``discriminator`` against each other for ``steps`` steps.

    ``images``: real images, float32 in [0, 1], shaped like the generator's output. One step is
    one discriminator update (``batch_size`` real + ``batch_size`` fake) then one generator
    update (``batch_size`` noise vectors). ``max_seconds`` stops after the step that crosses it.
    Both models are compiled here (any earlier compile is replaced); the discriminator is left
    trainable afterwards. ``callback(step)``, if given, runs after each history entry (for
    snapshots of samples as training goes on).
    """
    import keras

    if steps < 1 or batch_size < 1:
        raise ValueError(f"need steps >= 1 and batch_size >= 1, got {steps} and {batch_size}")
    images = np.asarray(images, dtype="float32")
    rng = np.random.default_rng(seed)

    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    discriminator.trainable = True
    discriminator.compile(optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1), loss=bce)
    z_in = keras.Input((latent_dim,), name="noise")
    stacked = keras.Model(z_in, discriminator(generator(z_in)), name="generator_then_discriminator")
    stacked.compile(optimizer=keras.optimizers.Adam(g_learning_rate, beta_1=beta_1), loss=bce)

    ones = np.ones((batch_size, 1), "float32")
    d_labels = np.concatenate([np.full((batch_size, 1), real_label, "float32"),
                               np.zeros((batch_size, 1), "float32")])
    g_trainable = bool(generator.trainable_weights)  # a frozen generator: evaluate, not train

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=desc, unit="step", leave=False)
    history: dict[str, list[float]] = {"step": [], "d_loss": [], "g_loss": []}
    d_sum = g_sum = 0.0
    n_sum = 0
    stopped = False
    start = time.perf_counter()
    step = 0
    try:
        for step in range(1, steps + 1):
            real = images[rng.integers(0, len(images), batch_size)]
            fake = np.asarray(generator.predict_on_batch(_noise(rng, batch_size, latent_dim)),
                              dtype="float32").reshape(real.shape)
            discriminator.trainable = True  # D's turn
            d_loss = _scalar(discriminator.train_on_batch(np.concatenate([real, fake]), d_labels))
            discriminator.trainable = False  # G's turn: D must not move
            z = _noise(rng, batch_size, latent_dim)
            if g_trainable:
                g_loss = _scalar(stacked.train_on_batch(z, ones))
            else:
                g_loss = _scalar(stacked.test_on_batch(z, ones))
            d_sum, g_sum, n_sum = d_sum + d_loss, g_sum + g_loss, n_sum + 1
            if step % log_every == 0 or step == steps:
                history["step"].append(step)
                history["d_loss"].append(d_sum / n_sum)
                history["g_loss"].append(g_sum / n_sum)
                d_sum = g_sum = 0.0
                n_sum = 0
                if callback is not None:
                    callback(step)
                if bar is not None:
                    bar.set_postfix(d_loss=f"{history['d_loss'][-1]:.3f}",
                                    g_loss=f"{history['g_loss'][-1]:.3f}")
            if bar is not None:
                bar.update(1)
            if max_seconds is not None and time.perf_counter() - start > max_seconds:
                stopped = step < steps
                break
    finally:
        discriminator.trainable = True
        if bar is not None:
            bar.close()
    if n_sum:  # a time cap hit between log points
        history["step"].append(step)
        history["d_loss"].append(d_sum / n_sum)
        history["g_loss"].append(g_sum / n_sum)
    return GanResult(history, time.perf_counter() - start, step, stopped)


def sample(generator, n: int, latent_dim: int, seed: int = 0, *,
           batch_size: int = 256) -> np.ndarray:
    """``n`` images from ``generator`` for noise drawn with ``seed``: float32, clipped to [0, 1].

    Non-finite pixels (a diverged generator) become 0.
    """
    z = _noise(np.random.default_rng(seed), n, latent_dim)
    parts = [np.asarray(generator.predict_on_batch(z[i:i + batch_size]), dtype="float32")
             for i in range(0, n, batch_size)]
    out = np.concatenate(parts) if parts else np.zeros((0,), "float32")
    out = np.nan_to_num(out, nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(out, 0.0, 1.0).astype("float32")
