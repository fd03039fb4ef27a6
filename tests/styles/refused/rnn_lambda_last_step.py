"""The last step taken with a Lambda layer instead of slicing: refused, and told to slice."""


def build_rnn(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    states = layers.LSTM(64, return_sequences=True)(inputs)
    last = layers.Lambda(lambda s: s[:, -1, :])(states)
    outputs = layers.Dense(num_classes)(last)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model
