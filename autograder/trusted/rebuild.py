"""Rebuild a submitted model from its exported config, safely, in a trusted process.

Order matters: allow-list the config (no Keras code runs yet); count parameters and activation
sizes with variables left unallocated; only then build it for real and compile it with the
submission's optimizer, loss and metrics but the grader's own execution settings.
"""
from __future__ import annotations

import copy
import math
import re

import keras
# The one private Keras import: StatelessScope(initialize_variables=False) leaves variables it
# did not allocate in a global list that no public API clears.
from keras.src.backend.common import global_state

import course.layers  # noqa: F401  (registers the course's layers for deserialization)

from . import allowlist, cost

GRADER_EXECUTION = {"run_eagerly": False, "jit_compile": "auto"}  # and steps, below
# TensorFlow runs this many training steps per call of its compiled function: the same steps in
# the same order, so histories are bit-identical, without the round trip through Python between
# batches: 0.61-0.89 of the fit's time for the references (bench/results/tf_steps.md). JAX and
# PyTorch keep one step per call (more would change what XLA compiles, and their calibration).
TF_STEPS_PER_EXECUTION = 16


def grader_execution() -> dict:
    """How the grader runs every model it trains, whatever the submission compiled with."""
    steps = TF_STEPS_PER_EXECUTION if keras.backend.backend() == "tensorflow" else 1
    return {**GRADER_EXECUTION, "steps_per_execution": steps}


BACKEND_OPTIMIZER = re.compile(r"^keras\.src\.backend\.\w+\.optimizers(\.\w+)?$")


def portable(config):
    """The config with backend-specific optimizer modules (PyTorch's Keras exports
    ``keras.src.backend.torch.optimizers.torch_adam.Adam``) mapped to ``keras.optimizers``, so
    a model exported on one backend rebuilds on another and the allow-list sees public names."""
    if isinstance(config, dict):
        out = {k: portable(v) for k, v in config.items()}
        if isinstance(out.get("module"), str) and BACKEND_OPTIMIZER.match(out["module"]):
            out["module"] = "keras.optimizers"
        return out
    if isinstance(config, list):
        return [portable(v) for v in config]
    return config


class RebuildError(ValueError):
    """The submitted model cannot be rebuilt or is over the grader's limits."""


def _deserialize(config) -> keras.Model:
    config = copy.deepcopy(config)  # Keras consumes the dict it is given
    try:
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as err:  # Keras raises many types for malformed configs
        raise RebuildError(
            f"the exported model could not be rebuilt ({type(err).__name__}: {str(err)[:300]}). "
            "Expected a model built from standard Keras layers; check that the builder returns it."
        ) from err
    if not isinstance(model, keras.Model):
        raise RebuildError(f"expected a keras.Model, received a {type(model).__name__}")
    return model


def _ensure_built(model: keras.Model, input_shape) -> None:
    if not model.built:
        if input_shape is None:
            raise RebuildError("the model has no input shape: start it with keras.Input(shape=...)")
        model.build((None, *input_shape))


def measure(config, input_shape=None) -> tuple[int, int]:
    """(parameters, activation elements per example) without allocating any weights."""
    params, acts, _ = _measured(config, input_shape)
    return params, acts


def _measured(config, input_shape):
    """(parameters, values per example, (the unrolling problem or None, the largest part))."""
    try:
        with keras.StatelessScope(initialize_variables=False):
            model = _deserialize(config)
            _ensure_built(model, input_shape)
            try:
                parts = cost.parts(model)  # one walk gives the total and the largest part
                measured = (sum(part.values for part in parts), _unrolled_problem(model),
                            max(parts, key=lambda part: part.values, default=None))
            except Exception as err:  # an exotic graph the walk does not know: say so
                raise RebuildError(
                    f"the grader could not measure what this model holds per example "
                    f"({type(err).__name__}: {str(err)[:200]}). Expected layers and keras.ops "
                    "calls in a Sequential or functional model; simplify the model's "
                    "structure, or ask your instructor if it is built that way on purpose"
                ) from err
            acts, unrolled, largest = measured
            return model.count_params(), acts, (unrolled, largest)
    finally:
        global_state.set_global_attribute("uninitialized_variables", [])


