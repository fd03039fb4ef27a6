"""Reference solution for the `cnn` assignment: a small convolutional classifier."""
import keras
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
