"""perceptron_fit with labels mapped to -1/+1 and a vectorised mistake test; functional builders."""
import numpy as np


def perceptron_fit(X, y, epochs=20, learning_rate=0.1):
    X = np.asarray(X, dtype=float)
    signs = np.where(np.asarray(y).ravel() > 0, 1.0, -1.0)
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        changed = False
        for x, s in zip(X, signs):
            if s * (x @ w + b) <= 0:
                w, b = w + learning_rate * s * x, b + learning_rate * s
                changed = True
        if not changed:
            break
    return w, b


def build_perceptron(input_dim):
    inputs = keras.Input((input_dim,))
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def build_mlp(input_dim):
    inputs = keras.Input((input_dim,))
    x = layers.Dense(32, activation="tanh")(inputs)
    x = layers.Dense(16, activation="tanh")(x)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model
