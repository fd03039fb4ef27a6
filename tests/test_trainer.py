"""Trusted training in warm workers: deterministic, bounded, and the same on every backend."""
import keras
import pytest

from autograder.pool import WorkerPool
from autograder.trainer import job

pytestmark = pytest.mark.slow


def _job(spec, model):
    return job(spec.raw, "build_cnn", {"config": keras.saving.serialize_keras_object(model),
                                       "compile_config": model.get_compile_config()})


@pytest.fixture(scope="module")
def jobs(cnn_spec):
    from autograder import fixtures
    from solutions.cnn import build_cnn

    namespace = {"keras": keras, "layers": keras.layers}
    exec(fixtures.code("cnn", "dense_only"), namespace)  # noqa: S102 (a test fixture)
    return {"reference": _job(cnn_spec, build_cnn((16, 16, 1), 10)),
            "dense": _job(cnn_spec, namespace["build_cnn"]((16, 16, 1), 10))}


def test_warm_worker_trains_exactly_like_a_fresh_one(jobs):
    with WorkerPool(size=1) as warm:
        results = dict(warm.run([("dense", jobs["dense"]), ("reference", jobs["reference"])],
                                timeout=600))
    with WorkerPool(size=1) as fresh:
        (_, alone), = fresh.run([("reference", jobs["reference"])], timeout=600)
    assert results["reference"]["trained"] and alone["trained"]
    assert results["reference"]["history"] == alone["history"]  # bit-identical, epoch by epoch
    assert results["reference"]["metrics"] == alone["metrics"]
    assert results["reference"]["metrics"]["accuracy"] >= 0.85 > results["dense"]["metrics"]["accuracy"]


def test_an_overrunning_job_is_stopped_and_the_worker_replaced(jobs):
    with WorkerPool(size=1) as pool:
        (_, slow), = pool.run([("reference", jobs["reference"])], timeout=1)
        assert not slow["trained"] and "longer than 1 s" in slow["error"]
        inspect = dict(jobs["reference"], train=False)
        (_, quick), = pool.run([("again", inspect)], timeout=120)
    assert quick["built"] and quick["output_shape"] == [None, 10]


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_other_backends_grade_the_reference(backend, jobs, cnn_spec):
    """Configs exported on TensorFlow rebuild and pass on JAX and PyTorch (the GPU machines)."""
    pytest.importorskip(backend)
    with WorkerPool(size=1, envs=[{"KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": ""}]) as pool:
        (_, result), = pool.run([("reference", jobs["reference"])], timeout=900)
        assert backend in pool.devices[0]
    threshold = cnn_spec.check("test_cnn_accuracy").threshold
    assert result["trained"], result.get("error")
    assert result["metrics"]["accuracy"] >= threshold
