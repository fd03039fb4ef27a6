"""Which serialized Keras objects a submitted model may contain.

A submitted config is data from an untrusted process. Before Keras sees it, every object in it
(layers, operations, initializers, optimizers, ...) must be an allow-listed ``module``/
``class_name`` pair: every built-in layer that carries no code and reads no file, keras.ops
calls, operators and slicing on tensors, and the course library's layers. Refused: Lambda
layers (Python bytecode), student-defined classes, layers that load files or wrap foreign code,
and embedded arrays (tables of numbers: trained weights smuggled in a config look the same as
a fixed table, so both are refused, and the refusal names the course layer that makes a fixed
sine table). The same tables write each notebook's rules section
(:mod:`autograder.gradebook.rules`).
"""
from __future__ import annotations

from dataclasses import dataclass

LAYERS = frozenset("""
InputLayer Dense EinsumDense Embedding ReversibleEmbedding Activation Identity Masking
Conv1D Conv2D Conv3D SeparableConv1D SeparableConv2D DepthwiseConv1D DepthwiseConv2D
Conv1DTranspose Conv2DTranspose Conv3DTranspose ConvLSTM1D ConvLSTM2D ConvLSTM3D
MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D AveragePooling3D
GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D
GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D
AdaptiveAveragePooling1D AdaptiveAveragePooling2D AdaptiveAveragePooling3D
AdaptiveMaxPooling1D AdaptiveMaxPooling2D AdaptiveMaxPooling3D
SimpleRNN LSTM GRU Bidirectional TimeDistributed SimpleRNNCell LSTMCell GRUCell RNN StackedRNNCells
MultiHeadAttention Attention AdditiveAttention GroupedQueryAttention
BatchNormalization LayerNormalization GroupNormalization UnitNormalization RMSNormalization
SpectralNormalization
Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianDropout GaussianNoise
AlphaDropout ActivityRegularization
Flatten Reshape Permute RepeatVector Cropping1D Cropping2D Cropping3D
UpSampling1D UpSampling2D UpSampling3D ZeroPadding1D ZeroPadding2D ZeroPadding3D
Add Subtract Multiply Average Maximum Minimum Concatenate Dot
ReLU LeakyReLU PReLU ELU Softmax
Rescaling Normalization Resizing CenterCrop CategoryEncoding Discretization
MelSpectrogram STFTSpectrogram Pipeline
RandomFlip RandomRotation RandomZoom RandomTranslation RandomCrop RandomContrast
RandomBrightness RandomShear RandomErasing RandomGaussianBlur RandomGrayscale RandomHue
RandomSaturation RandomSharpness RandomInvert RandomPosterization RandomColorDegeneration
RandomColorJitter RandomElasticTransform RandomPerspective AutoContrast Equalization
Solarization AugMix CutMix MixUp RandAugment MaxNumBoundingBoxes
ContrastLimitedAdaptiveHistogramEqualization
""".split())

_TEXT = "needs TensorFlow's string operations, which not every grading machine has"
_FOREIGN = "wraps code of another framework"
REFUSED_LAYERS = {  # built-in layers that stay refused: why, in a student's terms
    "Lambda": "runs a Python function, which the grader cannot rebuild safely",
    "TFSMLayer": "loads a saved model from a file",
    "TorchModuleWrapper": _FOREIGN, "JaxLayer": _FOREIGN, "FlaxLayer": _FOREIGN,
    "TextVectorization": _TEXT, "StringLookup": _TEXT, "IntegerLookup": _TEXT,
    "Hashing": _TEXT, "HashedCrossing": _TEXT,
    "Layer": "is a base class: a layer of your own is a custom class",
    "Wrapper": "is a base class: a layer of your own is a custom class",
}
CODE_FIX = ("write the same computation with keras.ops or operators on tensors "
            "(x[:, -1], x + y, ops.mean(x, axis=1)) or a built-in layer")
