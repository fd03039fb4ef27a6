"""From-scratch functions graded as values tasks (issue 20): the convolution and max pooling
(cnn), the LSTM (rnn), the GAN losses (gan) and the backward pass (perceptron). The reference
earns full marks on every grading seed tested, each common mistake kept as a fixture loses
points with a message that names the case and the mistake, and the references equal Keras'
own layers and losses (and finite differences). No training: fast tier."""
import numpy as np
import pytest

from autograder import checks, fixtures
from autograder import spec as specs
from autograder.kinds import values
from autograder.sandbox import protocol

SEEDS = range(6)
# (assignment, task, check, function, {mistake fixture: words its message must hold})
FUNCTIONS = [
    ("cnn", "conv", "test_conv2d_forward", "conv2d_forward",
     {"conv_flipped_kernel": "the kernel is flipped",
      "conv_one_sided_padding": "zeros are added on one side only"}),
    ("cnn", "pool", "test_max_pool2d_forward", "max_pool2d_forward",
     {"pool_from_zero": "the maximum starts from 0"}),
    ("rnn", "lstm", "test_lstm_forward", "lstm_forward",
     {"lstm_gate_order": "gates are read in the order input, cell candidate, forget"}),
    ("gan", "d_loss", "test_discriminator_loss", "discriminator_loss",
     {"loss_naive_sigmoid": "NaN or infinite"}),
    ("gan", "g_loss", "test_generator_loss", "generator_loss",
     {"loss_naive_sigmoid": "NaN or infinite", "loss_saturating": "the saturating loss"}),
    ("perceptron", "backward", "test_mlp_backward", "mlp_backward",
     {"backward_no_tanh_derivative": "(dW2, db2 right; dW1, db1 not); the step back through",
      "backward_summed": "summed over the batch"}),
]
IDS = [f[3] for f in FUNCTIONS]


def _graded(assignment: str, task_name: str, grade_id: str, fn, seed: int):
    """The check of ``task_name`` scored for ``fn`` as the pipeline does: the challenge's
    calls, values through the sandbox protocol, the values kind, the checks."""
    spec = specs.load(assignment)
    task = spec.tasks[task_name]
    exports = {}
    for call in values.calls(spec, task, seed=seed):
        args = [protocol.decode(a) for a in call["args"]]
        kwargs = {k: protocol.decode(v) for k, v in call["kwargs"].items()}
        try:
            with np.errstate(all="ignore"):
                exports[call["key"]] = {"ok": True, "value": protocol.encode(fn(*args, **kwargs))}
        except Exception as err:  # what the sandbox reports for a call that raised
            exports[call["key"]] = {"ok": False, "error": f"{type(err).__name__}: {err}"}
    result = values.run(task, exports, seed=seed)
    graded = checks.evaluate(spec, None, {task_name: result}, figures=False)
    return next(r for r in graded if r.grade_id == grade_id)


def _reference(assignment: str, name: str):
    from autograder import content

    return content.solution_function(f"solutions.{assignment}:{name}")


def _fixture(assignment: str, name: str, function: str):
    namespace = {}
    exec(compile(fixtures.code(assignment, name), name, "exec"), namespace)  # noqa: S102
    return namespace[function]


@pytest.mark.parametrize("assignment, task, grade_id, function, mistakes", FUNCTIONS, ids=IDS)
def test_reference_earns_full_marks_on_every_seed(assignment, task, grade_id, function,
                                                  mistakes):
    fn = _reference(assignment, function)
    for seed in SEEDS:
        r = _graded(assignment, task, grade_id, fn, seed)
        assert r.passed and r.points == r.max_points, f"seed {seed}: {r.message}"
        assert "cases drawn at grading time" in r.message


@pytest.mark.parametrize("assignment, task, grade_id, function, mistakes", FUNCTIONS, ids=IDS)
def test_each_common_mistake_loses_points_and_is_named(assignment, task, grade_id, function,
                                                       mistakes):
    assert mistakes, "every from-scratch function has at least one mistake fixture"
    for name, words in mistakes.items():
        assert name in fixtures.mistakes(assignment)
        fn = _fixture(assignment, name, function)
        for seed in SEEDS[:3]:
            r = _graded(assignment, task, grade_id, fn, seed)
            assert r.points < r.max_points, f"{name}, seed {seed}: full marks"
            assert " of " in r.message and "Case " in r.message and "expected " in r.message
            assert words in r.message, f"{name}, seed {seed}: {r.message}"


def test_a_function_that_raises_or_returns_nothing_scores_zero_with_the_reason():
    def raises(*args, **kwargs):
        raise ValueError("shapes (2,3) and (4,5) not aligned")

    r = _graded("cnn", "conv", "test_conv2d_forward", raises, 0)
    assert r.points == 0 and "not aligned" in r.message
    r = _graded("rnn", "lstm", "test_lstm_forward", lambda *a: None, 0)
    assert r.points == 0 and "0 of 6 cases match" in r.message and "None" in r.message
    r = _graded("perceptron", "backward", "test_mlp_backward", lambda *a: (1.0, 2.0), 0)
    assert r.points == 0 and "2 items, not 4 (dW1, db1, dW2, db2)" in r.message


