"""A Keras model config (as the sandbox exports it) as a canonical graph of layers.

Two models are the same architecture when their graphs are the same, whatever the layers are
called, whatever seed their initializers got, in whichever order independent branches were
written, and whether the model was written as a ``Sequential`` list or with the functional API.
Nothing here imports Keras or runs student code: the config is JSON, read as data.

Each node is one call of a layer (or of a ``keras.ops`` operation) with its *settings*: the
layer's config less what does not change the architecture (names, seeds, dtype policy, build
shapes). A node's identity is a hash of its settings and of its inputs' identities (a Merkle
hash), so equal hashes mean equal graphs; merges whose inputs commute (``Add``, ``Concatenate``
...) sort their inputs first.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

IGNORED_KEYS = {"name", "seed", "dtype", "trainable", "build_config", "registered_name",
                "module", "compile_config", "sparse", "ragged", "optional"}
COMMUTATIVE = {"Add", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"}
MODEL_CLASSES = {"Sequential", "Functional", "Model"}
ACTIVATION_LAYERS = {"Activation", "ReLU", "Softmax"}
ACTIVATION_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax",
                  "Gelu": "gelu", "Silu": "silu", "Elu": "elu", "Selu": "selu",
                  "LeakyRelu": "leaky_relu", "Softplus": "softplus"}
MAX_NODES = 5_000  # a model under the parameter caps has a few hundred layers at most


class ConfigError(ValueError):
    """The export is not a Keras model config this module can read."""


@dataclass
class Node:
    kind: str  # class name: "Dense", "Add" (an op), "Input"
    settings: dict
    inputs: list = field(default_factory=list)  # indices of parent nodes
    label: str = ""  # kind + settings, canonical JSON
    digest: str = ""  # Merkle hash: label and the inputs' digests
    depth: int = 0  # longest path from an input


@dataclass
class Graph:
    nodes: list  # Node, in canonical order (by depth, then digest)
    outputs: list  # digests of the outputs, in the model's output order
    digest: str  # the whole architecture's identity

    def lines(self) -> list[str]:
        """One line per node, in canonical order: what a person reads side by side."""
        out = []
        for n in self.nodes:
            numbers = [self.nodes.index(p) + 1 for p in n.inputs]
            parents = ", ".join(map(str, sorted(numbers) if n.kind in COMMUTATIVE else numbers))
            link = f" <- {parents}" if parents and not _is_chain(self, n) else ""
            out.append(f"{n.kind}({_short(n.settings)}){link}")
        return out


def _is_chain(graph: Graph, node: Node) -> bool:
    """A node whose only input is the line just above it (no arrow needed)."""
    i = graph.nodes.index(node)
    return len(node.inputs) == 1 and i > 0 and node.inputs[0] is graph.nodes[i - 1]


SHOWN_DEFAULTS = {"use_bias": True, "bias_initializer": "Zeros", "data_format": "channels_last",
                  "kernel_initializer": "GlorotUniform", "dilation_rate": [1, 1], "groups": 1,
                  "strides": [1, 1], "padding": "valid", "activation": "linear",
                  "recurrent_initializer": "Orthogonal"}  # left out of the lines people read


def _short(settings: dict) -> str:
    parts = []
    for k, v in sorted(settings.items()):
        text = _value_text(v)
        if SHOWN_DEFAULTS.get(k) in (v, text):
            continue
        parts.append(f"{k}={text}")
    return ", ".join(parts)


def _value_text(value) -> str:
    if isinstance(value, dict) and "class_name" in value:
        inner = value.get("config") or {}
        return f"{value['class_name']}({_short(inner)})" if inner else value["class_name"]
    return json.dumps(value, sort_keys=True) if not isinstance(value, str) else value


def clean(value):
    """Settings without what does not change the architecture; defaults left implicit by Keras
    (None) are dropped too, so a missing key and an explicit None read the same."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()
                if k not in IGNORED_KEYS and v is not None and k != "inbound_nodes"}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def _input_node(shape) -> Node:
    shape = list(shape or [])
    return Node("Input", {"shape": shape[1:] if shape else []})


