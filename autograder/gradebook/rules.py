"""The "Rules for your models" section of every assignment notebook, written at release time
from the allow-list and the assignment's spec, so the rules a student reads are the rules the
grader applies (``# %% [rules]`` in an assignment source; :mod:`autograder.gradebook.notebooks`)."""
from __future__ import annotations

from ..trusted import allowlist

HEADING = "## Rules for your models"
MODEL_KINDS = ("classifier", "gan")  # task kinds whose functions return models


def _names(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _refused() -> str:
    by_reason: dict[str, list[str]] = {}
    for name, why in allowlist.REFUSED_LAYERS.items():
        by_reason.setdefault(why, []).append(name)
    return "; ".join(f"{_names(names)} ({'each ' if len(names) > 1 else ''}{why})"
                     for why, names in by_reason.items())


def _caps(spec) -> list[str]:
    lines = []
    for task in spec.tasks.values():
        if task.kind in MODEL_KINDS:
            for fn in task.functions:
                lines.append(f"`{fn}` at most {task.caps.max_params:,} parameters and "
                             f"{task.caps.max_activations:,} layer outputs per example (every "
                             "layer and operation, attention scores and recurrent states)")
    return lines


def markdown(spec) -> str:
    """The rules section for ``spec``'s notebook (markdown)."""
    hub = ", ".join(f"`{k}`" for k in allowlist.KERAS_HUB)
    course = _names(f"course.layers.{n}" for n in sorted(allowlist.COURSE_LAYERS))
    return "\n".join([
        HEADING,
        "The grader rebuilds each model you return from its configuration, in a separate "
        "process, and trains it from scratch, so a model may hold only what it can rebuild. "
        "The visible build check runs the grader's own rebuild: when it passes here, the "
        "grader accepts your model.",
        "",
        "- **Accepted**: every layer in `keras.layers` (`Dense`, `Conv2D`, `LSTM`, `Masking`, "
        "`MultiHeadAttention`, ...) except those refused below; `keras.ops` calls and "
        "operators on tensors (`x + y`, `ops.mean(x, axis=1)`); slicing and indexing "
        f"(`x[:, -1]`, `x[..., :k]`); the course's layers {course}; built-in optimizers, "
        "losses and metrics.",
        "- **Refused**: layers of your own (custom classes); a table of numbers written into "
        "the model (a NumPy array or tensor in `x + table`, a `Constant` initializer holding "
        "an array), since every weight is learned during grading: for fixed sine positions "
        "use `x = x + SinePositionEncoding()(x)`; "
        f"`keras_hub` layers ({hub}: not installed where the grader trains, the course "
        f"layers stand in); and {_refused()}.",
        "- **Caps**: " + "; ".join(_caps(spec)) + f"; at most {allowlist.MAX_NUMBERS:,} "
        f"numbers in a whole model configuration and no list of more than "
        f"{allowlist.MAX_LIST_LENGTH}; at most {allowlist.MAX_INFORMATION:,} values in all "
        "(numbers, booleans and characters of names and other text: the course's models "
        f"need under half); `unroll=True` over at most {allowlist.MAX_UNROLLED_STEPS} steps; "
        f"at most {allowlist.MAX_METRICS} metrics keeping {allowlist.MAX_METRIC_STATE:,} values "
        "of state.",
    ])
