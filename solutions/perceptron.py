"""Reference solution for the `perceptron` assignment: Rosenblatt's rule, then Keras models."""
import keras
import numpy as np
from keras import layers


def perceptron_fit(X, y, epochs=20, learning_rate=0.1):
    """Rosenblatt's perceptron rule on labels 0/1; returns ``(w, b)``.

    One pass over the examples per epoch, in order. Each example ``x`` with label ``t`` is
    classified as ``p = 1 if x @ w + b > 0 else 0``; on a mistake the weights move by
    ``learning_rate * (t - p) * x`` and the bias by ``learning_rate * (t - p)``.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).ravel()
    w = np.zeros(X.shape[1])
    b = 0.0
    for _ in range(epochs):
        mistakes = 0
        for x, target in zip(X, y):
            predicted = 1 if x @ w + b > 0 else 0
            error = target - predicted
            if error != 0:
                w = w + learning_rate * error * x
                b = b + learning_rate * error
                mistakes += 1
        if mistakes == 0:  # every training point is on its right side: done
            break
    return w, float(b)


def build_perceptron(input_dim, *, learning_rate=0.05):
    """One sigmoid unit: a smooth perceptron, trained by gradient descent on cross-entropy."""
    model = keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(1, activation="sigmoid"),
    ], name="perceptron")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


def build_mlp(input_dim, *, hidden_units=16, learning_rate=0.01):
    """One hidden layer of ReLU units before the sigmoid output: enough to bend around XOR."""
    model = keras.Sequential([
        keras.Input(shape=(input_dim,)),
        layers.Dense(hidden_units, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ], name="mlp")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


def mlp_backward(X, y, W1, b1, W2, b2):
    """Gradients of the mean binary cross-entropy of p = sigmoid(tanh(X W1 + b1) W2 + b2).

    ``X`` (n, D), ``y`` (n,) labels 0/1, ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, 1), ``b2`` (1,).
    Returns (dW1, db1, dW2, db2), each the shape of its weight.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    h = np.tanh(X @ W1 + b1)
    p = 1.0 / (1.0 + np.exp(-(h @ W2 + b2)))
    dz = (p - y) / len(X)  # the loss's slope at the output's logit, per example
    da = (dz @ np.asarray(W2).T) * (1.0 - h ** 2)  # back through W2, then through tanh
    return X.T @ da, da.sum(axis=0), h.T @ dz, dz.sum(axis=0)
