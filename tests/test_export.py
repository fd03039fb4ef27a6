"""The sandbox's export is hostile data: every malformed file is one student's failure."""
import json
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import export, protocol

GOOD = {"cells": [{"index": 1, "grade_id": "build_cnn", "skipped": [], "output": "hi"}],
        "calls": {"build_cnn": {"ok": True, "config": {"class_name": "Sequential"},
                                "compile_config": None}}}


def _write(tmp_path, content) -> Path:
    path = tmp_path / "export.json"
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return path


def test_a_well_formed_export_parses(tmp_path):
    cells, calls = export.parse(_write(tmp_path, GOOD), ["build_cnn", "build_rnn"])
    assert cells[0]["output"] == "hi"
    assert calls["build_cnn"]["ok"] and calls["build_cnn"]["config"]["class_name"] == "Sequential"
    assert not calls["build_rnn"]["ok"] and "no result came back" in calls["build_rnn"]["error"]


@pytest.mark.parametrize("content, reason", [
    (b"\x00\xff\xfe binary junk", "not JSON"),
    (b'{"cells": [', "not JSON"),
    ("[" * 5000 + "]" * 5000, "nested too deeply"),  # json.loads raises RecursionError
    ({"cells": 7, "calls": {}}, "expected an object"),
    ({"cells": [3, 4], "calls": {}}, "cell report is malformed"),
    ({"cells": [], "calls": {"build_cnn": "a string"}}, "result is malformed"),
    ({"cells": [], "calls": {"build_cnn": {"ok": True, "config": "not a dict"}}}, "not a JSON object"),
    ({"cells": [], "calls": {"build_cnn": {"ok": True}}}, "neither a model nor a value"),
    ({"cells": [{"index": True, "output": ""}], "calls": {}}, "cell report is malformed"),
    ({"cells": [{"index": 1, "output": 5}], "calls": {}}, "not text"),
])
def test_malformed_exports_raise_only_export_invalid(tmp_path, content, reason):
    if isinstance(content, str):
        content = content.encode()
    path = _write(tmp_path, content)
    with pytest.raises(export.ExportInvalid, match=reason):
        export.parse(path, ["build_cnn"])


def test_deep_but_parseable_nesting_is_refused(tmp_path):
    deep = {"cells": [], "calls": {}}
    node = deep["calls"]
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(export.ExportInvalid, match="deeper than"):
        export.parse(_write(tmp_path, deep), [])


def test_oversized_exports_are_refused(tmp_path):
    path = _write(tmp_path, b" " * (export.MAX_BYTES + 1))
    with pytest.raises(export.ExportInvalid, match="bytes"):
        export.parse(path, [])


def test_values_round_trip_and_decode_defensively():
    value = (np.arange(6, dtype="float32").reshape(2, 3), 1.5, [np.int64(2), None], "s")
    wire = json.loads(json.dumps(protocol.encode(value)))
    back = protocol.decode(wire)
    assert isinstance(back[0], np.ndarray) and back[0].dtype == np.float32
    assert back[0].tolist() == [[0, 1, 2], [3, 4, 5]] and back[1:] == [1.5, [2, None], "s"]
    assert protocol.decode(protocol.encode(object())) == "object"  # a type name, not the object
    for bad in [{"__ndarray__": [1, 2], "dtype": "object"}, {"__ndarray__": [[1], [1, 2]],
                                                              "dtype": "float32"},
                {"evil": 1}, {"__ndarray__": [0] * (protocol.MAX_ELEMENTS + 1),
                              "dtype": "int32"}]:
        with pytest.raises(protocol.DecodeError):
            protocol.decode(bad)


def test_integers_beyond_64_bits_are_named_not_an_internal_error():
    """A student's ``b = 10**30`` is reported as what it is; a forged array of them is refused
    as malformed (it used to raise OverflowError, an 'internal grader error')."""
    back = protocol.decode(json.loads(json.dumps(protocol.encode((np.zeros(2), 10**30)))))
    assert back[1] == "integer too large for 64 bits"
    assert isinstance(back[1], protocol.Unsupported)
    for forged in [{"__ndarray__": [10**30], "dtype": "int64"}, 10**30, [-(2**64)]]:
        with pytest.raises(protocol.DecodeError):
            protocol.decode(forged)