def test_naive_gan_losses_keep_the_moderate_cases():
    """A sigmoid then a log is right on moderate logits and wrong on extreme ones: half the
    cases, half the points, and the message shows an extreme case."""
    r = _graded("gan", "d_loss", "test_discriminator_loss",
                _fixture("gan", "loss_naive_sigmoid", "discriminator_loss"), 1)
    assert r.points == pytest.approx(0.5 * r.max_points)
    assert "4 of 8 cases match. Case 5 of 8 (extreme logits" in r.message


def test_references_equal_keras():
    import keras

    from solutions.cnn import conv2d_forward, max_pool2d_forward
    from solutions.gan import discriminator_loss, generator_loss
    from solutions.rnn import lstm_forward

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 9, 8, 3)).astype("float32")
    for stride, padding in [(1, 0), (2, 1), (3, 2)]:
        conv = keras.layers.Conv2D(4, (3, 2), strides=stride)
        conv.build((None, None, None, 3))
        kernel = rng.normal(size=(3, 2, 3, 4)).astype("float32")
        bias = rng.normal(size=4).astype("float32")
        conv.set_weights([kernel, bias])
        padded = np.pad(x, ((0, 0), (padding,) * 2, (padding,) * 2, (0, 0)))
        expected = keras.ops.convert_to_numpy(conv(padded))
        assert np.allclose(conv2d_forward(x, kernel, bias, stride, padding), expected,
                           atol=1e-4)
    for size, stride in [(2, None), (3, 2), (2, 1)]:
        expected = keras.ops.convert_to_numpy(keras.layers.MaxPooling2D(size, stride)(x))
        assert np.array_equal(max_pool2d_forward(x, size, stride), expected)
    seq = rng.normal(size=(3, 7, 4)).astype("float32")
    lstm = keras.layers.LSTM(5, return_sequences=True)
    expected = keras.ops.convert_to_numpy(lstm(seq))
    assert np.allclose(lstm_forward(seq, *lstm.get_weights()), expected, atol=1e-5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    real, fake = rng.normal(size=(8, 1)) * 3, rng.normal(size=(8, 1)) * 3
    assert np.isclose(discriminator_loss(real, fake),
                      float(bce(np.ones_like(real), real)) + float(bce(np.zeros_like(fake), fake)),
                      rtol=1e-5)
    assert np.isclose(generator_loss(fake), float(bce(np.ones_like(fake), fake)), rtol=1e-5)
    assert discriminator_loss(np.array([1e4, -1e4]), np.array([-1e4, 1e4])) == pytest.approx(1e4)


def test_backward_reference_equals_finite_differences():
    from solutions.perceptron import mlp_backward

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(7, 3)), rng.integers(0, 2, 7)
    params = [rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 1)),
              rng.normal(size=1)]

    def loss(W1, b1, W2, b2):
        p = 1 / (1 + np.exp(-(np.tanh(X @ W1 + b1) @ W2 + b2)))[:, 0]
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

    for k, g in enumerate(mlp_backward(X, y, *params)):
        numeric = np.zeros_like(params[k])
        for idx in np.ndindex(params[k].shape):
            plus, minus = [p.copy() for p in params], [p.copy() for p in params]
            plus[k][idx] += 1e-6
            minus[k][idx] -= 1e-6
            numeric[idx] = (loss(*plus) - loss(*minus)) / 2e-6
        assert np.allclose(g, numeric, atol=1e-7)


@pytest.mark.parametrize("assignment", specs.available())
def test_model_mechanics_carry_at_most_15_percent(assignment):
    """builds / output shape / compiled: the trained metric and the from-scratch functions
    carry the grade."""
    spec = specs.load(assignment)
    mechanics = sum(c.points for c in spec.checks if c.kind in specs.MODEL_CHECKS)
    assert mechanics <= 0.15 * spec.max_score + 1e-9, f"{mechanics} of {spec.max_score}"
    assert any(t.kind == "values" for t in spec.tasks.values()), (
        f"{assignment} grades no from-scratch function")


@pytest.mark.parametrize("assignment, task, grade_id, function, mistakes", FUNCTIONS, ids=IDS)
def test_challenge_inputs_depend_on_the_grading_seed(assignment, task, grade_id, function,
                                                     mistakes):
    spec = specs.load(assignment)
    first, second = (values.calls(spec, spec.tasks[task], seed=s) for s in (0, 1))
    assert first != second
    assert values.calls(spec, spec.tasks[task], seed=0) == first
