"""Classifier tasks: a compiled model, rebuilt from its config, trained by ``fit``, scored by
accuracy of ``argmax`` (or of ``> 0.5`` for one sigmoid unit) on held-out data (for the digit
tasks, the private pool: images no notebook loads).

Used by ``cnn``, ``rnn``, the transformer's classifier, and the perceptron's binary builders.
"""
from __future__ import annotations

import math
import time
import traceback

from . import graded_data, held_out, model_calls
from .result import ModelInfo, TaskResult


def calls(spec, task, seed: int) -> list[dict]:
    return model_calls(spec, task)


def _timed(timings: dict, key: str, fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    timings[key] = round(time.perf_counter() - t0, 4)
    return out


def rebuilt(exported: dict, task, input_shape, timings: dict, key: str = "rebuild"):
    """(model or None, ModelInfo) for one exported model, within the task's caps."""
    from .. import rebuild as rb

    if not exported.get("ok"):
        return None, ModelInfo(error=exported.get("error", "the function was not exported"))
    try:
        model = _timed(timings, key, rb.rebuild, exported["config"], input_shape=input_shape,
                       max_params=task.caps.max_params,
                       max_activations=task.caps.max_activations)
    except rb.RebuildError as err:
        return None, ModelInfo(error=str(err))
    return model, ModelInfo(True, None, int(model.count_params()), list(model.output_shape),
                            exported.get("compile_config") is not None)


def run(task, exports: dict, seed: int, *, progress: bool = False) -> TaskResult:
    """Rebuild, seed, train and evaluate one exported classifier. Never raises for a bad model."""
    from course import plots, runtime, training

    from .. import rebuild as rb

    timings: dict[str, float] = {}
    result = TaskResult(task.name, "classifier", device=str(runtime.detect_device()),
                        timings=timings)
    splits = _timed(timings, "data", graded_data, task, seed)
    runtime.seed_everything(seed)
    exported = exports[task.function]
    model, info = rebuilt(exported, task, splits.input_shape, timings)
    result.models[task.function] = info
    if model is None:
        result.error = info.error
        return result
    budget = training.Budget(**{k: v for k, v in task.budget.items()
                                if k in training.Budget.__dataclass_fields__})  # not memory_mb
    try:
        rb.compile_submitted(model, exported.get("compile_config"))
    except rb.RebuildError as err:  # no point for settings the grader cannot train with
        info.compiled, info.compile_error = False, str(err)
        result.error = str(err)
        return result
    try:
        fitted = training.fit(model, splits.x_train, splits.y_train, budget=budget,
                              validation_data=(splits.x_val, splits.y_val), progress=progress)
        timings["fit"] = round(fitted.seconds, 4)
        predicted = _timed(timings, "evaluate", training.predict_classes, model, splits.x_test)
    except Exception as err:  # training blew up: the submission's failure, not the grader's
        result.error = f"training failed: {type(err).__name__}: {str(err)[:300]}"
        result.extra["traceback"] = traceback.format_exc(limit=3)
        return result
    result.ok = True
    result.metrics = {"accuracy": float((predicted == splits.y_test).mean())}
    stopped = " (stopped by the time limit)" if fitted.stopped_by_time else ""
    kept = (f", keeping epoch {fitted.best_epoch} (best validation accuracy)"
            if fitted.best_epoch is not None and fitted.best_epoch != fitted.epochs_run else "")
    result.summary = (f"on {held_out(splits, task)} after {fitted.epochs_run} epochs"
                      f"{kept}{stopped}")
    result.history = fitted.history
    losses = fitted.history.get("loss", [])
    if any(not math.isfinite(v) for v in losses):
        first = next(i for i, v in enumerate(losses) if not math.isfinite(v)) + 1
        result.message = (f"the training loss became {losses[first - 1]} in epoch {first}: "
                          "lower the learning rate, or check the loss and the output layer")
    result.extra["confusion"] = plots.confusion_matrix(
        splits.y_test, predicted, splits.num_classes).tolist()
    return result


def figures(task, result: TaskResult, *, threshold: float | None = None,
            metric: str = "accuracy") -> dict:
    """Learning curves and the confusion matrix, as PNG bytes."""
    from course import plots

    out = {"Learning curves": plots.to_png(plots.learning_curves(
        result.history, threshold=threshold, metric=metric,
        title="Learning curves (trusted training)"))}
    if result.extra.get("confusion"):
        out["Confusion matrix"] = plots.to_png(plots.confusion_figure(result.extra["confusion"]))
    return out
