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
