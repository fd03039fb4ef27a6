"""The sequence data sets and the attention challenge (thresholds: tests/calibration_net.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from course import sequences

ROOT = Path(__file__).resolve().parent.parent


def fixture_function(assignment, name, function):
    namespace = {}
    exec((ROOT / "autograder" / "fixtures" / assignment / f"{name}.py").read_text(), namespace)
    return namespace[function]


# --- loaders ----------------------------------------------------------------------------------

def test_sequential_digits_shapes_and_determinism():
    a = sequences.load_sequential_digits(step_pixels=4, read="patches", binarize=0.5, seed=0)
    assert a.x_train.shape[1:] == (16, 4) and a.x_train.dtype == np.float32
    assert set(np.unique(a.x_train)) == {0.0, 1.0}
    assert a.num_classes == 10 and 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    assert sum(a.sizes().values()) == 1437  # the public pool (tests/test_pools.py)
    sequences.load_sequential_digits.cache_clear()
    b = sequences.load_sequential_digits(step_pixels=4, read="patches", binarize=0.5, seed=0)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    grey = sequences.load_sequential_digits(step_pixels=8, read="rows", binarize=None)
    assert grey.x_train.shape[1:] == (8, 8) and len(np.unique(grey.x_train)) == 17


def test_patches_reassemble_into_the_digit():
    from course.data import digits_images

    images, _ = digits_images()
    seq = sequences.digits_as_sequences(images[:5], 4, "patches")
    back = seq.reshape(5, 4, 4, 2, 2).transpose(0, 1, 3, 2, 4).reshape(5, 8, 8)
    assert np.array_equal(back, images[:5])
    assert np.array_equal(seq[:, 0], images[:5, :2, :2].reshape(5, 4))


def test_first_half_shapes_balance_and_labels():
    s = sequences.load_first_half(seq_len=16, vocab_size=10, token=1, seed=0)
    assert s.x_train.shape == (3000, 16) and s.x_train.dtype == np.int32
    assert s.x_train.min() >= 0 and s.x_train.max() < 10 and s.num_classes == 2
    for x, y in ((s.x_train, s.y_train), (s.x_test, s.y_test)):
        first, second = (x[:, :8] == 1).sum(1), (x[:, 8:] == 1).sum(1)
        assert np.all(first != second)
        assert np.array_equal(y, (first > second).astype("int32"))
        assert 0.45 < y.mean() < 0.55
    assert np.array_equal(s.x_test, sequences.load_first_half.__wrapped__(seed=0).x_test)
    assert not np.array_equal(s.x_test, sequences.load_first_half(seed=1).x_test)


def _switch_memory_by_hand(symbols, values):
    """Run the machine of :func:`course.sequences.switch_memory_task` one step at a time."""
    on, kept = False, None
    for symbol in symbols:
        if symbol == values:
            on = True
        elif symbol == values + 1:
            on = False
        elif symbol < values and on:
            kept = symbol
    return kept


def test_switch_memory_labels_follow_the_machine_step_by_step():
    s = sequences.load_switch_memory(seq_len=64, values=8, seed=0)
    assert s.x_train.shape == (4000, 64, 16) and s.x_train.dtype == np.float32
    assert np.all(s.x_train.sum(-1) == 1) and s.num_classes == 8
    symbols = s.x_test.argmax(-1)
    assert [_switch_memory_by_hand(row, 8) for row in symbols[:300]] == list(s.y_test[:300])
    assert np.bincount(s.y_train, minlength=8).min() > 350  # every value is an answer
    # the answer is often not the last write (the switch was off when it came)
    last_write = np.array([row[row < 8][-1] for row in symbols])
    assert 0.1 < np.mean(last_write != s.y_test) < 0.6
    assert np.array_equal(s.x_val, sequences.load_switch_memory.__wrapped__(seed=0).x_val)
    assert not np.array_equal(s.x_test, sequences.load_switch_memory(seed=1).x_test)


def test_where_is_asks_for_the_position_of_the_last_tokens_twin():
    s = sequences.load_where_is(seq_len=16, vocab_size=32, seed=0)
    assert s.x_train.shape == (4000, 17) and s.x_train.dtype == np.int32
    assert s.x_train.min() >= 1 and s.x_train.max() < 32 and s.num_classes == 16
    body, query = s.x_test[:, :16], s.x_test[:, 16]
    assert all(len(set(row)) == 16 for row in body)  # distinct tokens: one twin each
    assert np.array_equal(body[np.arange(len(body)), s.y_test], query)
    assert np.bincount(s.y_train, minlength=16).min() > 180
    with pytest.raises(ValueError, match="vocab_size > seq_len"):
        sequences.where_is_task(1, seq_len=16, vocab_size=16, rng=np.random.default_rng(0))


def test_address_lookup_answers_the_value_stored_where_the_query_points():
    s = sequences.load_address_lookup(seq_len=16, values=16, seed=0)
    assert s.x_train.shape == (4000, 17) and s.x_train.dtype == np.int32
    assert s.x_train.min() >= 1 and s.x_train.max() < 1 + 16 + 16 and s.num_classes == 16
    stored, query = s.x_test[:, :16], s.x_test[:, 16]
    assert stored.max() <= 16 and query.min() == 17  # values 1..16, addresses 17..32
    assert np.array_equal(stored[np.arange(len(stored)), query - 17] - 1, s.y_test)
    assert np.bincount(s.y_train, minlength=16).min() > 180
    assert np.bincount(query - 17, minlength=16).min() > 80  # every address is asked
    assert not np.array_equal(s.x_test, sequences.load_address_lookup(seed=1).x_test)


def _latest_value_test_split():
    """The default task's test split read back: (keys, values, query, y), ids checked."""
    s = sequences.load_latest_value(pairs=12, keys=8, values=8, seed=0)
    pairs, query = s.x_test[:, :12] - 1, s.x_test[:, 12] - 1 - 64
    assert pairs.min() >= 0 and pairs.max() < 64 and query.min() >= 0 and query.max() < 8
    return pairs // 8, pairs % 8, query, s.y_test


