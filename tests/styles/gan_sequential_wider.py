"""Sequential generator and discriminator, two hidden layers each, dropout in the discriminator."""


def build_generator(latent_dim, image_shape):
    return keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Dense(128, activation="relu"),
        layers.Dense(128, activation="relu"),
        layers.Dense(image_shape[0] * image_shape[1] * image_shape[2], activation="sigmoid"),
        layers.Reshape(image_shape),
    ])


def build_discriminator(image_shape):
    return keras.Sequential([
        keras.Input(image_shape),
        layers.Flatten(),
        layers.Dense(128),
        layers.LeakyReLU(0.2),
        layers.Dropout(0.2),
        layers.Dense(1),
    ])
