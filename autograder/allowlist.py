"""Which serialized Keras objects a submitted model may contain.

A submitted config is data from an untrusted process. Before Keras sees it, every object in it
(layers, initializers, optimizers, ...) must be an allow-listed ``module``/``class_name`` pair:
no Lambda layers (they carry Python bytecode), no student-defined classes, no layers that read
files or wrap foreign code, no embedded arrays (pretrained weights smuggled in a config).
"""
from __future__ import annotations

from dataclasses import dataclass

LAYERS = frozenset("""
InputLayer Input Dense EinsumDense Embedding Activation Identity
Conv1D Conv2D Conv3D SeparableConv1D SeparableConv2D DepthwiseConv1D DepthwiseConv2D
Conv1DTranspose Conv2DTranspose Conv3DTranspose
MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D AveragePooling3D
GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D
GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D
SimpleRNN LSTM GRU Bidirectional TimeDistributed SimpleRNNCell LSTMCell GRUCell RNN StackedRNNCells
MultiHeadAttention Attention AdditiveAttention GroupQueryAttention
BatchNormalization LayerNormalization GroupNormalization UnitNormalization RMSNormalization
Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianDropout GaussianNoise
AlphaDropout ActivityRegularization
Flatten Reshape Permute RepeatVector Cropping1D Cropping2D Cropping3D
UpSampling1D UpSampling2D UpSampling3D ZeroPadding1D ZeroPadding2D ZeroPadding3D
Add Subtract Multiply Average Maximum Minimum Concatenate Dot
ReLU LeakyReLU PReLU ELU Softmax
Rescaling Normalization
""".split())

MODELS = frozenset({"Sequential", "Functional", "Model"})
SAFE_MODULES = {  # whole public namespaces whose classes do no I/O and run no foreign code
    "keras.initializers", "keras.regularizers", "keras.constraints",
    "keras.optimizers", "keras.optimizers.schedules", "keras.losses", "keras.metrics",
}
COURSE_LAYERS = frozenset({"TokenAndPositionEmbedding"})  # course.layers, registered as course>X
ARRAY_MARKERS = frozenset({"__numpy__", "__tensor__", "__bytes__", "__lambda__", "__typespec__"})
MAX_LIST_LENGTH = 64  # longer lists of numbers in a config are weights in disguise
MAX_NUMBERS = 512  # numbers in a whole config: real ones need < 100 (shapes, sizes, rates)
# Operators and keras.ops calls on symbolic tensors (``x + attn``, ``ops.relu(x)``) serialize as
# operation nodes of these modules: pure tensor maths, allowed except what carries code.
OPS_MODULES = frozenset({"keras.src.ops.numpy", "keras.src.ops.nn", "keras.src.ops.math",
                         "keras.src.ops.linalg", "keras.src.ops.image"})
OPS_REFUSED = frozenset({"Vectorize"})  # takes a Python function
CORE_OPS = frozenset({"Cast", "Slice", "StopGradient"})  # keras.src.ops.core: no loops, no maps


class ConfigRejected(ValueError):
    """A submitted config holds something the trusted trainer will not rebuild."""


@dataclass(frozen=True)
class Finding:
    path: str
    what: str


def _allowed(module: str | None, class_name: str, registered: str | None) -> bool:
    if class_name == "__keras_tensor__" and module is None:  # a functional graph edge: data only
        return True
    if module == "keras.layers":
        return class_name in LAYERS
    if module in ("keras", "keras.models") or (module or "").startswith("keras.src.models."):
        return class_name in MODELS or class_name in {"DTypePolicy", "FloatDTypePolicy"}
    if module in SAFE_MODULES:
        return True
    if module == "keras.activations":
        return class_name == "function"
    if module in OPS_MODULES:
        return class_name not in OPS_REFUSED
    if module == "keras.src.ops.core":
        return class_name in CORE_OPS
    if module == "course.layers":
        return class_name in COURSE_LAYERS and registered in (None, f"course>{class_name}")
    return False


def _explain(module, class_name) -> str:
    if class_name == "Lambda":
        return "a Lambda layer (Python code, which the grader cannot rebuild safely)"
    if class_name in ARRAY_MARKERS:
        return "an embedded array or function (weights and code cannot be submitted, only layers)"
    if module in (None, "builtins") or not str(module).startswith(("keras", "course")):
        return (f"a custom class {class_name!r} from module {module!r}: the grader rebuilds only "
                "built-in Keras layers and the course library's layers")
    return f"{module}.{class_name}, which the grader does not allow"


def find_problems(config, path: str = "model") -> list[Finding]:
    """Every object in ``config`` that is not allow-listed, with where it sits."""
    found: list[Finding] = []
    if isinstance(config, dict):
        if "class_name" in config:
            module, name = config.get("module"), str(config["class_name"])
            registered = config.get("registered_name")
            if name in ARRAY_MARKERS or not _allowed(module, name, registered):
                found.append(Finding(path, _explain(module, name)))
                return found
            if registered not in (None, name, f"course>{name}"):
                found.append(Finding(path, f"a registered custom object {registered!r}"))
                return found
            if name == "Constant" and not isinstance(
                    config.get("config", {}).get("value"), (int, float)):
                found.append(Finding(path, "a Constant initializer with an array (weights)"))
        for key, value in config.items():
            found.extend(find_problems(value, f"{path}.{key}"))
    elif isinstance(config, list):
        if len(config) > MAX_LIST_LENGTH and all(isinstance(v, (int, float)) for v in config):
            found.append(Finding(path, f"a list of {len(config)} numbers (weights in disguise)"))
            return found
        for i, value in enumerate(config):
            found.extend(find_problems(value, f"{path}[{i}]"))
    return found


def count_numbers(config) -> int:
    """Every int and float anywhere in ``config`` (iterative: configs are untrusted)."""
    total, stack = 0, [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            total += 1
    return total


def check(config) -> None:
    """Raise :class:`ConfigRejected` naming the first forbidden object and the fix."""
    numbers = count_numbers(config)
    if numbers > MAX_NUMBERS:
        raise ConfigRejected(
            f"the model's config carries {numbers:,} numbers; a model built from layers needs "
            f"far fewer (the limit is {MAX_NUMBERS:,}). Remove numbers passed as layer arguments "
            "(lists of values, initial weights): the grader trains the model from scratch")
    problems = find_problems(config)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigRejected(
            f"the model contains {first.what}{more} at {first.path}; use only built-in Keras "
            "layers (Dense, Conv2D, LSTM, ...) and course.layers"
        )
