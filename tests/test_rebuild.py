import keras
import pytest

from autograder import rebuild as rb


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