def _unrolled_problem(model) -> str | None:
    found = cost.unrolled(model)
    if not found:
        return None
    name, steps = found[0]
    return (f"layer '{name}' unrolls over {steps:,} steps (unroll=True copies the cell into "
            f"the graph once per step; the limit is {allowlist.MAX_UNROLLED_STEPS}). Leave "
            "unroll=False, the default: the loop runs the same computation")


def rebuild(config, *, input_shape=None, max_params: int = 1_000_000,
            max_activations: int = 5_000_000) -> keras.Model:
    """A fresh, uncompiled model from untrusted JSON, within the parameter and activation caps."""
    # A compiled model's config embeds its compile settings, and Keras would compile from them
    # while deserializing; the grader compiles separately, with its own execution settings.
    config = {k: v for k, v in config.items() if k != "compile_config"}
    try:
        allowlist.check(config)
    except allowlist.ConfigRejected as err:
        raise RebuildError(str(err)) from err
    params, acts, (unrolled, biggest) = _measured(config, input_shape)
    if unrolled:
        raise RebuildError(unrolled)
    if params > max_params:
        raise RebuildError(f"the model has {params:,} parameters; the limit for this assignment "
                           f"is {max_params:,}. Use fewer or smaller layers.")
    if acts > max_activations:
        largest = (f"; the largest part is '{biggest.name}' ({biggest.kind}, {biggest.values:,})"
                   if biggest is not None else "")
        raise RebuildError(
            f"a training step holds {acts:,} values per example (the outputs of every layer and "
            f"operation, attention scores, recurrent states){largest}; the limit is "
            f"{max_activations:,}. Use fewer filters, heads or steps, or downsample earlier.")
    model = _deserialize(config)
    _ensure_built(model, input_shape)
    return model


def _losses_resolve(loss) -> None:
    """Keras resolves a loss named by a string only when training starts: resolve it now, so
    that a name Keras does not know is a compile error, not a training failure."""
    if isinstance(loss, str):
        keras.losses.get(loss)
    elif isinstance(loss, (list, tuple)):
        for item in loss:
            _losses_resolve(item)
    elif isinstance(loss, dict) and "class_name" not in loss:
        for item in loss.values():
            _losses_resolve(item)


def compile_submitted(model: keras.Model, compile_config) -> None:
    """Compile with the submission's optimizer, loss and metrics, and the grader's execution."""
    if compile_config is None:
        raise RebuildError("the model is not compiled: call model.compile(optimizer=..., "
                           "loss=..., metrics=[...]) before returning it")
    compile_config = portable(compile_config)
    try:
        allowlist.check(compile_config)
    except allowlist.ConfigRejected as err:
        raise RebuildError(str(err)) from err
    _metrics_within_caps(compile_config)
    try:
        _losses_resolve(compile_config.get("loss"))
        model.compile_from_config(copy.deepcopy({**compile_config, **grader_execution()}))
    except Exception as err:  # a malformed compile config
        raise RebuildError(
            f"the model's compile settings could not be restored ({type(err).__name__}: "
            f"{str(err)[:200]}). Use built-in optimizers and losses in model.compile."
        ) from err
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        raise RebuildError("the model is compiled without an optimizer or a loss: pass both "
                           "to model.compile")


def _metrics_within_caps(compile_config: dict) -> None:
    """Metrics are computed on every batch: refuse more of them, or more state, than a task
    needs, before any of it is allocated."""
    try:
        count, state, largest = cost.metric_state(compile_config)
    except Exception as err:  # a metric Keras cannot rebuild: a compile error like any other
        raise RebuildError(
            f"the model's metrics could not be restored ({type(err).__name__}: "
            f"{str(err)[:200]}). Use built-in metrics, e.g. metrics=['accuracy']") from err
    if count > allowlist.MAX_METRICS:
        raise RebuildError(f"the model is compiled with {count} metrics; the limit is "
                           f"{allowlist.MAX_METRICS}. The grader measures its own: "
                           "metrics=['accuracy'] is enough")
    if state > allowlist.MAX_METRIC_STATE:
        raise RebuildError(
            f"the model's metrics keep {state:,} values of state, updated on every batch (the "
            f"largest is '{largest}'); the limit is {allowlist.MAX_METRIC_STATE:,}. Use a smaller "
            "metric (fewer classes or thresholds) or metrics=['accuracy']")
