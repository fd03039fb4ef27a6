"""What a submitted model really costs, read from its symbolic graph before anything trains.

The activation cap must see every value a training step holds per example, not only the outputs
of the top-level layers: every operation node (``keras.ops`` calls and operators count as much as
layers), the layers inside nested models and wrappers, the score matrices inside attention layers
(heads x queries x keys, kept for the backward pass), and the per-step states of recurrent layers
(steps x state x gates). Two costs that are not per-example values are capped on their own: an
unrolled recurrent layer copies its cell once per step into the graph (compiling thousands of
copies takes longer than training), and the compile config's metrics keep state that every batch
updates (``MeanIoU(8000)`` is a 64-million-entry confusion matrix).

Everything here reads shapes of a model built under ``keras.StatelessScope``: no weight is
allocated and nothing runs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import keras
# StatelessScope(initialize_variables=False) leaves the variables it did not allocate in a
# global list that no public API clears (as in rebuild.py).
from keras.src.backend.common import global_state

from . import allowlist

# Values one step of a recurrent cell keeps per unit of state, for the backward pass: gate
# activations plus the new state (an LSTM: 4 gates, the cell and the output).
GATES = {"LSTMCell": 6, "GRUCell": 4, "SimpleRNNCell": 1, "ConvLSTMCell": 6}
ATTENTION_COPIES = 3  # scores, softmax, dropout: each heads x queries x keys per example


@dataclass(frozen=True)
class Part:
    """One operation's share of the cost, in the student's terms."""

    name: str  # the layer or operation name the student wrote (or Keras made)
    kind: str  # its class
    values: int  # values per example: outputs and what it keeps inside


def _elements(shape) -> int:
    dims = [d for d in tuple(shape)[1:] if d is not None]
    return math.prod(dims) if dims else 1


def _members(model) -> list:
    """A model's operations: every layer and op node of a Functional graph, a Sequential's
    layers."""
    found = getattr(model, "operations", None)
    return list(found if found is not None else getattr(model, "layers", []))


def _inputs(node) -> list:
    args = getattr(node, "arguments", None)
    tensors = keras.tree.flatten(args.args) if args is not None else []
    return [t for t in tensors if hasattr(t, "shape")]


def _state_size(cell) -> int:
    sizes = keras.tree.flatten(cell.state_size)
    return sum(math.prod(s) if isinstance(s, (list, tuple)) else int(s) for s in sizes)


def _per_step(cell, output_shape, return_sequences: bool) -> int:
    """Values of one step's state, per example (for convolutional cells the whole feature map)."""
    shape = tuple(output_shape)[1:] if return_sequences else tuple(output_shape)
    return max(_state_size(cell), _elements(shape))


def _inside(op, node) -> int:
    """Values per example ``op`` keeps inside it for one call, beyond its outputs."""
    ins = _inputs(node)
    kind = type(op).__name__
    if isinstance(op, keras.Model):
        return total(op)
    if kind in ("MultiHeadAttention", "GroupedQueryAttention") and ins:
        heads = getattr(op, "num_heads", None) or getattr(op, "num_query_heads", None) or 1
        query, value = ins[0], ins[1] if len(ins) > 1 else ins[0]
        return ATTENTION_COPIES * heads * _elements(query.shape[:-1]) * _elements(
            value.shape[:-1])
    if kind in ("Attention", "AdditiveAttention") and ins:
        query, value = ins[0], ins[1] if len(ins) > 1 else ins[0]
        return ATTENTION_COPIES * _elements(query.shape[:-1]) * _elements(value.shape[:-1])
    if kind == "Bidirectional":
        return sum(_inside(layer, node) for layer in (op.forward_layer, op.backward_layer))
    if hasattr(op, "cell") and ins:
        steps = ins[0].shape[1] or 1
        first = keras.tree.flatten(node.output_tensors)[0]
        per_step = _per_step(op.cell, first.shape, bool(getattr(op, "return_sequences", False)))
        return steps * per_step * GATES.get(type(op.cell).__name__, 4)
    if kind == "TimeDistributed" and ins:
        inner = op.layer
        return (ins[0].shape[1] or 1) * (total(inner) if isinstance(inner, keras.Model) else 0)
    return 0


def _own_nodes(model, op) -> list:
    """The calls of ``op`` that belong to ``model``'s own graph. A layer of a nested model is
    also called when its parent traces it; Keras keeps the graph's own calls in ``_nodes``
    (keys ``<id>_ib-<index>``, private), so each call is counted once, in its own model."""
    graph = getattr(model, "_functional", None) or model
    own = getattr(graph, "_nodes", None)
    nodes = list(getattr(op, "_inbound_nodes", None) or [])
    if not isinstance(own, (set, frozenset)):
        return nodes
    return [node for i, node in enumerate(nodes) if f"{id(op)}_ib-{i}" in own]


def parts(model) -> list[Part]:
    """Every operation of ``model`` (nested models counted inside their parent) with the values
    it holds per example, over all the times it is called."""
    out = []
    for op in _members(model):
        if type(op).__name__ == "InputLayer":
            continue
        values = 0
        for node in _own_nodes(model, op):
            values += sum(_elements(t.shape) for t in keras.tree.flatten(node.output_tensors))
            values += _inside(op, node)
        out.append(Part(op.name, type(op).__name__, values))
    return out


def total(model) -> int:
    """Values per example a training step holds for ``model`` (a proxy for its memory)."""
    return sum(part.values for part in parts(model))


def unrolled(model) -> list[tuple[str, int]]:
    """(name, steps) of every recurrent layer, at any depth, that unrolls over more than
    :data:`allowlist.MAX_UNROLLED_STEPS` steps."""
    out, stack = [], [model]
    while stack:
        current = stack.pop()
        for op in _members(current):
            for inner in (op, getattr(op, "layer", None), getattr(op, "forward_layer", None)):
                if isinstance(inner, keras.Model):
                    stack.append(inner)
            layer = getattr(op, "forward_layer", None) or getattr(op, "layer", None) or op
            if getattr(layer, "unroll", False):
                for node in _own_nodes(current, op):
                    ins = _inputs(node)
                    steps = (ins[0].shape[1] if ins else None) or 0
                    if steps > allowlist.MAX_UNROLLED_STEPS:
                        out.append((op.name, int(steps)))
    return out


def metric_state(compile_config: dict | None) -> tuple[int, int, str | None]:
    """(number of metrics, entries of state they keep, the largest one's name) for a compile
    config, with nothing allocated."""
    if not compile_config:
        return 0, 0, None
    metrics = []
    for key in ("metrics", "weighted_metrics"):
        metrics.extend(_flatten_metrics(compile_config.get(key)))
    state, biggest, biggest_size = 0, None, -1
    for item in metrics:
        if not isinstance(item, dict):  # a name ("accuracy"): built-in, a few scalars of state
            continue
        try:
            with keras.StatelessScope(initialize_variables=False):
                metric = keras.metrics.deserialize(item)
                size = sum(math.prod(v.shape) for v in metric.variables)
        finally:
            global_state.set_global_attribute("uninitialized_variables", [])
        state += size
        if size > biggest_size:
            biggest, biggest_size = getattr(metric, "name", item.get("class_name")), size
    return len(metrics), state, biggest


def _flatten_metrics(value) -> list:
    """Metrics as the compile config lists them: a name, a serialized metric (a dict with
    ``class_name``), or lists and per-output dicts of those."""
    if value is None:
        return []
    if isinstance(value, str) or (isinstance(value, dict) and "class_name" in value):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [m for item in value for m in _flatten_metrics(item)]
    return [value]
