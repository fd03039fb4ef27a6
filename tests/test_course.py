"""The student-facing library: data splits, seeding, budgeted training, plots, layers."""
import numpy as np
import pytest

from course import data, plots, runtime, training


def test_translated_digits_have_fixed_stratified_splits():
    a = data.load_translated_digits(canvas=16, seed=0)
    assert a.sizes() == {"train": 861, "val": 288, "test": 288}  # the public pool's 1,437
    assert a.input_shape == (16, 16, 1) and a.x_train.dtype == np.float32
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    assert np.bincount(a.y_test).min() >= 27  # every class in the test split
    data.load_translated_digits.cache_clear()
    b = data.load_translated_digits(canvas=16, seed=0)
    assert np.array_equal(a.x_test, b.x_test) and np.array_equal(a.y_train, b.y_train)
    moved = [np.argwhere(img[..., 0] > 0).min(axis=0) for img in a.x_train[:50]]
    assert len({tuple(m) for m in moved}) > 10  # digits really sit at different places


def test_unknown_loader_and_small_canvas_are_explained():
    with pytest.raises(ValueError, match="expected one of"):
        data.load("imagenet")
    with pytest.raises(ValueError, match="at least 8"):
        data.load_translated_digits(canvas=6)


def test_missing_full_datasets_say_how_to_get_them(monkeypatch, tmp_path):
    import keras

    def offline():
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        data.load_fashion_mnist()


def _tiny_model():
    import keras

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_seeded_training_is_bit_identical_and_returns_history():
    d = data.load_digits_8x8()
    runs = []
    for _ in range(2):
        runtime.seed_everything(3)
        model = _tiny_model()
        result = training.fit(model, d.x_train, d.y_train, progress=False,
                              budget=training.Budget(epochs=8, batch_size=32),
                              validation_data=(d.x_val, d.y_val))
        runs.append((result.history, [w.copy() for w in model.get_weights()]))
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))
    assert set(runs[0][0]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert training.accuracy(model, d.x_test, d.y_test) > 0.5


def test_budget_caps_wall_clock_and_steps():
    d = data.load_digits_8x8()
    result = training.fit(_tiny_model(), d.x_train, d.y_train, progress=False,
                          budget=training.Budget(epochs=50, batch_size=8, max_seconds=0.0))
    assert result.stopped_by_time and result.epochs_run == 1
    with pytest.raises(ValueError, match="epochs >= 1"):
        training.Budget(epochs=0)


def test_device_is_detected_and_described():
    device = runtime.detect_device()
    assert device.kind in ("cpu", "gpu") and device.backend == runtime.backend_name()
    assert device.backend in str(device)


def test_bad_backend_name_is_explained(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "theano")
    with pytest.raises(ValueError, match="expected one of tensorflow, jax, torch"):
        runtime.backend_name()


def test_plots_render():
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8],
               "val_accuracy": [0.4, 0.7]}
    assert plots.to_png(plots.learning_curves(history, threshold=0.85)).startswith(b"\x89PNG")
    matrix = plots.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], 3)
    assert matrix.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert plots.to_png(plots.confusion_figure(matrix)).startswith(b"\x89PNG")
    # ten outputs on a three-class task: an id past the classes is a column of its own
    wide = plots.confusion_matrix([0, 1, 2], [0, 6, 2], 3)
    assert wide.shape == (7, 7) and wide[1, 6] == 1 and wide.trace() == 2


def test_token_and_position_embedding_round_trips():
    import keras

    from course.layers import TokenAndPositionEmbedding

    inputs = keras.Input((6,), dtype="int32")
    model = keras.Model(inputs, TokenAndPositionEmbedding(6, 20, 4)(inputs))
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    assert clone.output_shape == (None, 6, 4)
