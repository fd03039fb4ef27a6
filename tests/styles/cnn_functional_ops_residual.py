"""Functional, keras.ops on symbolic tensors, a residual connection written with +, logits."""
from keras import ops


def build_cnn(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = ops.relu(layers.Conv2D(32, 3, padding="same")(inputs))
    x = layers.MaxPooling2D()(x)
    y = ops.relu(layers.Conv2D(32, 3, padding="same")(x))
    x = x + layers.Conv2D(32, 3, padding="same")(y)  # residual
    x = layers.MaxPooling2D()(ops.relu(x))
    x = ops.relu(layers.Conv2D(64, 3, padding="same")(x))
    x = ops.max(x, axis=(1, 2))  # global max pooling as an op
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(num_classes)(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model
