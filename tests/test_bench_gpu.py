"""bench/gpu_grade.py on a machine without a GPU: the CPU fallback of the GPU benchmark."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_gpu_grade_falls_back_to_cpu(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu_grade.py"), "--backends", "jax",
         "--assignments", "perceptron", "--out", str(tmp_path / "out"),
         "--notebooks", str(tmp_path / "notebooks"), "--batch", "3", "--batch-of", "perceptron"],
        capture_output=True, text=True, timeout=1100)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    table = tmp_path / "out" / "gpu_grade.md"
    assert table.exists()
    assert "| jax |" in table.read_text()
    (result,) = json.loads((tmp_path / "out" / "gpu_grade.json").read_text())
    rows = {r["fixture"]: r for r in result["assignments"]["perceptron"]["rows"]}
    ref = rows.pop("reference")
    assert ref["score"] == ref["max_score"], ref["reason"]
    assert ref["device"].endswith("via jax")
    assert any(k.endswith(".fit") and v > 0 for k, v in ref["timings"].items())
    assert set(result["assignments"]["perceptron"]["stages"]) == {"sandbox", "trusted", "wall"}
    assert rows and all(r["score"] < ref["score"] for r in rows.values())
    assert result["batch"]["n"] == 3 and result["batch"]["scores"] == [ref["score"]]