def test_latest_value_answers_the_last_write_to_the_queried_key():
    s = sequences.load_latest_value(pairs=12, keys=8, values=8, seed=0)
    assert s.x_train.shape == (4000, 13) and s.x_train.dtype == np.int32 and s.num_classes == 8
    keys, values, query, labels = _latest_value_test_split()
    for k, v, q, y in zip(keys, values, query, labels):
        assert (k == q).sum() >= 2  # written twice at least: order decides the answer
        assert v[np.flatnonzero(k == q)[-1]] == y
    first = np.array([v[np.flatnonzero(k == q)[0]] for k, v, q in zip(keys, values, query)])
    assert (first != s.y_test).mean() > 0.6  # the first write is usually not the answer
    assert np.bincount(s.y_train, minlength=8).min() > 400
    assert not np.array_equal(s.x_test, sequences.load_latest_value(seed=1).x_test)


def test_latest_value_is_out_of_reach_without_order():
    """A model blind to order (a bag of tokens, attention without positions) sees which values
    the queried key was given, not which came last: its best guess is their most frequent
    value. That ceiling stays well under the transformer spec's floor."""
    from autograder import spec as specs

    expected = []
    for k, v, q, y in zip(*_latest_value_test_split()):
        counts = np.bincount(v[k == q], minlength=8)
        best = np.flatnonzero(counts == counts.max())
        expected.append((y in best) / len(best))
    ceiling = float(np.mean(expected))
    floor = specs.load("transformer").check("test_transformer_accuracy").floor
    assert 0.45 < ceiling < floor - 0.05, (ceiling, floor)


def _logistic_accuracy(x_train, y_train, x_test, y_test):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x_train)
    clf = LogisticRegression(max_iter=2000).fit(scaler.transform(x_train), y_train)
    return clf.score(scaler.transform(x_test), y_test)


def test_order_matters_for_sequential_digits():
    """All an order-blind model can know of a sequence of black-and-white 2x2 patches is how
    often each of the 16 patterns occurs. That histogram does not change when the steps are
    shuffled and classifies poorly even with a random forest; the same data in order classifies
    well even with a linear model."""
    from sklearn.ensemble import RandomForestClassifier

    s = sequences.load_sequential_digits(seed=0)
    shuffled = s.x_train[:, np.random.default_rng(0).permutation(16)]

    def histogram(x):
        codes = (x @ np.array([1, 2, 4, 8], dtype="float32")).astype(int)
        return np.stack([(codes == c).sum(1) for c in range(16)], axis=1)

    assert np.array_equal(histogram(shuffled), histogram(s.x_train))
    forest = RandomForestClassifier(200, random_state=0).fit(histogram(s.x_train), s.y_train)
    bag_acc = forest.score(histogram(s.x_test), s.y_test)
    flat_acc = _logistic_accuracy(s.x_train.reshape(len(s.x_train), -1), s.y_train,
                                  s.x_test.reshape(len(s.x_test), -1), s.y_test)
    assert bag_acc < 0.6 < 0.9 < flat_acc, (bag_acc, flat_acc)


def test_only_positions_answer_first_half():
    s = sequences.load_first_half(seed=0)

    def counts(x):
        return np.stack([(x == t).sum(1) for t in range(10)], axis=1).astype(float)

    bag_acc = _logistic_accuracy(counts(s.x_train), s.y_train, counts(s.x_test), s.y_test)
    halves = np.concatenate([counts(s.x_train[:, :8]), counts(s.x_train[:, 8:])], axis=1)
    halves_test = np.concatenate([counts(s.x_test[:, :8]), counts(s.x_test[:, 8:])], axis=1)
    assert bag_acc < 0.56
    assert _logistic_accuracy(halves, s.y_train, halves_test, s.y_test) > 0.99


