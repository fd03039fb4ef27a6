"""Reference solution for the `gan` assignment: the two losses by hand, then a small dense
generator and discriminator."""
import math

import keras
import numpy as np
from keras import layers


def discriminator_loss(real_logits, fake_logits):
    """The discriminator's loss from its logits, in NumPy: binary cross-entropy with label 1 on
    real images plus binary cross-entropy with label 0 on generated ones, each the mean over
    its batch. Logits of any shape ((batch, 1) or (batch,)); returns a float. Finite for every
    finite logit, however large.
    """
    real_logits, fake_logits = np.asarray(real_logits), np.asarray(fake_logits)
    # -log(sigmoid(z)) = log(1 + exp(-z)); -log(1 - sigmoid(z)) = log(1 + exp(z)); logaddexp
    # computes log(exp(0) + exp(v)) exactly for every v
    return float(np.mean(np.logaddexp(0.0, -real_logits))
                 + np.mean(np.logaddexp(0.0, fake_logits)))


def generator_loss(fake_logits):
    """The non-saturating generator loss from the discriminator's logits on generated images,
    in NumPy: binary cross-entropy with label 1 (-log D(G(z))), the mean over the batch.
    Returns a float; finite for every finite logit.
    """
    return float(np.mean(np.logaddexp(0.0, -np.asarray(fake_logits))))


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
