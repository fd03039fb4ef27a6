"""A GRU instead of an LSTM, Sequential, softmax output."""


def build_rnn(input_shape, num_classes):
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        layers.GRU(64),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
