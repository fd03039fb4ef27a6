"""Reference solution for the `rnn` assignment: a gated recurrent classifier for sequences."""
import keras
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
