"""Reference solution for the `gan` assignment: a small dense generator and discriminator."""
import math

import keras
import numpy as np
from keras import layers


def build_generator(latent_dim, image_shape, *, hidden=(128,), activation="relu"):
    """Noise of length ``latent_dim`` in, an image of ``image_shape`` with pixels in [0, 1] out.

    A hidden dense layer widens the noise, and a sigmoid output layer (one unit per pixel) keeps
    every pixel between 0 and 1, like the real images. Not compiled: the course's GAN trainer
    compiles and trains it.
    """
    inputs = keras.Input(shape=(latent_dim,))
    x = inputs
    for units in hidden:
        x = layers.Dense(units, activation=activation)(x)
    x = layers.Dense(math.prod(image_shape), activation="sigmoid")(x)
    outputs = layers.Reshape(tuple(image_shape))(x)
    return keras.Model(inputs, outputs, name="generator")


def build_discriminator(image_shape, *, hidden=(128,), negative_slope=0.2):
    """An image in, one logit out (> 0 means "real"), shape (batch, 1). Not compiled.

    Leaky ReLUs keep a small gradient for negative inputs, so the generator always gets a
    signal. No sigmoid at the end: the trainer's loss applies it (``from_logits=True``), which is
    numerically safer and keeps gradients alive when the discriminator is very sure.
    """
    inputs = keras.Input(shape=tuple(image_shape))
    x = layers.Flatten()(inputs)
    for units in hidden:
        x = layers.Dense(units)(x)
        x = layers.LeakyReLU(negative_slope=negative_slope)(x)
    outputs = layers.Dense(1)(x)  # a logit
    return keras.Model(inputs, outputs, name="discriminator")


def discriminator_loss(real_logits, fake_logits):
    """Binary cross-entropy from logits, averaged over all real and fake logits together: real
    labelled 1 (loss -log sigmoid(z) = softplus(-z)), fake labelled 0 (softplus(z))."""
    real = np.ravel(np.asarray(real_logits, dtype=np.float64))
    fake = np.ravel(np.asarray(fake_logits, dtype=np.float64))
    # log(1 + exp(v)) as np.logaddexp(0, v): exact at any v, no overflow at v = 1000
    return float(np.concatenate([np.logaddexp(0.0, -real), np.logaddexp(0.0, fake)]).mean())


def generator_loss(fake_logits):
    """The non-saturating generator loss: mean of -log sigmoid(z) = softplus(-z) over the
    discriminator's logits for generated images (fake labelled as real)."""
    return float(np.logaddexp(0.0, -np.ravel(np.asarray(fake_logits, dtype=np.float64))).mean())
