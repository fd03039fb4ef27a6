"""Layers the course library offers to students' models (Keras has no positional embedding).

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
