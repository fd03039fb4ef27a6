import pytest

from autograder import allowlist


def _layer(class_name, module="keras.layers", **config):
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


def _model(*layers):
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "m", "layers": list(layers)}}


def test_reference_model_passes():
    import keras

    from solutions.cnn import build_cnn

    model = build_cnn((16, 16, 1), 10)
    allowlist.check(keras.saving.serialize_keras_object(model))
    allowlist.check(model.get_compile_config())


@pytest.mark.parametrize("bad, words", [
    (_layer("Lambda", function={"class_name": "__lambda__", "config": {"code": "4wEA"}}),
     "Lambda layer"),
    (_layer("MyLayer", module="student_code"), "custom class 'MyLayer'"),
    (_layer("TFSMLayer"), "does not allow"),
    (_layer("Dense", units=3, kernel_initializer={
        "module": "keras.initializers", "class_name": "Constant",
        "config": {"value": [[0.1] * 4] * 3}, "registered_name": None}), "Constant initializer"),
    (_layer("Dense", units=3, bias=[0.5] * 100), "list of 100 numbers"),
    (_layer("Dense", units=3, w={"class_name": "__numpy__", "config": {"value": [1]}}),
     "embedded array"),
    (_layer("Dense", units=3, registered_name="evil>Thing") | {"registered_name": "evil>Thing"},
     "registered custom object"),
])
def test_forbidden_objects_are_named_with_the_fix(bad, words):
    with pytest.raises(allowlist.ConfigRejected, match=words) as err:
        allowlist.check(_model(_layer("InputLayer", batch_shape=[None, 4]), bad))
    assert "built-in" in str(err.value)  # says what is expected instead
    assert "layers[1]" in str(err.value)  # and where the problem sits


def test_course_layers_are_allowed():
    emb = {"module": "course.layers", "class_name": "TokenAndPositionEmbedding",
           "registered_name": "course>TokenAndPositionEmbedding",
           "config": {"seq_len": 8, "vocab_size": 20, "embed_dim": 4}}
    assert allowlist.find_problems(_model(emb)) == []


def test_operators_and_keras_ops_in_functional_graphs_are_allowed():
    """Residual connections and keras.ops calls are ordinary student code, not custom classes."""
    import keras
    from keras import layers, ops

    inputs = keras.Input((8, 4))
    x = layers.Dense(4)(inputs)
    x = x + layers.MultiHeadAttention(2, 4)(x, x)  # residual, written with an operator
    x = ops.relu(x) * 2.0
    outputs = ops.softmax(ops.mean(x, axis=1))
    config = keras.saving.serialize_keras_object(keras.Model(inputs, outputs))
    allowlist.check(config)  # no ConfigRejected


def test_ops_that_carry_code_are_refused():
    node = {"module": "keras.src.ops.numpy", "class_name": "Vectorize", "config": {}}
    assert allowlist.find_problems({"layers": [node]})
    loop = {"module": "keras.src.ops.core", "class_name": "WhileLoop", "config": {}}
    assert allowlist.find_problems({"layers": [loop]})


def test_numbers_are_bounded_in_total_whatever_argument_holds_them():
    """Many short lists (each under the per-list limit) still add up to smuggled weights."""
    layer = {"module": "keras.layers", "class_name": "Dense",
             "config": {"units": 10, "kernel_initializer": {"module": "keras.initializers",
                                                           "class_name": "Zeros"},
                        "notes": [[0.5] * 60 for _ in range(10)]}}
    with pytest.raises(allowlist.ConfigRejected, match="carries 6[0-9]{2} numbers.*Remove numbers"):
        allowlist.check({"class_name": "Sequential", "module": "keras",
                         "config": {"layers": [layer]}})
