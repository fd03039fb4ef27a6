"""Reference solution for the `rnn` assignment: an LSTM by hand, then a gated recurrent
classifier for sequences."""
import keras
import numpy as np
from keras import layers


def lstm_forward(x, kernel, recurrent_kernel, bias):
    """An LSTM layer's forward pass from zero states, in NumPy: every step's hidden state.

    ``x`` (batch, timesteps, features); ``kernel`` (features, 4 * units), ``recurrent_kernel``
    (units, 4 * units) and ``bias`` (4 * units,) as ``keras.layers.LSTM`` stores them, the four
    gates side by side in the order input, forget, cell candidate, output. Returns
    (batch, timesteps, units), what ``keras.layers.LSTM(units, return_sequences=True)`` returns.
    """
    x = np.asarray(x)
    kernel, recurrent_kernel, bias = (np.asarray(a) for a in (kernel, recurrent_kernel, bias))
    def sigmoid(z):
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow

    units = recurrent_kernel.shape[0]
    h = np.zeros((x.shape[0], units), dtype=np.result_type(x, kernel))
    c = np.zeros_like(h)
    states = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias  # (batch, 4 * units)
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        states.append(h)
    return np.stack(states, axis=1)


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
