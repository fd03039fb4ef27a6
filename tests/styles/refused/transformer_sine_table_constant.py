"""The same fixed sine positions written out as a NumPy table added to the embedding: the
grader refuses tables of numbers and names the course layer that makes this one."""
import numpy as np


def build_transformer(seq_len, vocab_size, num_classes):
    position, feature = np.arange(seq_len)[:, None], np.arange(32)[None, :]
    angle = position / 10000 ** (2 * (feature // 2) / 32)
    table = np.where(feature % 2 == 0, np.sin(angle), np.cos(angle)).astype("float32")
    tokens = keras.Input((seq_len,), dtype="int32")
    x = layers.Embedding(vocab_size, 32)(tokens) + table
    x = layers.LayerNormalization()(x + layers.MultiHeadAttention(2, 16)(x, x))
    outputs = layers.Dense(num_classes)(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(tokens, outputs)
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model
