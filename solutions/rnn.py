"""Reference solution for the `rnn` assignment: a gated recurrent classifier for sequences."""
import keras
import numpy as np
from keras import layers


def build_rnn(input_shape, num_classes, *, units=64, cell="lstm", learning_rate=3e-3):
    """A compiled recurrent classifier for (timesteps, features) sequences.

    The recurrent layer reads the sequence step by step and hands its final hidden state (a
    summary of everything it has read, in order) to a dense classifier.
    """
    recurrent = {"lstm": layers.LSTM, "gru": layers.GRU}[cell]
    inputs = keras.Input(shape=input_shape)
    x = recurrent(units)(inputs)  # return_sequences=False: only the last state
    outputs = layers.Dense(num_classes)(x)  # logits
    model = keras.Model(inputs, outputs, name="rnn")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def search_space(hp):
    """keras-tuner's ``hp`` -> build_rnn's keyword arguments (used by ``course tune rnn``)."""
    return {"units": hp.Int("units", 32, 128, step=32), "cell": hp.Choice("cell", ["lstm", "gru"]),
            "learning_rate": hp.Float("learning_rate", 1e-3, 1e-2, sampling="log")}


def lstm_forward(x, kernel, recurrent_kernel, bias):
    """What ``layers.LSTM(units, return_sequences=True)`` computes, by hand, from zero states.

    ``x`` (batch, T, D); ``kernel`` (D, 4 units), ``recurrent_kernel`` (units, 4 units) and
    ``bias`` (4 units,) hold the four gates side by side in Keras' order: input, forget,
    candidate, output. Returns every hidden state, (batch, T, units).
    """
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    recurrent_kernel = np.asarray(recurrent_kernel, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    units = recurrent_kernel.shape[0]
    h = np.zeros((x.shape[0], units))
    c = np.zeros((x.shape[0], units))
    states = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        i, f, o = (0.5 * (1.0 + np.tanh(0.5 * v)) for v in (i, f, o))  # sigmoid, no overflow
        c = f * c + i * np.tanh(g)
        h = o * np.tanh(c)
        states.append(h)
    return np.stack(states, axis=1)
