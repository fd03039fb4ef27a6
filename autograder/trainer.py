"""The trusted trainer: rebuild a submitted model from data, train it on the spec's budget, score it.

Runs in processes that never import student code. A job is plain JSON: the exported model and
compile configs plus the spec. The result is plain JSON too: what the rebuilt model looks like,
its metric, history, confusion matrix, timings and device, or the reason it could not train.
"""
from __future__ import annotations

import time
import traceback

from course import runtime


def _splits(spec: dict):
    from course import data

    return data.load(spec["data"]["name"], **spec["data"].get("kwargs", {}))


def _timed(timings: dict, key: str, fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    timings[key] = round(time.perf_counter() - t0, 4)
    return out


def job(spec_raw: dict, function: str, exported: dict, *, train: bool = True) -> dict:
    """The plain-JSON job for one exported function (``exported`` holds ``config`` and
    ``compile_config``, as the sandbox writes them)."""
    return {"spec": spec_raw, "function": function, "train": train,
            "export": {"config": exported["config"],
                       "compile_config": exported.get("compile_config")}}


def train_and_score(job: dict, *, progress: bool = False) -> dict:
    """Rebuild, seed, train and evaluate one exported model. Never raises for a bad submission.

    ``job``: ``{"spec": <spec JSON>, "function": name, "export": {"config", "compile_config"},
    "train": bool}``.
    """
    from course import plots, training

    from . import rebuild as rb

    spec, export, train = job["spec"], job["export"], job["spec"]["train"]
    timings: dict[str, float] = {}
    result: dict = {"function": job["function"], "built": False, "trained": False,
                    "device": str(runtime.detect_device()), "timings": timings}
    splits = _timed(timings, "data", _splits, spec)
    try:
        runtime.seed_everything(int(train.get("seed", 0)))
        model = _timed(timings, "rebuild", rb.rebuild, export["config"],
                       input_shape=splits.input_shape,
                       max_params=train.get("max_params", 1_000_000),
                       max_activations=train.get("max_activations", 5_000_000))
    except rb.RebuildError as err:
        result["error"] = str(err)
        return result
    result.update(built=True, params=int(model.count_params()),
                  output_shape=list(model.output_shape),
                  compiled=export.get("compile_config") is not None)
    if not job.get("train", True):
        return result
    try:
        rb.compile_submitted(model, export.get("compile_config"))
        budget = training.Budget(train["epochs"], train["batch_size"], train.get("max_seconds"))
        fitted = training.fit(model, splits.x_train, splits.y_train, budget=budget,
                              validation_data=(splits.x_val, splits.y_val), progress=progress)
        timings["fit"] = round(fitted.seconds, 4)
        predicted = _timed(timings, "evaluate", training.predict_classes, model, splits.x_test)
    except rb.RebuildError as err:
        result["error"] = str(err)
        return result
    except Exception as err:  # training blew up: the submission's failure, not the grader's
        result["error"] = f"training failed: {type(err).__name__}: {str(err)[:300]}"
        result["traceback"] = traceback.format_exc(limit=3)
        return result
    result.update(
        trained=True, metrics={"accuracy": float((predicted == splits.y_test).mean())},
        history=fitted.history, epochs_run=fitted.epochs_run,
        stopped_by_time=fitted.stopped_by_time,
        confusion=plots.confusion_matrix(splits.y_test, predicted, splits.num_classes).tolist(),
    )
    return result
