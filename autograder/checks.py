"""Turn what the sandbox exported and what the trusted trainer measured into points.

One function per check kind; each returns a :class:`CheckResult` whose message says what was
expected, what was received, and (when points were lost) how to fix it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .scoring import linear_credit
from .spec import Check, Spec


@dataclass
class CheckResult:
    grade_id: str
    points: float
    max_points: float
    message: str
    figures: dict = field(default_factory=dict)  # title -> PNG bytes (metric checks)

    @property
    def passed(self) -> bool:
        return self.points >= self.max_points


def _function_error(check: Check, export, inspected: dict | None) -> str | None:
    """Why the function under ``check`` has no usable model, or None when it has one."""
    if export is not None and not export.ok:
        return export.error
    entry = (export.functions if export is not None else {}).get(check.function)
    if entry is None:
        return f"{check.function} was not exported"
    if not entry.get("ok"):
        return entry.get("error", "unknown export error")
    if inspected is None:
        return "the grader could not inspect the model"
    if not inspected.get("built"):
        return inspected.get("error", "the model could not be rebuilt")
    return None


def _builds(check, inspected) -> CheckResult:
    return CheckResult(check.grade_id, check.points, check.points,
                       f"{check.function} returned a keras.Model with {inspected['params']:,} "
                       "parameters, rebuilt by the grader from its config")


def _output_shape(check, inspected) -> CheckResult:
    got = tuple(inspected["output_shape"])
    expected = tuple(check.expected) if check.expected else got
    if got == expected:
        return CheckResult(check.grade_id, check.points, check.points,
                           f"output shape {got} as expected")
    return CheckResult(check.grade_id, 0.0, check.points,
                       f"expected output shape {expected}, received {got}: the last layer "
                       f"needs {expected[-1]} units, one per class")


def _compiled(check, inspected) -> CheckResult:
    if inspected.get("compiled"):
        return CheckResult(check.grade_id, check.points, check.points, "the model is compiled")
    return CheckResult(check.grade_id, 0.0, check.points,
                       "the model is not compiled: call model.compile(optimizer=..., loss=..., "
                       "metrics=['accuracy']) before returning it")


def figures_for(check: Check, trained: dict) -> dict:
    """Learning curves and the confusion matrix of a trained model, as PNG bytes."""
    from course import plots

    return {
        "Learning curves": plots.to_png(plots.learning_curves(
            trained["history"], threshold=check.threshold, metric=check.metric,
            title="Learning curves (trusted training)")),
        "Confusion matrix": plots.to_png(plots.confusion_figure(trained["confusion"])),
    }


def _metric(check, trained: dict | None, with_figures: bool) -> CheckResult:
    if trained is None or not trained.get("trained"):
        reason = (trained or {}).get("error", "the model was not trained")
        return CheckResult(check.grade_id, 0.0, check.points, f"not trained: {reason}")
    value = trained["metrics"][check.metric]
    points = linear_credit(value, floor=check.floor, threshold=check.threshold,
                           points=check.points)
    verdict = ("passed" if value >= check.threshold else
               "no points: at or below the floor" if value <= check.floor else "partial credit")
    epochs = trained.get("epochs_run")
    stopped = " (stopped by the time limit)" if trained.get("stopped_by_time") else ""
    return CheckResult(
        check.grade_id, points, check.points,
        f"test {check.metric} {value:.3f} after {epochs} epochs{stopped}: threshold "
        f"{check.threshold:.2f}, floor {check.floor:.2f} -> {verdict}",
        figures_for(check, trained) if with_figures else {})


def evaluate(spec: Spec, export, inspected: dict, trained: dict, *, figures: bool = True
             ) -> list[CheckResult]:
    """Every check of ``spec``, in order. ``inspected``/``trained`` map function -> result."""
    results = []
    for check in spec.checks:
        problem = _function_error(check, export, inspected.get(check.function))
        if problem is not None:
            results.append(CheckResult(check.grade_id, 0.0, check.points, problem))
            continue
        info = inspected[check.function]
        if check.kind == "builds":
            results.append(_builds(check, info))
        elif check.kind == "output_shape":
            results.append(_output_shape(check, info))
        elif check.kind == "compiled":
            results.append(_compiled(check, info))
        else:
            results.append(_metric(check, trained.get(check.function), figures))
    return results


def reason_line(results: list[CheckResult]) -> str:
    """One line: the first lost points and why, or 'all checks passed'."""
    for r in results:
        if not r.passed:
            first = r.message.strip().splitlines()[-1] if r.message.strip() else r.message
            return f"{r.grade_id}: {first}"[:240]
    return "all checks passed"
