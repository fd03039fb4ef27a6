"""Reference solution for the `transformer` assignment: attention by hand, then a transformer."""
import keras
import numpy as np
from keras import layers

from course.layers import TokenAndPositionEmbedding


def scaled_dot_product_attention(query, key, value, mask=None):
    """softmax(query key^T / sqrt(d)) value, in NumPy, over any leading batch dimensions.

    ``query`` (..., Tq, d), ``key`` (..., Tk, d), ``value`` (..., Tk, dv); ``mask`` (broadcastable
    to (..., Tq, Tk)) is true/1 where a query may attend to a key. Returns (..., Tq, dv).
    """
    query, key, value = np.asarray(query), np.asarray(key), np.asarray(value)
    d = query.shape[-1]
    scores = query @ np.swapaxes(key, -1, -2) / np.sqrt(d)  # (..., Tq, Tk)
    if mask is not None:
        scores = np.where(np.asarray(mask).astype(bool), scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)  # stable softmax: same result
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ value


def build_transformer(seq_len, vocab_size, num_classes, *, embed_dim=32, num_heads=2,
                      ff_dim=64, learning_rate=3e-3):
    """A compiled one-block transformer classifier for integer token sequences.

    Token + position embedding, self-attention with a residual connection and layer
    normalization, a position-wise feed-forward block (residual + normalization again), then the
    vector at the last position (the query's: attention has gathered the answer there) and a
    dense head.
    """
    tokens = keras.Input(shape=(seq_len,), dtype="int32")
    x = TokenAndPositionEmbedding(seq_len, vocab_size, embed_dim)(tokens)
    attended = layers.MultiHeadAttention(num_heads=num_heads,
                                         key_dim=embed_dim // num_heads)(x, x)
    x = layers.LayerNormalization()(x + attended)
    ff = layers.Dense(ff_dim, activation="relu")(x)
    ff = layers.Dense(embed_dim)(ff)
    x = layers.LayerNormalization()(x + ff)
    outputs = layers.Dense(num_classes)(x[:, -1, :])  # logits, read at the query
    model = keras.Model(tokens, outputs, name="transformer")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def search_space(hp):
    """keras-tuner's ``hp`` -> build_transformer's keyword arguments (``course tune
    transformer``)."""
    heads = hp.Choice("num_heads", [1, 2, 4])
    return {"embed_dim": hp.Choice("embed_dim", [16, 32, 64]), "num_heads": heads,
            "ff_dim": hp.Int("ff_dim", 32, 128, step=32),
            "learning_rate": hp.Float("learning_rate", 1e-3, 1e-2, sampling="log")}
