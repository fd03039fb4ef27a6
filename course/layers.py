"""Layers the course library offers to students' models (Keras has no position layers).

The trusted trainer allows these by name when it rebuilds a submitted model.
"""
from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="course")
class TokenAndPositionEmbedding(layers.Layer):
    """Token embedding plus a learned embedding of each position 0..seq_len-1."""

    def __init__(self, seq_len: int, vocab_size: int, embed_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.seq_len = seq_len
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.token_emb = layers.Embedding(vocab_size, embed_dim)
        self.pos_emb = layers.Embedding(seq_len, embed_dim)

    def build(self, input_shape):
        self.token_emb.build(input_shape)
        self.pos_emb.build((self.seq_len,))
        self.built = True

    def call(self, tokens):
        positions = ops.arange(0, ops.shape(tokens)[-1], 1)
        return self.token_emb(tokens) + self.pos_emb(positions)

    def get_config(self):
        return {**super().get_config(), "seq_len": self.seq_len,
                "vocab_size": self.vocab_size, "embed_dim": self.embed_dim}


@keras.saving.register_keras_serializable(package="course")
class SinePositionEncoding(layers.Layer):
    """The fixed sine/cosine position table of "Attention is all you need" (2017), computed
    from the input's shape: add it to a sequence of embeddings, ``x = x + layer(x)``.

    Even features are ``sin(p / max_wavelength ** (i / d))``, odd ones the matching cosine
    (as keras_hub's layer of the same name). No weights: nothing to learn, nothing to submit.
    """

    def __init__(self, max_wavelength: float = 10000.0, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength

    def call(self, inputs):
        shape = ops.shape(inputs)
        length, depth = shape[-2], shape[-1]
        dtype = self.compute_dtype
        positions = ops.cast(ops.arange(length), dtype)
        features = ops.arange(depth)
        exponent = ops.cast(2 * (features // 2), dtype) / ops.cast(depth, dtype)
        timescales = ops.power(ops.cast(1.0 / self.max_wavelength, dtype), exponent)
        angles = ops.expand_dims(positions, 1) * ops.expand_dims(timescales, 0)
        odd = ops.cast(features % 2, dtype)
        table = ops.sin(angles) * (1 - odd) + ops.cos(angles) * odd
        return ops.broadcast_to(table, shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength}