def _tensors(value, found: list) -> None:
    """Every ``__keras_tensor__`` reference in a call's args, in order."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            found.append(tuple(value.get("config", {}).get("keras_history", [None, 0, 0])[:2]))
            return
        for k in sorted(value):
            _tensors(value[k], found)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _tensors(v, found)


def _constants(value):
    """A call's non-tensor arguments (``ops.max(x, axis=(1, 2))``: the axis)."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return "T"
        return {k: _constants(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_constants(v) for v in value]
    return value


def _layer_settings(layer: dict) -> tuple[str, dict]:
    kind = str(layer.get("class_name", "?"))
    config = layer.get("config") or {}
    if kind in MODEL_CLASSES:  # a model used as a layer: its own canonical identity
        return kind, {"model": canonical(layer).digest}
    return kind, clean(config) if isinstance(config, dict) else {}


def _sequential(config: dict) -> list[Node]:
    layers = config.get("layers") or []
    nodes: list[Node] = []
    first = layers[0] if layers else {}
    if first.get("class_name") == "InputLayer":
        nodes.append(_input_node((first.get("config") or {}).get("batch_shape")))
        layers = layers[1:]
    else:
        nodes.append(_input_node(config.get("build_input_shape")))
    for layer in layers:
        kind, settings = _layer_settings(layer)
        nodes.append(Node(kind, settings, [len(nodes) - 1]))
    return nodes


def _functional(config: dict) -> tuple[list[Node], list[int]]:
    nodes: list[Node] = []
    where: dict = {}  # (layer name, node index) -> node position
    pending = []
    for layer in config.get("layers") or []:
        name = layer.get("name") or (layer.get("config") or {}).get("name")
        if layer.get("class_name") == "InputLayer":
            where[(name, 0)] = len(nodes)
            nodes.append(_input_node((layer.get("config") or {}).get("batch_shape")))
            continue
        kind, settings = _layer_settings(layer)
        for i, call in enumerate(layer.get("inbound_nodes") or []):
            parents: list = []
            _tensors(call, parents)
            extra = _constants(call)
            constants = {k: v for k, v in (extra.get("kwargs") or {}).items() if v != "T"} \
                if isinstance(extra, dict) else {}
            args = [a for a in (extra.get("args") or []) if a != "T" and not _only_tensors(a)] \
                if isinstance(extra, dict) else []
            node_settings = dict(settings)
            if constants:
                node_settings["call"] = constants
            if args:
                node_settings["args"] = args
            where[(name, i)] = len(nodes)
            nodes.append(Node(kind, node_settings))
            pending.append((len(nodes) - 1, parents))
    for position, parents in pending:
        missing = [p for p in parents if (p[0], p[1]) not in where]
        if missing:
            raise ConfigError(f"expected every layer input to be defined in the config, "
                              f"received a reference to {missing[0][0]!r}")
        nodes[position].inputs = [where[(p[0], p[1])] for p in parents]
    outputs = []
    for ref in _output_refs(config.get("output_layers")):
        if tuple(ref[:2]) not in where:
            raise ConfigError(f"expected the model's output {ref[0]!r} among its layers")
        outputs.append(where[tuple(ref[:2])])
    return nodes, outputs


def _only_tensors(value) -> bool:
    if value == "T":
        return True
    return isinstance(value, list) and bool(value) and all(_only_tensors(v) for v in value)


def _output_refs(raw) -> list:
    if not raw:
        return []
    if isinstance(raw, list) and raw and isinstance(raw[0], str):
        return [raw]  # a single output written as [name, node, tensor]
    return [r for r in raw if isinstance(r, list) and len(r) >= 2]


def _fold_activations(nodes: list[Node], outputs: list[int]) -> None:
    """``Dense(64)`` then ``Activation("relu")`` (or ``ops.relu``) is ``Dense(64,
    activation="relu")``: fold a separate activation into a linear layer that only it reads."""
    readers: dict[int, int] = {}
    for n in nodes:
        for p in n.inputs:
            readers[p] = readers.get(p, 0) + 1
    for i, n in enumerate(nodes):
        name = None
        if n.kind == "Activation":
            name = n.settings.get("activation")
        elif n.kind == "ReLU" and set(n.settings) <= {"negative_slope", "threshold", "max_value"} \
                and not n.settings.get("negative_slope") and not n.settings.get("threshold"):
            name = "relu" if n.settings.get("max_value") is None else None
        elif n.kind in ACTIVATION_OPS and set(n.settings) <= set():
            name = ACTIVATION_OPS[n.kind]
        if not isinstance(name, str) or len(n.inputs) != 1:
            continue
        parent = nodes[n.inputs[0]]
        if parent.settings.get("activation") == "linear" and readers.get(n.inputs[0]) == 1 \
                and n.inputs[0] not in outputs:
            parent.settings["activation"] = name
            n.kind, n.settings = "Identity", {}


def _drop_identities(nodes: list[Node], outputs: list[int]) -> tuple[list[Node], list[int]]:
    """Remove pass-through nodes (folded activations), rewiring their readers."""
    target = list(range(len(nodes)))
    for i, n in enumerate(nodes):
        if n.kind == "Identity" and len(n.inputs) == 1:
            target[i] = target[n.inputs[0]]
    keep = [i for i, n in enumerate(nodes) if not (n.kind == "Identity" and len(n.inputs) == 1)]
    new_index = {old: new for new, old in enumerate(keep)}
    kept = []
    for i in keep:
        n = nodes[i]
        n.inputs = [new_index[target[p]] for p in n.inputs]
        kept.append(n)
    return kept, [new_index[target[o]] for o in outputs]


def _hash(nodes: list[Node], outputs: list[int]) -> Graph:
    order = _topological(nodes)
    for i in order:
        n = nodes[i]
        n.label = f"{n.kind}{json.dumps(n.settings, sort_keys=True)}"
        parents = [nodes[p].digest for p in n.inputs]
        if n.kind in COMMUTATIVE:
            parents = sorted(parents)
        n.depth = 1 + max((nodes[p].depth for p in n.inputs), default=-1)
        n.digest = _digest(n.label + "|" + ",".join(parents))
    reachable = _reachable(nodes, outputs)
    kept = sorted((nodes[i] for i in reachable), key=lambda n: (n.depth, n.digest))
    for n in kept:
        n.inputs = [nodes[p] for p in n.inputs]
    out_digests = [nodes[o].digest for o in outputs]
    return Graph(kept, out_digests, _digest(",".join(out_digests)))


def _topological(nodes: list[Node]) -> list[int]:
    indegree = [len(n.inputs) for n in nodes]
    children: dict[int, list[int]] = {}
    for i, n in enumerate(nodes):
        for p in n.inputs:
            children.setdefault(p, []).append(i)
    ready = [i for i, d in enumerate(indegree) if d == 0]
    order = []
    while ready:
        i = ready.pop()
        order.append(i)
        for c in children.get(i, []):
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    if len(order) != len(nodes):
        raise ConfigError("expected a model graph without cycles, received one with a cycle")
    return order


def _reachable(nodes: list[Node], outputs: list[int]) -> set[int]:
    seen, stack = set(), list(outputs)
    while stack:
        i = stack.pop()
        if i not in seen:
            seen.add(i)
            stack.extend(nodes[i].inputs)
    return seen


def canonical(export: dict) -> Graph:
    """The canonical graph of a model config as ``keras.saving.serialize_keras_object`` (the
    sandbox's export) writes it. Raises :class:`ConfigError` on anything else."""
    if not isinstance(export, dict) or not isinstance(export.get("config"), dict):
        raise ConfigError("expected a Keras model config (an object with 'class_name' and "
                          f"'config'), received {type(export).__name__}")
    kind, config = export.get("class_name"), export["config"]
    if kind == "Sequential":
        nodes = _sequential(config)
        outputs = [len(nodes) - 1]
    elif "inbound_nodes" in json.dumps(config.get("layers", []))[:1_000_000] or kind in \
            ("Functional", "Model"):
        nodes, outputs = _functional(config)
    else:
        raise ConfigError(f"expected a Sequential or functional model, received {kind!r}; "
                          "subclassed models carry no graph in their config")
    if len(nodes) > MAX_NODES:
        raise ConfigError(f"expected at most {MAX_NODES} layer calls, received {len(nodes)}")
    _fold_activations(nodes, outputs)
    nodes, outputs = _drop_identities(nodes, outputs)
    return _hash(nodes, outputs)


def features(graph: Graph) -> list[str]:
    """What two near-identical graphs share: every layer with its settings, every connection
    between two such layers, and every layer's kind at its depth (so a changed setting still
    keeps part of its layer). A multiset, written as distinct strings ("x#2" for a second x)."""
    raw = []
    for n in graph.nodes:
        raw.append(f"L:{n.label}")
        raw.append(f"K:{n.kind}@{n.depth}")
        for p in n.inputs:
            raw.append(f"E:{_digest(p.label)}>{_digest(n.label)}")
    counts: dict[str, int] = {}
    out = []
    for f in raw:
        counts[f] = counts.get(f, 0) + 1
        out.append(f if counts[f] == 1 else f"{f}#{counts[f]}")
    return out
