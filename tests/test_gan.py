"""The GAN trainer (course.gan), the frozen evaluator (course.evaluator) and the gan spec."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = json.loads((ROOT / "autograder" / "specs" / "gan.json").read_text())
LATENT, SHAPE = 32, (8, 8, 1)


@pytest.fixture(scope="module")
def digits():
    from course import data

    return data.load_digits_8x8(seed=0)


@pytest.fixture(scope="module")
def ev():
    from course import evaluator

    return evaluator.evaluator()


def _scores(samples, digits):
    from course import evaluator

    return evaluator.scores(samples, real=digits.x_test, train=digits.x_train)


# --- evaluator -------------------------------------------------------------------------------

def test_evaluator_is_a_good_frozen_classifier(ev, digits):
    from course import evaluator

    assert ev.test_accuracy > 0.95
    assert evaluator.evaluator() is ev  # cached in-process
    assert ev.features(digits.x_test[:5]).shape == (5, 64)
    probs = ev.probabilities(digits.x_test[:5])
    assert probs.shape == (5, 10) and np.allclose(probs.sum(axis=1), 1.0)


def test_real_digits_score_high(digits):
    s = _scores(digits.x_val, digits)
    assert set(s) == {"inception_score", "classes", "frechet_distance", "memorisation"}
    assert all(type(v) is float for v in s.values())
    assert s["inception_score"] > 8.5 and s["classes"] == 10
    assert s["frechet_distance"] < 5 and s["memorisation"] == 0.0


def test_constant_images_are_one_class(digits):
    s = _scores(np.repeat(digits.x_val[:1], 500, axis=0), digits)
    assert s["classes"] == 1 and s["inception_score"] < 1.1 and s["frechet_distance"] > 80


def test_noise_is_far_from_digits(digits):
    noise = np.random.default_rng(0).random((1000, 8, 8, 1)).astype("float32")
    s = _scores(noise, digits)
    assert s["frechet_distance"] > 80 and s["inception_score"] < 3 and s["memorisation"] == 0


def test_copies_of_training_images_are_memorised(digits):
    copies = digits.x_train[np.random.default_rng(0).integers(0, len(digits.x_train), 1000)]
    assert _scores(copies, digits)["memorisation"] == 1.0


def test_scoring_is_fast(digits, ev):
    samples = np.random.default_rng(1).random((1000, 8, 8, 1)).astype("float32")
    start = time.perf_counter()
    _scores(samples, digits)
    assert time.perf_counter() - start < 1.0


def test_scores_survive_nan_and_out_of_range(digits):
    bad = np.full((100, 8, 8, 1), np.nan, "float32")
    bad[50:] = 5.0
    s = _scores(bad, digits)
    assert all(np.isfinite(v) for v in s.values())


# --- trainer ---------------------------------------------------------------------------------

def _pair(seed=0):
    from course import runtime
    from solutions import gan as ref

    runtime.seed_everything(seed)
    return ref.build_generator(LATENT, SHAPE), ref.build_discriminator(SHAPE)


def _digest(model):
    return [np.array(w).copy() for w in model.get_weights()]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_d_changes_on_d_steps_only_and_g_on_g_steps_only(digits, monkeypatch):
    import keras

    from course import gan

    g, d = _pair()
    log = []
    original = keras.Model.train_on_batch

    def spy(self, *args, **kwargs):
        before = _digest(g), _digest(d)
        out = original(self, *args, **kwargs)
        after = _digest(g), _digest(d)
        log.append(("D" if self is d else "G",
                    not _same(before[0], after[0]), not _same(before[1], after[1])))
        return out

    monkeypatch.setattr(keras.Model, "train_on_batch", spy)
    result = gan.train_gan(g, d, digits.x_train, latent_dim=LATENT, steps=4, batch_size=16,
                           progress=False)
    assert result.steps_run == 4
    assert [who for who, _, _ in log] == ["D", "G"] * 4
    for who, g_changed, d_changed in log:
        if who == "D":
            assert d_changed and not g_changed, "a discriminator step must change D only"
        else:
            assert g_changed and not d_changed, "a generator step must change G only"
    assert d.trainable  # left trainable


def test_rerun_is_bit_identical(digits):
    from course import gan

    weights = []
    for _ in range(2):
        g, d = _pair(seed=3)
        gan.train_gan(g, d, digits.x_train, latent_dim=LATENT, steps=6, batch_size=16,
                      progress=False, seed=3)
        weights.append(_digest(g) + _digest(d))
    assert _same(*weights)


def test_history_result_and_sample(digits):
    from course import gan

    g, d = _pair()
    result = gan.train_gan(g, d, digits.x_train, latent_dim=LATENT, steps=7, batch_size=8,
                           progress=False, log_every=3)
    assert result.history["step"] == [3, 6, 7]
    assert len(result.history["d_loss"]) == len(result.history["g_loss"]) == 3
    assert result.steps_run == 7 and not result.stopped_by_time and result.seconds > 0
    a, b = gan.sample(g, 300, LATENT, seed=5), gan.sample(g, 300, LATENT, seed=5)
    assert a.shape == (300, 8, 8, 1) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1 and np.array_equal(a, b)


def test_time_cap_stops_training(digits):
    from course import gan

    g, d = _pair()
    result = gan.train_gan(g, d, digits.x_train, latent_dim=LATENT, steps=10_000, batch_size=8,
                           progress=False, max_seconds=0.0)
    assert result.steps_run == 1 and result.stopped_by_time
    assert result.history["step"] == [1]


def test_frozen_generator_does_not_crash(digits):
    import keras
    from keras import layers

    from course import gan

    _, d = _pair()
    g = keras.Sequential([keras.Input((LATENT,)), layers.Dense(64, trainable=False),
                          layers.Reshape(SHAPE)])
    before = _digest(g)
    result = gan.train_gan(g, d, digits.x_train, latent_dim=LATENT, steps=2, batch_size=8,
                           progress=False)
    assert result.steps_run == 2 and _same(before, _digest(g))


# --- spec ------------------------------------------------------------------------------------

def test_spec_shape():
    assert sum(c["points"] for c in SPEC["checks"]) == 15
    task = SPEC["tasks"]["gan"]
    assert task["kind"] == "gan" and task["generator"] in SPEC["functions"]
    assert task["discriminator"] in SPEC["functions"]
    metrics = {c["metric"]: c for c in SPEC["checks"]
               if c["kind"] == "metric" and c["task"] == "gan"}
    assert set(metrics) == {"inception_score", "classes", "frechet_distance", "memorisation"}
    for name in ("frechet_distance", "memorisation"):  # lower is better
        assert metrics[name]["floor"] > metrics[name]["threshold"]


def test_reference_builders_match_the_contract():
    import keras

    from solutions import gan as ref

    g = ref.build_generator(*SPEC["functions"]["build_generator"]["args"])
    d = ref.build_discriminator(*SPEC["functions"]["build_discriminator"]["args"])
    assert tuple(g.output_shape) == (None, 8, 8, 1) and tuple(d.output_shape) == (None, 1)
    assert getattr(g, "optimizer", None) is None and getattr(d, "optimizer", None) is None
    assert d.layers[-1].get_config()["activation"] == "linear"  # a logit
    assert max(g.count_params(), d.count_params()) <= SPEC["tasks"]["gan"]["max_params"]
    assert isinstance(g, keras.Model)
