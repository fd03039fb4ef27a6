"""The grader's rebuild test, run by a visible check in the student's own notebook.

A model that builds in the notebook but that the trusted trainer would refuse (a ``Lambda``
layer, a class of the student's own, a table of numbers, over the caps) fails the visible
check there, with the grader's message, instead of passing and then scoring 0 after grading.
The caps reach the notebook as numbers written in at release time (the specs are not visible to
student code); the graded check itself still runs in the trusted trainer.
"""
from __future__ import annotations

import json
import warnings


def assert_rebuilds(model, *, max_params: int, max_activations: int, input_shape=None) -> None:
    """Raise AssertionError, with the grader's reason and fix, unless the grader can rebuild
    ``model`` from its config (the same export, allow-list, caps and rebuild as grading)."""
    import keras

    from .trusted import rebuild

    if not isinstance(model, keras.Model):
        raise AssertionError(f"expected a keras.Model, received {type(model).__name__}")
    try:  # what the sandbox exports: the config as JSON
        config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    except Exception as err:  # Keras raises many types for models it cannot save
        raise AssertionError(
            f"the model cannot be saved as a config ({type(err).__name__}: {str(err)[:200]}), "
            "so the grader cannot rebuild it: use built-in Keras layers") from None
    try:
        with warnings.catch_warnings():  # nbgrader zeroes a test cell that writes to stderr
            warnings.simplefilter("ignore")
            rebuild.rebuild(config, input_shape=input_shape, max_params=max_params,
                            max_activations=max_activations)
    except rebuild.RebuildError as err:
        raise AssertionError(f"the grader cannot rebuild this model, so every check of it "
                             f"would score 0: {err}") from None
