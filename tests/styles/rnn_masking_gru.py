"""Masking before a GRU (the mask propagates to the recurrent layer), as for padded sequences;
-1 marks padding, which this data never holds."""


def build_rnn(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = layers.Masking(mask_value=-1.0)(inputs)
    x = layers.GRU(64)(x)
    outputs = layers.Dense(num_classes)(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model
