"""Values checks say what they scored: each attention check counts and shows its own cases, so
"k of n" is the share its points follow; the perceptron check counts the held-out points."""
import numpy as np
import pytest

from autograder import checks
from autograder import spec as specs
from autograder.trusted.kinds import values
from autograder.sandbox import protocol


def _graded(assignment: str, task_name: str, fn) -> dict:
    """Every check of ``task_name`` scored for ``fn`` as the pipeline does: the challenge's
    calls, encoded values, the values kind's result, the checks."""
    spec = specs.load(assignment)
    task = spec.tasks[task_name]
    exports = {}
    for call in values.calls(spec, task, seed=3):
        args = [protocol.decode(a) for a in call["args"]]
        kwargs = {k: protocol.decode(v) for k, v in call["kwargs"].items()}
        exports[call["key"]] = {"ok": True, "value": protocol.encode(fn(*args, **kwargs))}
    result = values.run(task, exports, seed=3)
    return {r.grade_id: r for r in checks.evaluate(spec, None, {task_name: result},
                                                   figures=False)}


def _attention_wrong_on(wrong):
    """The reference attention, off where ``wrong(mask)`` is true."""
    from solutions.transformer import scaled_dot_product_attention as reference

    def fn(q, k, v, mask=None):
        out = reference(q, k, v, mask=mask)
        return out + 1.0 if wrong(mask) else out
    return fn


def test_masked_check_counts_its_own_cases_and_scores_that_share():
    """3 of the 4 masked cases right: the message says 3 of 4 and the check earns 3/4."""
    graded = _graded("transformer", "attention",
                     _attention_wrong_on(lambda m: m is not None and np.ndim(m) == 4))
    masked = graded["test_attention_masked"]
    assert masked.points == pytest.approx(0.75 * masked.max_points)
    assert "3 of 4 masked cases match" in masked.message
    assert "Masked case 4 of 4 (causal mask broadcast over heads" in masked.message
    assert "masked 0.750 on the 4 masked cases" in masked.message
    assert graded["test_attention_unmasked"].passed


def test_the_two_attention_checks_show_different_cases():
    first_of_each = _attention_wrong_on(lambda m: m is None or np.asarray(m).dtype == bool)
    graded = _graded("transformer", "attention", first_of_each)
    unmasked = graded["test_attention_unmasked"].message
    masked = graded["test_attention_masked"].message
    assert "0 of 4 unmasked cases match. Unmasked case 1 of 4 (no batch" in unmasked
    assert "2 of 4 masked cases match. Masked case 1 of 4 (causal mask (bool" in masked
    assert "Masked case" not in unmasked and "Unmasked case" not in masked


def test_perceptron_check_counts_the_held_out_points():
    from solutions.perceptron import perceptron_fit

    graded = _graded("perceptron", "fit", lambda X, y, **kw: (np.zeros(X.shape[1]), 0.0))
    message = graded["test_perceptron_fit_heldout"].message
    assert "on 1000 fresh points drawn at grading time" in message, message
    assert "on 1 inputs" not in message
    full = _graded("perceptron", "fit", perceptron_fit)["test_perceptron_fit_heldout"]
    assert full.passed and "on 1000 fresh points" in full.message