COURSE_LAYERS = frozenset({"TokenAndPositionEmbedding", "SinePositionEncoding"})  # course>X
KERAS_HUB = {  # keras_hub is not installed beside the grader's Keras: what to use instead
    "SinePositionEncoding": "course.layers.SinePositionEncoding",
    "TokenAndPositionEmbedding": "course.layers.TokenAndPositionEmbedding",
    "PositionEmbedding": "course.layers.TokenAndPositionEmbedding (learned positions)",
    "TransformerEncoder": ("layers.MultiHeadAttention, layers.LayerNormalization and Dense "
                           "layers, with residual connections written with +"),
}
MODELS = frozenset({"Sequential", "Functional", "Model"})
SAFE_MODULES = {  # whole public namespaces whose classes do no I/O and run no foreign code
    "keras.initializers", "keras.regularizers", "keras.constraints",
    "keras.optimizers", "keras.optimizers.schedules", "keras.losses", "keras.metrics",
}
# Graph edges and tensor indexing (x[:, -1], x[..., :k], x[:, None]) serialize as these
# markers (module None): plain data, ints and None inside.
GRAPH_MARKERS = frozenset({"__keras_tensor__", "__slice__", "__ellipsis__"})
ARRAY_MARKERS = frozenset({"__numpy__", "__tensor__", "__bytes__", "__lambda__", "__typespec__"})
MAX_LIST_LENGTH = 64  # longer lists of numbers in a config are weights in disguise
MAX_NUMBERS = 512  # numbers in a whole config: real ones need < 150 (shapes, sizes, rates)
# Every scalar of a config together: numbers, booleans, nulls and each character of text (names
# and other string arguments). The largest model of the course's references, textbook and style
# models carries 1,397 (the transformer's textbook block); a dense network carrying the 1,797
# digit sequences as booleans carries 115,000, and 120 digits written as text 7,680.
MAX_INFORMATION = 3_000
# Caps on what a config may make the grader build (cost.py and rebuild.py apply them; declared
# here, with no Keras import, so the notebooks' rules section can quote them)
MAX_UNROLLED_STEPS = 100  # unroll=True copies the cell once per step into the graph
MAX_METRICS = 8  # metrics and weighted metrics in one compile config
MAX_METRIC_STATE = 100_000  # entries of state all metrics keep together
VOCABULARY_KEYS = frozenset({"module", "class_name", "registered_name"})  # allow-listed above
# Operators and keras.ops calls on symbolic tensors (``x + attn``, ``ops.relu(x)``, ``x[:, -1]``)
# serialize as operation nodes of these modules: pure tensor maths, allowed except what carries
# code.
OPS_MODULES = frozenset({"keras.src.ops.numpy", "keras.src.ops.nn", "keras.src.ops.math",
                         "keras.src.ops.linalg", "keras.src.ops.image"})
OPS_REFUSED = frozenset({"Vectorize"})  # takes a Python function
CORE_OPS = frozenset({"Cast", "Slice", "StopGradient"})  # keras.src.ops.core: no loops, no maps
NO_TABLES = "the grader trains every model from scratch and accepts no tables of numbers"
SINE_FIX = ("use course.layers.SinePositionEncoding for fixed sine/cosine positions, "
            "x = x + SinePositionEncoding()(x), or course.layers.TokenAndPositionEmbedding for "
            "learned ones")
TABLE_FIX = ("let a layer learn these numbers (every weight is trained from scratch); a fixed "
             "sine position table comes from course.layers.SinePositionEncoding")
BUILT_IN_FIX = ("use built-in Keras layers (Dense, Conv2D, LSTM, ...), keras.ops calls, "
                "operators and slicing on tensors, and course.layers")


class ConfigRejected(ValueError):
    """A submitted config holds something the trusted trainer will not rebuild."""


@dataclass(frozen=True)
class Finding:
    path: str  # where in the config (for instructors)
    what: str  # what was refused
    where: str = ""  # the layer or operation in the student's terms
    why: str = ""  # why it is refused
    fix: str = BUILT_IN_FIX  # what to use instead


