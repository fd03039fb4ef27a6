import re

import keras
import pytest

from autograder.trusted import rebuild as rb


def _config(model):
    return keras.saving.serialize_keras_object(model)


def test_reference_rebuilds_and_compiles_with_grader_settings():
    from solutions.cnn import build_cnn

    original = build_cnn((16, 16, 1), 10)
    compile_config = {**original.get_compile_config(), "run_eagerly": True,
                      "steps_per_execution": 1000}
    model = rb.rebuild(_config(original), input_shape=(16, 16, 1))
    rb.compile_submitted(model, compile_config)
    assert model.count_params() == original.count_params()
    assert model.output_shape == (None, 10)
    assert model.run_eagerly is False  # the student's execution settings are not used
    assert model.steps_per_execution == rb.grader_execution()["steps_per_execution"]
    assert model.steps_per_execution == (16 if keras.backend.backend() == "tensorflow" else 1)


def test_parameter_cap_is_checked_before_any_weight_exists():
    import resource

    huge = {"module": "keras", "class_name": "Sequential", "registered_name": None, "config": {
        "name": "huge", "layers": [
            {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
             "config": {"batch_shape": [None, 100_000]}},
            {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
             "config": {"units": 1_000_000}}]}}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(rb.RebuildError, match=r"100,001,000,000 parameters; the limit .* 500,000"):
        rb.rebuild(huge, max_params=500_000)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200  # 400 GB of weights were never allocated


def test_activation_cap():
    model = keras.Sequential([keras.Input((16, 16, 1)),
                              keras.layers.Conv2D(2048, 1), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    with pytest.raises(rb.RebuildError, match="values per example"):
        rb.rebuild(_config(model), input_shape=(16, 16, 1), max_params=10**9,
                   max_activations=200_000)


def test_uncompiled_model_is_reported():
    model = rb.rebuild(_config(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])))
    with pytest.raises(rb.RebuildError, match="not compiled"):
        rb.compile_submitted(model, None)


def test_lambda_is_refused_before_keras_sees_it():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2)])
    with pytest.raises(rb.RebuildError, match="Lambda layer"):
        rb.rebuild(_config(model))


def _exported(model):
    """The config as the sandbox exports it: through JSON."""
    import json

    return json.loads(json.dumps(_config(model)))


def test_slicing_and_masking_models_rebuild_and_run():
    import numpy as np

    inputs = keras.Input((16, 4))
    states = keras.layers.LSTM(8, return_sequences=True)(keras.layers.Masking(0.0)(inputs))
    x = keras.ops.concatenate([states[:, -1, :], keras.ops.mean(states[..., :3], axis=1)], -1)
    original = keras.Model(inputs, keras.layers.Dense(2)(x))
    model = rb.rebuild(_exported(original), input_shape=(16, 4))
    batch = np.random.default_rng(0).normal(size=(3, 16, 4)).astype("float32")
    batch[:, 10:] = 0.0  # padding that the mask hides
    model.set_weights(original.get_weights())
    assert np.allclose(model.predict(batch, verbose=0), original.predict(batch, verbose=0),
                       atol=1e-6)


def test_sine_position_encoding_is_the_fixed_table_and_rebuilds():
    import numpy as np

    from course.layers import SinePositionEncoding

    position, feature = np.arange(12)[:, None], np.arange(6)[None, :]
    angle = position / 10000 ** (2 * (feature // 2) / 6)
    table = np.where(feature % 2 == 0, np.sin(angle), np.cos(angle))
    got = keras.ops.convert_to_numpy(SinePositionEncoding()(np.zeros((2, 12, 6), "float32")))
    assert got.shape == (2, 12, 6) and np.allclose(got, table, atol=1e-6)

    tokens = keras.Input((12,), dtype="int32")
    x = keras.layers.Embedding(10, 6)(tokens)
    x = x + SinePositionEncoding()(x)
    model = rb.rebuild(_exported(keras.Model(tokens, keras.layers.Dense(2)(x[:, 0]))),
                       input_shape=(12,))
    assert model.count_params() == 10 * 6 + 6 * 2 + 2  # the table is not a weight


def _functional(body):
    inputs = keras.Input(shape=(16, 16, 1))
    return keras.Model(inputs, keras.layers.Dense(10)(body(inputs)))


@pytest.mark.parametrize("body, largest", [
    (lambda x: keras.ops.max(keras.ops.repeat(x, 1_000, axis=1), axis=(1, 2)), "'repeat'"),
    (lambda x: keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Flatten(),
                                 keras.layers.RepeatVector(1_000),
                                 keras.layers.GlobalMaxPooling1D()])(x), "(Sequential"),
    (lambda x: keras.layers.GlobalMaxPooling1D()(keras.layers.MultiHeadAttention(4, 2)(
        *[keras.layers.Reshape((256, 1))(x)] * 2)), "(MultiHeadAttention"),
])
def test_the_activation_cap_sees_ops_nested_models_and_attention_scores(body, largest):
    """Each of these holds about 256,000 values per example that the old count (the outputs
    of top-level layers) did not see."""
    config = _config(_functional(body))
    _, values = rb.measure(config)
    assert values > 250_000
    with pytest.raises(rb.RebuildError, match=f"the largest part is .*{re.escape(largest)}"):
        rb.rebuild(config, max_activations=200_000)


def test_recurrent_states_are_counted_and_long_unrolling_is_refused():
    def lstm(unroll):
        inputs = keras.Input(shape=(200, 4))
        return keras.Model(inputs, keras.layers.LSTM(8, unroll=unroll)(inputs))

    _, values = rb.measure(_config(lstm(False)))
    assert values >= 200 * 8 * 6  # steps x units x (4 gates, cell, output)
    with pytest.raises(rb.RebuildError, match="unrolls over 200 steps.*unroll=False"):
        rb.rebuild(_config(lstm(True)))


def test_metric_state_and_count_are_capped_before_anything_allocates():
    from solutions.cnn import build_cnn

    model = rb.rebuild(_config(build_cnn((16, 16, 1), 10)), input_shape=(16, 16, 1))
    big = {"optimizer": "adam", "loss": "sparse_categorical_crossentropy",
           "metrics": [keras.metrics.serialize(keras.metrics.MeanIoU(num_classes=1_000))]}
    with pytest.raises(rb.RebuildError, match="metrics keep 1,000,000 values"):
        rb.compile_submitted(model, big)
    with pytest.raises(rb.RebuildError, match="compiled with 20 metrics"):
        rb.compile_submitted(model, {**big, "metrics": ["accuracy"] * 20})
