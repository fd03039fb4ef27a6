"""Reference solution for the `perceptron` assignment: Rosenblatt's rule, a backward pass by
hand, then Keras models."""
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
    """Gradients of a one-hidden-layer network's loss, in NumPy: ``(dW1, db1, dW2, db2)``.

    The network: ``h = tanh(X @ W1 + b1)``, ``p = sigmoid(h @ W2 + b2)``; the loss is the mean
    over the batch of the binary cross-entropy between ``y`` (0/1) and ``p``. ``X`` (n, d),
    ``y`` (n,), ``W1`` (d, k), ``b1`` (k,), ``W2`` (k, 1), ``b2`` (1,); each gradient has the
    shape of its parameter.
    """
    X, y = np.asarray(X), np.asarray(y).reshape(-1, 1)
    h = np.tanh(X @ W1 + b1)  # forward pass, keeping what the backward pass needs
    p = 0.5 * (1.0 + np.tanh(0.5 * (h @ W2 + b2)))  # sigmoid, without overflow
    dz = (p - y) / len(X)  # d loss / d logit: sigmoid + cross-entropy, averaged over n
    dW2, db2 = h.T @ dz, dz.sum(axis=0)
    da = (dz @ np.asarray(W2).T) * (1.0 - h ** 2)  # back through W2, then tanh' = 1 - tanh^2
    dW1, db1 = X.T @ da, da.sum(axis=0)
    return dW1, db1, dW2, db2