# --- attention challenge ----------------------------------------------------------------------

def _outputs(fn, seed):
    from autograder.trusted.challenges import attention

    outs = []
    for call in attention.make(seed):
        try:
            outs.append({"value": fn(*call["args"], **call["kwargs"]), "error": None})
        except Exception as err:  # a student's function may raise: recorded, not raised
            outs.append({"value": None, "error": f"{type(err).__name__}: {err}"})
    return outs


def test_attention_challenge_is_deterministic_and_varied():
    from autograder.trusted.challenges import attention

    a, b, c = attention.make(3), attention.make(3), attention.make(4)
    assert all(np.array_equal(x, y) for ca, cb in zip(a, b) for x, y in zip(ca["args"], cb["args"]))
    assert not np.array_equal(a[0]["args"][0], c[0]["args"][0])
    shapes = [(call["args"][0].shape, call["args"][1].shape, call["args"][2].shape) for call in a]
    assert any(q[-2] != k[-2] for q, k, _ in shapes) and any(v[-1] != q[-1] for q, _, v in shapes)
    assert any(len(q) == 2 for q, _, _ in shapes) and any(len(q) == 4 for q, _, _ in shapes)
    masks = [call["kwargs"]["mask"] for call in a if "mask" in call["kwargs"]]
    assert {m.dtype.kind for m in masks} >= {"b", "i", "f"}
    assert all(arg.dtype == np.float32 for call in a for arg in call["args"])
    identity = a[attention.IDENTITY_CASE]["args"][2]
    assert np.array_equal(identity, np.eye(len(identity)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_scores_full(seed):
    from autograder.trusted.challenges import attention
    from solutions.transformer import scaled_dot_product_attention

    result = attention.score(seed, _outputs(scaled_dot_product_attention, seed))
    assert result["metrics"]["unmasked"] == 1.0 and result["metrics"]["masked"] == 1.0
    assert result["metrics"]["max_error"] < 1e-6
    weights = result["weights"]
    assert np.allclose(weights["expected"], weights["received"], atol=1e-6)
    assert np.allclose(np.sum(weights["expected"], axis=1), 1.0)


def test_float32_and_keras_ops_implementations_pass():
    import keras
    from keras import ops

    from autograder.trusted.challenges import attention

    def with_ops(query, key, value, mask=None):
        scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) / ops.sqrt(
            ops.cast(ops.shape(query)[-1], "float32"))
        if mask is not None:
            scores = ops.where(ops.cast(mask, "bool"), scores, -1e9)
        return ops.convert_to_numpy(ops.matmul(ops.softmax(scores, axis=-1), value))

    assert keras.backend.backend()
    result = attention.score(0, _outputs(with_ops, 0))
    assert result["metrics"]["unmasked"] == 1.0 and result["metrics"]["masked"] == 1.0, result


@pytest.mark.parametrize("name, unmasked, masked, hint", [
    ("no_scaling", 0.0, 0.0, "sqrt(d) scaling is missing"),
    ("inverted_mask", 1.0, 0.0, "wrong way round"),
    ("ignores_mask", 1.0, 0.0, "mask is ignored"),
])
def test_attention_mistakes_score_low_with_a_hint(name, unmasked, masked, hint):
    from autograder.trusted.challenges import attention

    fn = fixture_function("transformer", name, "scaled_dot_product_attention")
    result = attention.score(0, _outputs(fn, 0))
    assert result["metrics"]["unmasked"] == unmasked and result["metrics"]["masked"] == masked
    assert hint in result["message"] and "query (" in result["message"]


@pytest.mark.parametrize("bad", [
    lambda q, k, v, mask=None: None,
    lambda q, k, v, mask=None: "not an array",
    lambda q, k, v, mask=None: np.full(q.shape[:-1] + (v.shape[-1],), np.nan),
    lambda q, k, v, mask=None: q,  # wrong shape whenever dv != d
    lambda q, k, v, mask=None: 1 / 0,
    lambda q, k, v, mask=None: [[1, 2], [3]],
    lambda q, k, v, mask=None: {"x": 1},
])
def test_bad_outputs_score_zero_and_never_raise(bad):
    from autograder.trusted.challenges import attention

    result = attention.score(0, _outputs(bad, 0))
    assert result["metrics"]["masked"] == 0.0
    assert result["metrics"]["unmasked"] < 1.0
    assert result["message"].startswith("0 of") or "Case" in result["message"]
    json.dumps(result)  # plain JSON: no NaN or infinity


@pytest.mark.parametrize("outputs", [[], None, [None] * 8, [{"value": 1}] * 3, "junk"])
def test_missing_or_malformed_outputs_never_raise(outputs):
    from autograder.trusted.challenges import attention

    result = attention.score(0, outputs)
    assert result["metrics"]["unmasked"] == 0.0 and result["metrics"]["masked"] == 0.0
    assert result["weights"]["received"] is None and result["weights"]["expected"]
