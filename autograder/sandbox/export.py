"""The sandbox's export file is hostile data: parse it bounded, validate it against one schema.

Student code runs in the process that writes this file and can rewrite it (at exit, from a
thread, ...). Whatever it holds, :func:`parse` either returns well-formed cells and call results
or raises :class:`ExportInvalid` with a short reason, which becomes that student's failure. No
other exception escapes, so one submission can never stop a batch.

Schema::

    {"cells": [{"index": int, "grade_id": str | null, "skipped": [str], "output": str,
                "error": str (optional)}, ...],
     "calls": {key: {"ok": true, "config": {...}, "compile_config": {...} | null}
                  | {"ok": true, "value": <protocol encoding>}
                  | {"ok": false, "error": str}}}
"""
from __future__ import annotations

import json
from pathlib import Path

from .protocol import OUTPUT_CHARS

MAX_BYTES = 10_000_000  # a Keras config of a model under the caps is a few hundred KB at most
MAX_DEPTH = 64  # Keras configs nest about 12 deep; json.loads itself fails near 1,000
MAX_CELLS = 2_000
TEXT_LIMIT = OUTPUT_CHARS  # longest text (a cell's output or error) accepted from an export


class ExportInvalid(ValueError):
    """The export is not what the sandbox's own code writes."""


def _depth(value) -> int:
    """Nesting depth, iteratively (a recursive walk is itself a RecursionError waiting)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def load_bounded(path: Path, max_bytes: int = MAX_BYTES):
    """JSON from ``path``, refusing files over ``max_bytes`` and nesting over MAX_DEPTH."""
    size = Path(path).stat().st_size
    if size > max_bytes:
        raise ExportInvalid(f"{size:,} bytes, over the {max_bytes:,} a model config needs")
    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8"))
    except RecursionError:
        raise ExportInvalid("JSON nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as err:
        raise ExportInvalid(f"not JSON: {type(err).__name__}") from None
    if _depth(data) > MAX_DEPTH:
        raise ExportInvalid(f"JSON nested deeper than {MAX_DEPTH} levels")
    return data


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise ExportInvalid(f"{what} is a {type(value).__name__}, not text")
    return value[-TEXT_LIMIT:]


def _cell(raw) -> dict:
    if not isinstance(raw, dict) or not isinstance(raw.get("index"), int) \
            or isinstance(raw.get("index"), bool):
        raise ExportInvalid("a cell report is malformed")
    grade_id = raw.get("grade_id")
    if grade_id is not None:
        grade_id = _text(grade_id, "a cell id")[:200]
    skipped = raw.get("skipped", [])
    if not isinstance(skipped, list):
        raise ExportInvalid("a cell's skipped lines are not a list")
    cell = {"index": raw["index"], "grade_id": grade_id,
            "skipped": [_text(s, "a skipped line")[:500] for s in skipped[:200]],
            "output": _text(raw.get("output", ""), "a cell's output")}
    if raw.get("error") is not None:
        cell["error"] = _text(raw["error"], "a cell's error")
    return cell


def _call(raw) -> dict:
    if not isinstance(raw, dict) or not isinstance(raw.get("ok"), bool):
        raise ExportInvalid("a function's result is malformed")
    if not raw["ok"]:
        return {"ok": False, "error": _text(raw.get("error", "unknown error"), "an error")}
    if "config" in raw:
        compile_config = raw.get("compile_config")
        if not isinstance(raw["config"], dict) or not isinstance(compile_config, (dict, type(None))):
            raise ExportInvalid("an exported model config is not a JSON object")
        return {"ok": True, "config": raw["config"], "compile_config": compile_config}
    if "value" in raw:
        return {"ok": True, "value": raw["value"]}  # decoded, bounded, by the values kind
    raise ExportInvalid("a function's result has neither a model nor a value")


def parse(path: Path, keys: list[str]) -> tuple[list[dict], dict]:
    """(cell reports, {call key: result}) from the export at ``path``; every key in ``keys``
    gets a result (a missing one is that call's failure). Raises only ExportInvalid."""
    data = load_bounded(path)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list) \
            or not isinstance(data.get("calls"), dict):
        raise ExportInvalid("expected an object with a list of cells and an object of calls")
    if len(data["cells"]) > MAX_CELLS:
        raise ExportInvalid(f"{len(data['cells'])} cell reports")
    cells = [_cell(c) for c in data["cells"]]
    calls = {}
    for key in keys:
        raw = data["calls"].get(key)
        calls[key] = _call(raw) if raw is not None else {
            "ok": False, "error": "no result came back for this function (did your code stop "
                                  "the notebook before the grader could call it?)"}
    return cells, calls
