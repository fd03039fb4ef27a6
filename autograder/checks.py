"""Turn what the sandbox exported and what the trusted side measured into points.

Check kinds are the same for every task kind: ``builds``, ``output_shape`` and ``compiled`` look
at one exported model as the trusted side rebuilt it; ``metric`` reads one number the task
measured and scores it between floor and threshold. Each returns a :class:`CheckResult` whose
message says what was expected, what was received, and (when points were lost) how to fix it.
The task's pictures go with its first metric check.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .trusted import kinds
from .trusted.kinds import ModelInfo, TaskResult
from .scoring import linear_credit
from .spec import Check, Spec


@dataclass
class CheckResult:
    grade_id: str
    points: float
    max_points: float
    message: str
    figures: dict = field(default_factory=dict)  # title -> PNG bytes

    @property
    def passed(self) -> bool:
        return self.points >= self.max_points


def _lost(check: Check, message: str) -> CheckResult:
    return CheckResult(check.grade_id, 0.0, check.points, message)


def _model_problem(export, result: TaskResult | None, function: str) -> str | None:
    """Why ``function`` has no rebuilt model, or None when it has one."""
    if export is not None and not export.ok:
        return export.error
    if result is None:
        return "the grader could not inspect the model"
    info = result.models.get(function)
    if info is None:
        return result.error or f"{function} was not exported"
    if not info.built:
        return info.error or "the model could not be rebuilt"
    return None


def _builds(check: Check, info: ModelInfo) -> CheckResult:
    return CheckResult(check.grade_id, check.points, check.points,
                       f"{check.function} returned a keras.Model with {info.params:,} "
                       "parameters, rebuilt by the grader from its config")


def _shape_text(shape) -> str:
    return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")"


def _output_shape(check: Check, info: ModelInfo) -> CheckResult:
    got = tuple(info.output_shape)
    expected = tuple(check.expected) if check.expected else got
    if got == expected:
        return CheckResult(check.grade_id, check.points, check.points,
                           f"output shape {_shape_text(got)} as expected")
    return _lost(check, f"{check.function}: expected output shape {_shape_text(expected)}, "
                        f"received {_shape_text(got)}; the last layer needs "
                        f"{expected[-1]} unit{'s' if expected[-1] != 1 else ''} per example")


def _compiled(check: Check, info: ModelInfo) -> CheckResult:
    if info.compiled:
        return CheckResult(check.grade_id, check.points, check.points, "the model is compiled")
    if info.compile_error:
        return _lost(check, info.compile_error)
    return _lost(check, "the model is not compiled: call model.compile(optimizer=..., loss=..., "
                        "metrics=['accuracy']) before returning it")


def _verdict(check: Check, value: float, points: float) -> str:
    if points >= check.points:
        return "passed"
    return "no points: at or beyond the floor" if points <= 0 else "partial credit"



def _metric(check: Check, export, result: TaskResult | None) -> CheckResult:
    if export is not None and not export.ok:
        return _lost(check, export.error)
    if result is None or not result.ok:
        reason = (result.error if result is not None else None) or "the task did not run"
        return _lost(check, f"not measured: {reason}")
    value = result.metrics.get(check.metric)
    if value is None:
        return _lost(check, f"not measured: no {check.metric} in the result")
    points = linear_credit(value, floor=check.floor, threshold=check.threshold,
                           points=check.points)
    lower = " (lower is better)" if check.lower_is_better else ""
    summary = result.summaries.get(check.metric) or result.summary
    message = (f"{check.metric.replace('_', ' ')} {value:.3f} {summary}: threshold "
               f"{check.threshold:.2f}, floor {check.floor:.2f}{lower} -> "
               f"{_verdict(check, value, points)}")
    explanation = result.messages.get(check.metric) or result.message
    if explanation and points < check.points:
        message += f"\n{explanation}"
    return CheckResult(check.grade_id, points, check.points, message)


def unmet_requirement(check: Check, points: dict[str, float]) -> bool:
    """Whether ``check`` counts only when the check it ``requires`` earns points, and that check
    (its points in ``points``, by grade id) earned none."""
    return check.requires is not None and points.get(check.requires, 1.0) <= 0


def evaluate(spec: Spec, export, results: dict[str, TaskResult], *, figures: bool = True
             ) -> list[CheckResult]:
    """Every check of ``spec``, in order. ``results`` maps task name -> its TaskResult."""
    out, pictured = [], set()
    for check in spec.checks:
        if export is not None and export.grade_cells is not None \
                and check.grade_id not in export.grade_cells:
            out.append(_lost(check, f"the test cell {check.grade_id} was deleted from your "
                                    "notebook, so this check scores nothing: re-download the "
                                    "release and copy your code into it"))
            continue
        result = results.get(check.task)
        if check.kind == "metric":
            scored = _metric(check, export, result)
            if scored.points > 0 and unmet_requirement(check, {r.grade_id: r.points for r in out}):
                scored = _lost(check, f"not judged: {check.metric.replace('_', ' ')} means "
                                      f"something only when {check.requires} earns points, "
                                      "and it earned none")
            if figures and result is not None and result.ok and check.task not in pictured:
                pictured.add(check.task)
                task = spec.tasks[check.task]
                scored.figures = kinds.module(task.kind).figures(
                    task, result, threshold=check.threshold, metric=check.metric)
            out.append(scored)
            continue
        problem = _model_problem(export, result, check.function)
        if problem is not None:
            out.append(_lost(check, problem))
            continue
        info = result.models[check.function]
        handler = {"builds": _builds, "output_shape": _output_shape, "compiled": _compiled}
        out.append(handler[check.kind](check, info))
    return out


def reason_line(results: list[CheckResult]) -> str:
    """One line: the first lost points and why, or 'all checks passed'."""
    for r in results:
        if not r.passed:
            first = r.message.strip().splitlines()[-1] if r.message.strip() else r.message
            return f"{r.grade_id}: {first}"[:240]
    return "all checks passed"
