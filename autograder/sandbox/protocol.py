"""Values on the wire between the grader and the sandbox: plain JSON, arrays tagged.

The grader sends challenge inputs (NumPy arrays among them) to the sandbox, and the sandbox sends
back what a student's function returned. Both directions use the same small encoding: an array
is ``{"__ndarray__": nested lists, "dtype": "float32"}``, a tuple is a JSON list, anything that is
not a number, string, list, tuple, dict or array becomes ``{"__type__": its type name}``. Decoding
rebuilds arrays only from that one tag, with bounded size: no pickles, no code.
"""
from __future__ import annotations

import numpy as np

MAX_ELEMENTS = 1_000_000  # numbers in one returned value
OUTPUT_CHARS = 20_000  # printed output (and error text) kept per cell, by default (SandboxSpec)
INT_LIMIT = 2**63  # integers must fit 64 bits: the trusted side computes with NumPy
DTYPES = frozenset({"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                    "bool"})


class DecodeError(ValueError):
    """A value on the wire is not in the expected form."""


def _as_numpy(value):
    """A backend tensor (TensorFlow, JAX, PyTorch) as a NumPy array, else the value itself."""
    if isinstance(value, np.ndarray) or np.isscalar(value):
        return value
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        try:
            import keras

            return keras.ops.convert_to_numpy(value)
        except Exception:  # not a tensor after all: reported by type below
            return value
    return value


def encode(value, *, depth: int = 0):
    """JSON-ready form of ``value`` (arrays tagged, tuples as lists)."""
    if depth > 20:
        return {"__type__": "nested too deeply"}
    value = _as_numpy(value)
    if isinstance(value, np.ndarray):
        if value.size > MAX_ELEMENTS:
            return {"__type__": f"array of {value.size:,} elements (too large)"}
        dtype = str(value.dtype)
        if dtype not in DTYPES:
            return {"__type__": f"array of dtype {dtype}"}
        return {"__ndarray__": value.tolist(), "dtype": dtype}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        if not -INT_LIMIT <= int(value) < INT_LIMIT:
            return {"__type__": "integer too large for 64 bits"}
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value[:1000]
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [encode(v, depth=depth + 1) for v in value[:10_000]]
    if isinstance(value, dict):
        return {"__type__": "dict"}
    return {"__type__": type(value).__name__}


def _count(value) -> int:
    if isinstance(value, list):
        return sum(_count(v) for v in value)
    return 1


def decode(value, *, depth: int = 0):
    """Inverse of :func:`encode` for untrusted input: arrays rebuilt, size and depth bounded."""
    if depth > 24:
        raise DecodeError("value nested too deeply")
    if isinstance(value, dict):
        if "__ndarray__" in value:
            dtype = value.get("dtype")
            if dtype not in DTYPES:
                raise DecodeError(f"unsupported array dtype {dtype!r}")
            if _count(value["__ndarray__"]) > MAX_ELEMENTS:
                raise DecodeError("array too large")
            try:
                return np.asarray(value["__ndarray__"], dtype=dtype)
            except (ValueError, TypeError, OverflowError) as err:
                raise DecodeError(f"malformed array ({err})") from None
        if set(value) == {"__type__"} and isinstance(value["__type__"], str):
            return Unsupported(value["__type__"][:200])
        raise DecodeError("unexpected object")
    if isinstance(value, list):
        return [decode(v, depth=depth + 1) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and not (
            -INT_LIMIT <= value < INT_LIMIT):
        raise DecodeError("integer too large for 64 bits")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise DecodeError(f"unexpected {type(value).__name__}")


class Unsupported(str):
    """Stands for a returned object that has no wire form (its type name)."""
