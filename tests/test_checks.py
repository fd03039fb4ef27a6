from autograder import checks
from autograder.sandbox.runner import Export


def _inspected(**over):
    return {"build_cnn": {"built": True, "params": 1234, "output_shape": [None, 10],
                          "compiled": True, **over}}


def _trained(acc):
    history = {"loss": [2.0, 1.0], "val_loss": [2.1, 1.2], "accuracy": [0.3, 0.6],
               "val_accuracy": [0.3, 0.5]}
    confusion = [[1 if i == j else 0 for j in range(10)] for i in range(10)]
    return {"build_cnn": {"trained": True, "metrics": {"accuracy": acc}, "history": history,
                          "epochs_run": 2, "confusion": confusion}}


def _export():
    return Export(True, functions={"build_cnn": {"ok": True, "config": {}}})


def test_full_marks_come_with_plots(cnn_spec):
    results = checks.evaluate(cnn_spec, _export(), _inspected(), _trained(0.95))
    assert [r.points for r in results] == [1, 1, 1, 7]
    assert set(results[-1].figures) == {"Learning curves", "Confusion matrix"}
    assert results[-1].figures["Learning curves"].startswith(b"\x89PNG")
    assert checks.reason_line(results) == "all checks passed"


def test_partial_credit_and_reasons(cnn_spec):
    results = checks.evaluate(cnn_spec, _export(), _inspected(output_shape=[None, 1],
                                                              compiled=False), _trained(0.675))
    by_id = {r.grade_id: r for r in results}
    assert by_id["test_cnn_output_shape"].points == 0
    assert "expected output shape (None, 10), received (None, 1)" in \
        by_id["test_cnn_output_shape"].message
    assert "model.compile" in by_id["test_cnn_compiled"].message
    assert by_id["test_cnn_accuracy"].points == 3.5
    assert "partial credit" in by_id["test_cnn_accuracy"].message


def test_a_failed_sandbox_zeroes_every_check_with_its_reason(cnn_spec):
    export = Export(False, error="your notebook did not finish within 120 s")
    results = checks.evaluate(cnn_spec, export, {}, {})
    assert all(r.points == 0 for r in results)
    assert "did not finish" in checks.reason_line(results)
