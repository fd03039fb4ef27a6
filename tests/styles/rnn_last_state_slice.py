"""An LSTM over every step, then its last state taken by slicing: states[:, -1, :]."""


def build_rnn(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    states = layers.LSTM(64, return_sequences=True)(inputs)
    last = states[:, -1, :]  # the state after the last step, as LSTM(64) would return it
    outputs = layers.Dense(num_classes, activation="softmax")(last)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
