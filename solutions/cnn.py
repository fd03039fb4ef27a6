"""Reference solution for the `cnn` assignment: a convolution and max pooling by hand, then a
small convolutional classifier."""
import keras
import numpy as np
from keras import layers


def conv2d_forward(x, kernel, bias, stride=1, padding=0):
    """A Conv2D layer's forward pass (no activation), in NumPy, channels last.

    ``x`` (batch, H, W, C_in); ``kernel`` (kh, kw, C_in, C_out) and ``bias`` (C_out,), laid out
    as ``keras.layers.Conv2D`` stores them; ``padding`` rows and columns of zeros on *each*
    side; ``stride`` in both directions. Returns (batch, H_out, W_out, C_out) with
    H_out = (H + 2 * padding - kh) // stride + 1 (and W_out alike).
    """
    x, kernel = np.asarray(x), np.asarray(kernel)
    kh, kw, _, c_out = kernel.shape
    x = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    out_h = (x.shape[1] - kh) // stride + 1
    out_w = (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, c_out), dtype=np.result_type(x, kernel))
    for i in range(kh):  # one kernel position at a time, every output pixel at once
        for j in range(kw):
            patch = x[:, i:i + stride * out_h:stride, j:j + stride * out_w:stride, :]
            out += patch @ kernel[i, j]  # (batch, out_h, out_w, C_in) @ (C_in, C_out)
    return out + np.asarray(bias)


def max_pool2d_forward(x, pool_size=2, stride=None):
    """A MaxPooling2D layer's forward pass (padding "valid"), in NumPy, channels last.

    ``x`` (batch, H, W, C); windows of ``pool_size`` x ``pool_size`` every ``stride`` pixels
    (``None``: ``pool_size``, as in Keras). Returns (batch, H_out, W_out, C) with
    H_out = (H - pool_size) // stride + 1 (and W_out alike).
    """
    x = np.asarray(x)
    stride = pool_size if stride is None else stride
    out_h = (x.shape[1] - pool_size) // stride + 1
    out_w = (x.shape[2] - pool_size) // stride + 1
    out = np.full((x.shape[0], out_h, out_w, x.shape[3]), -np.inf, dtype=x.dtype)
    for i in range(pool_size):
        for j in range(pool_size):
            out = np.maximum(out, x[:, i:i + stride * out_h:stride,
                                    j:j + stride * out_w:stride, :])
    return out


def build_cnn(input_shape, num_classes, *, filters=(32, 64, 64), dense_units=64,
              learning_rate=1e-3):
    """A compiled CNN for (H, W, 1) images: conv blocks, global max pooling, a dense head.

    Global max pooling keeps the strongest response of each filter wherever it occurs, so the
    classifier does not care where on the canvas the digit sits.
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