def _allowed(module: str | None, class_name: str, registered: str | None) -> bool:
    if class_name in GRAPH_MARKERS and module is None:  # graph edges and indexing: data only
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


def _shape(value) -> tuple:
    shape = []
    while isinstance(value, (list, tuple)):
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)


def looks_like_sine_table(value) -> bool:
    """Row 0 of a sine/cosine position table is sin(0), cos(0), ... = 0, 1, 0, 1, ..."""
    while isinstance(value, list) and value and isinstance(value[0], list) \
            and value[0] and isinstance(value[0][0], list):
        value = value[0]  # leading batch axes of size 1
    if not (isinstance(value, list) and len(value) > 1 and isinstance(value[0], list)):
        return False
    first = value[0]
    return len(first) >= 2 and all(isinstance(v, (int, float)) and abs(v - (i % 2)) < 1e-6
                                   for i, v in enumerate(first))


def _array(config: dict) -> tuple[str, str, str]:
    value = config["config"].get("value") if isinstance(config.get("config"), dict) else None
    size = " x ".join(str(d) for d in _shape(value)) or "1"
    if looks_like_sine_table(value):
        return f"a fixed sine/cosine position table of {size} numbers", NO_TABLES, SINE_FIX
    return f"a table of {size} numbers (an array or tensor)", NO_TABLES, TABLE_FIX


def _explain(module, class_name, config: dict) -> tuple[str, str, str]:
    """(what was refused, why, what to use instead)."""
    if class_name in ("__numpy__", "__tensor__"):
        return _array(config)
    if class_name == "__lambda__":
        return "a Python function", "the grader cannot rebuild code safely", CODE_FIX
    if class_name in ARRAY_MARKERS:
        return (f"embedded data ({class_name.strip('_')})", "numbers or code cannot be "
                "submitted, only layers", BUILT_IN_FIX)
    if module == "keras.layers" and class_name in REFUSED_LAYERS:
        fix = CODE_FIX if class_name == "Lambda" else BUILT_IN_FIX
        return f"a {class_name} layer", f"it {REFUSED_LAYERS[class_name]}", fix
    if str(module).startswith("keras_hub") and class_name in KERAS_HUB:
        return (f"keras_hub's {class_name}", "keras_hub is not installed where the grader "
                "trains", f"use {KERAS_HUB[class_name]}")
    if module in (None, "builtins", "__main__"):
        return (f"a custom class {class_name!r} (defined in your code)", "the grader rebuilds "
                "only built-in Keras layers and the course library's layers", BUILT_IN_FIX)
    if not str(module).startswith(("keras", "course")):
        return (f"a custom class {class_name!r} from module {module!r}", "the grader rebuilds "
                "only built-in Keras layers and the course library's layers", BUILT_IN_FIX)
    return f"{module}.{class_name}", "the grader does not allow it", BUILT_IN_FIX


def _where(node: dict) -> str | None:
    """A layer or operation node, named as the student wrote it."""
    config = node.get("config")
    name = config.get("name") if isinstance(config, dict) else None
    if not isinstance(name, str):
        return None
    name = name if len(name) <= 40 else name[:40] + "..."
    module, cls = node.get("module"), node.get("class_name")
    if module in OPS_MODULES or module == "keras.src.ops.core":
        return f"in operation '{name}' (an operator or keras.ops call)"
    if module == "keras.layers" or module == "course.layers":
        return f"in layer '{name}' ({cls})"
    return None


