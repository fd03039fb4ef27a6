import pytest

from autograder.trusted import allowlist


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
    (_layer("TFSMLayer"), "loads a saved model from a file"),
    (_layer("Dense", units=3, kernel_initializer={
        "module": "keras.initializers", "class_name": "Constant",
        "config": {"value": [[0.1] * 4] * 3}, "registered_name": None}),
     "Constant initializer holding 3 x 4 numbers"),
    (_layer("Dense", units=3, bias=[0.5] * 100), "list of 100 numbers"),
    (_layer("Dense", units=3, w={"class_name": "__numpy__", "config": {"value": [1]}}),
     "table of 1 numbers"),
    (_layer("Dense", units=3, registered_name="evil>Thing") | {"registered_name": "evil>Thing"},
     "registered custom object"),
])
def test_forbidden_objects_are_named_with_the_fix(bad, words):
    with pytest.raises(allowlist.ConfigRejected, match=words) as err:
        allowlist.check(_model(_layer("InputLayer", batch_shape=[None, 4]), bad))
    assert "Instead, " in str(err.value)  # says what to use instead
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


def _functional_config(build):
    """The JSON the sandbox exports for ``build(inputs) -> outputs`` (tuples become lists)."""
    import json

    import keras

    inputs = keras.Input((16, 8))
    return json.loads(json.dumps(
        keras.saving.serialize_keras_object(keras.Model(inputs, build(inputs)))))


@pytest.mark.parametrize("idiom", ["x[:, -1, :]", "x[..., :3]", "x[:, ::2, None]", "x[:, 3]"])
def test_slicing_symbolic_tensors_is_allowed(idiom):
    """Indexing serializes as __slice__/__ellipsis__ markers: data, not a custom class."""
    from keras import layers

    def build(inputs):
        x = layers.LSTM(4, return_sequences=True)(inputs)  # noqa: F841 (used by eval)
        return layers.Flatten()(eval(idiom))

    assert allowlist.find_problems(_functional_config(build)) == []


def test_masking_and_propagated_masks_are_allowed():
    from keras import layers

    config = _functional_config(lambda x: layers.GRU(4)(layers.Masking(0.0)(x)))
    assert {"Masking", "NotEqual", "Any"} <= {
        layer["class_name"] for layer in config["config"]["layers"]}  # the mask's own ops
    assert allowlist.find_problems(config) == []


def test_sine_position_layer_is_allowed_and_a_sine_table_constant_is_refused_naming_it():
    import numpy as np
    from keras import layers

    from course.layers import SinePositionEncoding

    assert allowlist.find_problems(
        _functional_config(lambda x: x + SinePositionEncoding()(x))) == []
    position, feature = np.arange(16)[:, None], np.arange(8)[None, :]
    angle = position / 10000 ** (2 * (feature // 2) / 8)
    table = np.where(feature % 2 == 0, np.sin(angle), np.cos(angle)).astype("float32")
    config = _functional_config(lambda x: layers.Dense(8)(x) + table)
    with pytest.raises(allowlist.ConfigRejected) as err:
        allowlist.check(config)
    message = str(err.value)
    assert "a fixed sine/cosine position table of 16 x 8 numbers in operation 'add" in message
    assert "course.layers.SinePositionEncoding" in message
    assert message.index("SinePositionEncoding") < 240  # survives the one-line reason's cut


def test_a_table_over_the_numbers_cap_is_named_not_counted():
    """A 16 x 32 table is 512 numbers: refused by what it is, whatever its size."""
    import numpy as np

    config = _functional_config(lambda x: x + np.full((16, 8), 0.5, "float32"))
    with pytest.raises(allowlist.ConfigRejected, match=r"a table of 16 x 8 numbers \(an array.*"
                       r"Instead, let a layer learn these numbers.*SinePositionEncoding"):
        allowlist.check(config)


def test_a_class_from_the_notebook_is_called_the_students_own():
    with pytest.raises(allowlist.ConfigRejected,
                       match="custom class 'Doubler' \\(defined in your code\\) named 'd'"):
        allowlist.check(_model(_layer("Doubler", module=None, name="d")))


@pytest.mark.parametrize("name, fix", [
    ("SinePositionEncoding", "course.layers.SinePositionEncoding"),
    ("TransformerEncoder", "layers.MultiHeadAttention"),
])
def test_keras_hub_layers_are_refused_with_the_course_replacement(name, fix):
    hub = _layer(name, module="keras_hub.layers", name="pos")
    with pytest.raises(allowlist.ConfigRejected, match=f"keras_hub's {name} named 'pos'.*{fix}"):
        allowlist.check(_model(hub))


def test_every_keras_layer_is_either_allowed_or_refused_with_a_reason():
    """A new Keras release's layers get a conscious decision; refusals carry a reason."""
    import inspect

    import keras

    classes = {getattr(keras.layers, n).__name__ for n in dir(keras.layers)
               if inspect.isclass(getattr(keras.layers, n))} - {"InputSpec"}
    assert classes - allowlist.LAYERS - set(allowlist.REFUSED_LAYERS) == set()
    assert allowlist.LAYERS - classes == set()  # no stale names
    for name in allowlist.REFUSED_LAYERS:
        assert name not in allowlist.LAYERS
        assert allowlist.find_problems(_model(_layer(name)))


def _gan_generator_carrying(cells: list) -> dict:
    """A generator config whose one operation carries ``cells`` as an argument: 120 real 8x8
    digits as boolean bit-planes or as text, the way a submission smuggles them."""
    op = {"module": "keras.src.ops.numpy", "class_name": "Where", "registered_name": None,
          "config": {"name": "where"}, "inbound_nodes": [{"args": [cells, 1.0, 0.0]}]}
    return _model(_layer("InputLayer", batch_shape=[None, 32]), _layer("Dense", units=64), op)


@pytest.mark.parametrize("cells, what", [
    ([[[bool((i * p) % 3) for _ in range(4)] for p in range(64)] for i in range(120)],
     "booleans"),
    (["".join("0123456789abcdefg"[(i + p) % 17] for p in range(64)) for i in range(120)],
     "text"),
])
def test_one_information_budget_counts_booleans_and_text_like_numbers(cells, what):
    config = _gan_generator_carrying(cells)
    assert allowlist.count_numbers(config) < allowlist.MAX_NUMBERS  # the old cap saw nothing
    with pytest.raises(allowlist.ConfigRejected) as err:
        allowlist.check(config)
    message = str(err.value)
    assert "numbers, booleans and characters of text" in message
    assert "in operation 'where'" in message  # where the data sits, in the student's terms
    assert "remove the data" in message


def test_every_real_model_is_well_inside_the_information_budget():
    """The budget was set from the largest model of the course (the transformer's textbook
    block, 1,332): references and the other styles stay under half of it."""
    import keras

    from solutions.cnn import build_cnn
    from solutions.transformer import build_transformer

    for model in (build_cnn((16, 16, 1), 10), build_transformer(13, 73, 8)):
        carried, _ = allowlist.information(keras.saving.serialize_keras_object(model))
        assert carried < allowlist.MAX_INFORMATION / 2, carried
