"""Trusted training in warm workers: deterministic, bounded, and the same on every backend."""
import keras
import pytest

from autograder.trusted.pool import WorkerPool
from autograder.trusted.trainer import job

pytestmark = pytest.mark.slow


def _job(spec, model, **budget):
    raw = spec.raw
    if budget:
        cnn = raw["tasks"]["cnn"]
        raw = {**raw, "tasks": {**raw["tasks"],
                                "cnn": {**cnn, "budget": {**cnn["budget"], **budget}}}}
    export = {"ok": True, "config": keras.saving.serialize_keras_object(model),
              "compile_config": model.get_compile_config()}
    return job(spec.__class__(**{**spec.__dict__, "raw": raw}), "cnn", {"build_cnn": export}, 0)


@pytest.fixture(scope="module")
def models():
    from autograder import fixtures
    from solutions.cnn import build_cnn

    namespace = {"keras": keras, "layers": keras.layers}
    exec(fixtures.code("cnn", "dense_only"), namespace)  # noqa: S102 (a test fixture)
    return {"reference": build_cnn((16, 16, 1), 4),  # the spec's arguments: 4 patterns
            "dense": namespace["build_cnn"]((16, 16, 1), 4)}


def test_warm_worker_trains_exactly_like_a_fresh_one(models, cnn_spec):
    """Six epochs are enough to show it (accuracy is calibration_net's and calibrate's)."""
    jobs = {k: _job(cnn_spec, m, epochs=6) for k, m in models.items()}
    with WorkerPool(size=1) as warm:
        results = dict(warm.run([("dense", jobs["dense"]), ("reference", jobs["reference"])]))
    with WorkerPool(size=1) as fresh:
        (_, alone), = fresh.run([("reference", jobs["reference"])])
    assert results["reference"]["ok"] and alone["ok"]
    assert results["reference"]["history"] == alone["history"]  # bit-identical, epoch by epoch
    assert results["reference"]["metrics"] == alone["metrics"]
    assert results["reference"]["history"] != results["dense"]["history"]


def test_an_overrunning_job_is_stopped_and_the_worker_replaced(models, cnn_spec):
    with WorkerPool(size=1) as pool:
        slow = pool.submit(_job(cnn_spec, models["reference"]), timeout=1).result()
        assert not slow["ok"] and "longer than 1 s" in slow["error"]
        quick = pool.submit(_job(cnn_spec, models["reference"], epochs=1), timeout=300).result()
    assert quick["ok"] and quick["models"]["build_cnn"]["output_shape"] == [None, 4]


@pytest.mark.parametrize("backend", ["torch"])  # JAX: tests/calibration_net.py, every task
def test_other_backends_grade_the_reference(backend, models, cnn_spec):
    """Configs exported on TensorFlow rebuild and pass on PyTorch (the GPU machines)."""
    pytest.importorskip(backend)
    with WorkerPool(size=1, envs=[{"KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": ""}]) as pool:
        result = pool.submit(_job(cnn_spec, models["reference"])).result()
        assert backend in pool.devices[0]
    threshold = cnn_spec.check("test_cnn_accuracy").threshold
    assert result["ok"], result.get("error")
    assert result["metrics"]["accuracy"] >= threshold


def test_jax_trainers_reuse_compiled_programs_and_train_identically(models, cnn_spec, tmp_path):
    """The compile_cache setting: a second trainer finds every program the first compiled (the
    folder does not grow) and trains bit-identically."""
    pytest.importorskip("jax")
    from autograder.settings import CourseGrading

    cache = tmp_path / "xla"
    settings = CourseGrading(compile_cache=str(cache))
    results, entries = [], []
    for _ in range(2):
        with WorkerPool(size=1, envs=[{"KERAS_BACKEND": "jax"}], settings=settings) as pool:
            results.append(pool.submit(_job(cnn_spec, models["reference"], epochs=1)).result())
        entries.append(sorted(p.name for p in cache.iterdir()))
    assert results[0]["ok"], results[0].get("error")
    assert len(entries[0]) >= 3 and entries[1] == entries[0]  # train, test and predict steps
    assert results[1]["history"] == results[0]["history"]
    assert results[1]["metrics"] == results[0]["metrics"]


def test_no_compiled_point_for_settings_the_grader_cannot_restore(models, cnn_spec):
    """The 'compiled' point used to come from the mere presence of a compile config."""
    from autograder.trusted import trainer
    from autograder.checks import evaluate
    from autograder.trusted.kinds import TaskResult
    from autograder.sandbox.runner import Export

    bad = _job(cnn_spec, models["reference"])
    bad["exports"]["build_cnn"]["compile_config"] = {"optimizer": "adam",
                                                     "loss": "no_such_loss", "metrics": []}
    result = TaskResult.from_json(trainer.run(bad))
    info = result.models["build_cnn"]
    assert info.built and not info.compiled and "compile settings" in info.compile_error
    export = Export(True, calls={"build_cnn": bad["exports"]["build_cnn"]})
    compiled = next(c for c in evaluate(cnn_spec, export, {"cnn": result})
                    if c.grade_id == "test_cnn_compiled")
    assert compiled.points == 0 and "could not be restored" in compiled.message


def test_a_job_is_checked_on_arrival_with_the_specs_types(cnn_spec):
    from autograder.trusted import trainer

    raw = trainer.job(cnn_spec, "cnn", {"build_cnn": {"ok": False}}, 3)
    arrived = trainer.Job.from_json(raw)
    assert arrived.spec.tasks == cnn_spec.tasks and arrived.to_json() == raw
    for broken, message in [({**raw, "task": "rnn"},
                             "job task 'rnn': expected one of conv, pool, cnn"),
                            ({**raw, "seed": "3"}, "job seed: expected an integer"),
                            ({**raw, "exports": []}, "job exports: expected an object")]:
        with pytest.raises(trainer.JobError, match=message):
            trainer.Job.from_json(broken)
