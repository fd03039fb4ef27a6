from autograder import checks
from autograder.trusted.kinds import ModelInfo, TaskResult
from autograder.sandbox.runner import Export


def _result(acc, **model):
    history = {"loss": [2.0, 1.0], "val_loss": [2.1, 1.2], "accuracy": [0.3, 0.6],
               "val_accuracy": [0.3, 0.5]}
    confusion = [[1 if i == j else 0 for j in range(4)] for i in range(4)]  # cnn's 4 patterns
    info = ModelInfo(**{"built": True, "params": 1234, "output_shape": [None, 4],
                        "compiled": True, **model})
    by_hand = {name: TaskResult(name, "values", ok=True, metrics={"match": 1.0},
                                message="All cases match the reference.")
               for name in ("conv", "pool")}  # the from-scratch functions: full marks
    return {**by_hand,
            "cnn": TaskResult("cnn", "classifier", {"build_cnn": info}, ok=True,
                              metrics={"accuracy": acc}, summary="after 2 epochs",
                              history=history, extra={"confusion": confusion})}


def _export():
    return Export(True, calls={"build_cnn": {"ok": True, "config": {}}})


def test_full_marks_come_with_plots(cnn_spec):
    results = checks.evaluate(cnn_spec, _export(), _result(0.95))
    assert [r.points for r in results] == [4, 1.5, 0.5, 0.5, 0.5, 8]
    assert set(results[-1].figures) == {"Learning curves", "Confusion matrix"}
    assert results[-1].figures["Learning curves"].startswith(b"\x89PNG")
    assert checks.reason_line(results) == "all checks passed"


def test_partial_credit_and_reasons(cnn_spec):
    metric = cnn_spec.check("test_cnn_accuracy")
    halfway = (metric.floor + metric.threshold) / 2
    results = checks.evaluate(cnn_spec, _export(), _result(halfway, output_shape=[None, 1],
                                                           compiled=False))
    by_id = {r.grade_id: r for r in results}
    assert by_id["test_cnn_output_shape"].points == 0
    assert "expected output shape (batch, 4), received (batch, 1)" in \
        by_id["test_cnn_output_shape"].message
    assert "model.compile" in by_id["test_cnn_compiled"].message
    assert by_id["test_cnn_accuracy"].points == 4
    assert "partial credit" in by_id["test_cnn_accuracy"].message


def test_a_failed_sandbox_zeroes_every_check_with_its_reason(cnn_spec):
    export = Export(False, error="your notebook did not finish within 120 s")
    results = checks.evaluate(cnn_spec, export, {})
    assert all(r.points == 0 for r in results)
    assert "did not finish" in checks.reason_line(results)


def test_a_model_that_cannot_be_rebuilt_loses_model_checks_and_metric(cnn_spec):
    failed = TaskResult("cnn", "classifier",
                        {"build_cnn": ModelInfo(error="a Lambda layer at layers[1]")},
                        error="a Lambda layer at layers[1]")
    results = [r for r in checks.evaluate(cnn_spec, _export(), {**_result(0.9), "cnn": failed})
               if cnn_spec.check(r.grade_id).task == "cnn"]
    assert len(results) == 4 and all(r.points == 0 for r in results)
    assert all("Lambda" in r.message for r in results)


def test_lower_is_better_metrics_score_in_reverse():
    from autograder.scoring import linear_credit

    assert linear_credit(40, floor=100, threshold=40, points=2) == 2
    assert linear_credit(70, floor=100, threshold=40, points=2) == 1
    assert linear_credit(150, floor=100, threshold=40, points=2) == 0
    assert linear_credit(float("inf"), floor=100, threshold=40, points=2) == 0


def test_a_blank_generator_earns_no_memorisation_point():
    """Memorisation 0 is an achievement only for samples that look like digits at all."""
    import pytest

    from autograder import spec as specs

    gan = specs.load("gan")
    info = ModelInfo(built=True, params=10, output_shape=[None, 8, 8, 1])
    export = Export(True, calls={f: {"ok": True, "config": {}} for f in gan.functions})

    def graded(inception):
        metrics = {"inception_score": inception, "classes": 1.0, "frechet_distance": 150.0,
                   "memorisation": 0.0}
        result = TaskResult("gan", "gan", {f: info for f in gan.functions}, ok=True,
                            metrics=metrics, summary="after 2000 steps")
        return {r.grade_id: r for r in checks.evaluate(gan, export, {"gan": result},
                                                       figures=False)}

    blank = graded(1.0)["test_gan_memorisation"]
    assert blank.points == 0 and "not judged" in blank.message
    assert "test_gan_inception_score" in blank.message
    assert graded(3.0)["test_gan_memorisation"].points == 1  # some digits: judged as before
    with pytest.raises(specs.SpecError, match="expected the grade id of an earlier check"):
        specs.from_dict({**gan.raw, "checks": [{**c, "requires": "test_gan_memorisation"}
                                               if c["grade_id"] == "test_gan_inception_score"
                                               else c for c in gan.raw["checks"]]})