def find_problems(config, path: str = "model") -> list[Finding]:
    """Every object in ``config`` that is not allow-listed, with where it sits, in document
    order (an iterative walk: configs are untrusted)."""
    found: list[Finding] = []
    stack = [(config, path, "")]
    while stack:
        item, path, where = stack.pop()
        children = []
        if isinstance(item, dict):
            if "class_name" in item:
                module, name = item.get("module"), str(item["class_name"])
                registered = item.get("registered_name")
                if name in ARRAY_MARKERS or not _allowed(module, name, registered):
                    what, why, fix = _explain(module, name, item)
                    own = item.get("config", {}).get("name") if isinstance(
                        item.get("config"), dict) else None
                    named = f"named '{own}'" if isinstance(own, str) else where
                    found.append(Finding(path, what, named, why, fix))
                    continue
                if registered not in (None, name, f"course>{name}"):
                    found.append(Finding(path, f"a registered custom object {registered!r}",
                                         where, "the grader rebuilds only built-in classes"))
                    continue
                value = item.get("config", {}).get("value") if isinstance(
                    item.get("config"), dict) else None
                if name == "Constant" and not isinstance(value, (int, float)):
                    found.append(Finding(path, f"a Constant initializer holding "
                                         f"{' x '.join(map(str, _shape(value))) or 'some'} "
                                         "numbers", where, NO_TABLES, TABLE_FIX))
                where = _where(item) or where
            children = [(v, f"{path}.{k}", where) for k, v in item.items()]
        elif isinstance(item, (list, tuple)):  # tuples: a config not yet through JSON
            if len(item) > MAX_LIST_LENGTH and all(isinstance(v, (int, float)) for v in item):
                found.append(Finding(path, f"a list of {len(item)} numbers", where, NO_TABLES,
                                     TABLE_FIX))
                continue
            children = [(v, f"{path}[{i}]", where) for i, v in enumerate(item)]
        stack.extend(reversed(children))
    return found


def count_numbers(config) -> int:
    """Every int and float anywhere in ``config`` (iterative: configs are untrusted)."""
    total, stack = 0, [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            total += 1
    return total


def information(config) -> tuple[int, dict[str, int]]:
    """Every scalar of ``config`` (a number, boolean or null counts 1, text 1 per character),
    and the same total by where it sits in the student's model (a layer or operation name).

    Dict keys are not counted: they are Keras's own argument names, and Keras refuses others.
    Module and class names are not counted either: :func:`find_problems` allow-lists them."""
    total, by_place = 0, {}
    stack = [(config, "the model", None)]
    while stack:
        item, where, key = stack.pop()
        if isinstance(item, dict):
            where = _where(item) or where
            stack.extend((v, where, k) for k, v in item.items())
            continue
        if isinstance(item, (list, tuple)):
            stack.extend((v, where, key) for v in item)
            continue
        if isinstance(item, str):
            size = 0 if key in VOCABULARY_KEYS else len(item)
        else:
            size = 1
        total += size
        by_place[where] = by_place.get(where, 0) + size
    return total, by_place


def check(config) -> None:
    """Raise :class:`ConfigRejected` naming the first forbidden object, where it sits in the
    student's model, and what to use instead."""
    problems = find_problems(config)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        where = f" {first.where}" if first.where else ""
        why = f"{first.why}; " if first.why else ""
        raise ConfigRejected(f"the model contains {first.what}{where}{more}. Instead, "
                             f"{first.fix} ({why}found at {first.path})")
    numbers = count_numbers(config)
    if numbers > MAX_NUMBERS:
        raise ConfigRejected(
            f"the model's config carries {numbers:,} numbers; a model built from layers needs "
            f"far fewer (the limit is {MAX_NUMBERS:,}). Remove numbers passed as layer arguments "
            "(lists of values, initial weights): the grader trains the model from scratch. "
            "For fixed sine/cosine positions use course.layers.SinePositionEncoding, "
            "x = x + SinePositionEncoding()(x)")
    carried, by_place = information(config)
    if carried > MAX_INFORMATION:
        where, most = max(by_place.items(), key=lambda kv: kv[1])
        raise ConfigRejected(
            f"the model's config carries {carried:,} values (numbers, booleans and characters "
            f"of text); the models of this course need under half the limit of "
            f"{MAX_INFORMATION:,}. The most, {most:,}, sit {where}: remove the data written into "
            "the model (lists of values, long names or strings). The grader trains the model "
            "from scratch on data of its own")
