"""Reference solution for the `cnn` assignment: a small convolutional classifier."""
import keras
import numpy as np
from keras import layers


def build_cnn(input_shape, num_classes, *, filters=(32, 64, 64), dense_units=64,
              learning_rate=1e-3):
    """A compiled CNN for (H, W, 1) images: conv blocks, global max pooling, a dense head.

    Global max pooling keeps the strongest response of each filter wherever it occurs, so the
    classifier does not care where on the canvas the pattern sits.
    """
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for i, n in enumerate(filters):
        x = layers.Conv2D(n, 3, padding="same", activation="relu")(x)
        if i < len(filters) - 1:
            x = layers.MaxPooling2D()(x)
    x = layers.GlobalMaxPooling2D()(x)
    x = layers.Dense(dense_units, activation="relu")(x)
    outputs = layers.Dense(num_classes)(x)  # logits
    model = keras.Model(inputs, outputs, name="cnn")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def search_space(hp):
    """keras-tuner's ``hp`` -> build_cnn's keyword arguments (used by ``course tune cnn``)."""
    width = hp.Choice("width", [16, 32, 48])
    return {"filters": (width, 2 * width, 2 * width),
            "dense_units": hp.Int("dense_units", 32, 128, step=32),
            "learning_rate": hp.Float("learning_rate", 3e-4, 3e-3, sampling="log")}


def conv2d_forward(x, kernel, bias, stride=1, padding="valid"):
    """What ``layers.Conv2D`` computes, by hand: cross-correlation (the kernel is not flipped).

    ``x`` (batch, H, W, C), ``kernel`` (kh, kw, C, F), ``bias`` (F,); ``padding`` "valid" (no
    padding) or "same" (zeros around x so that the output is ceil(H / stride) high, the odd one
    at the bottom and right, as Keras does). Returns (batch, H_out, W_out, F).
    """
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    kh, kw = kernel.shape[:2]
    if padding == "same":  # zeros so that the output has ceil(size / stride) rows and columns
        pads = [(0, 0)]
        for size, k in ((x.shape[1], kh), (x.shape[2], kw)):
            total = max((-(-size // stride) - 1) * stride + k - size, 0)
            pads.append((total // 2, total - total // 2))  # the odd one goes after
        x = np.pad(x, pads + [(0, 0)])
    elif padding != "valid":
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    rows = (x.shape[1] - kh) // stride + 1
    cols = (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], rows, cols, kernel.shape[3]))
    for i in range(kh):  # one kernel tap at a time, over every output position at once
        for j in range(kw):
            patch = x[:, i:i + stride * (rows - 1) + 1:stride, j:j + stride * (cols - 1) + 1:stride]
            out += patch @ kernel[i, j]  # (batch, rows, cols, C) @ (C, F)
    return out + np.asarray(bias, dtype=np.float64)


def max_pool2d(x, pool_size=2, stride=None):
    """What ``layers.MaxPooling2D`` computes with "valid" padding: the largest value of each
    pool_size x pool_size window, windows ``stride`` apart (default: pool_size, no overlap).

    ``x`` (batch, H, W, C) -> (batch, (H - pool_size) // stride + 1, ..., C).
    """
    x = np.asarray(x, dtype=np.float64)
    stride = pool_size if stride is None else stride
    rows = (x.shape[1] - pool_size) // stride + 1
    cols = (x.shape[2] - pool_size) // stride + 1
    out = np.full((x.shape[0], rows, cols, x.shape[3]), -np.inf)
    for i in range(pool_size):
        for j in range(pool_size):
            out = np.maximum(out, x[:, i:i + stride * (rows - 1) + 1:stride,
                                    j:j + stride * (cols - 1) + 1:stride])
    return out
