"""Calibrate the `transformer` assignment's classifier task: reference and fixtures, seeds x
backends, trained as the grader trains (the attention task is exact: see tests/test_sequences.py).

Run: .venv/bin/python bench/measure_transformer.py [--backends tensorflow,jax] [--seeds 0,1,2]
Prints a Markdown table (saved as bench/results/measure_transformer.md).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure_rnn  # noqa: E402  (the shared measuring harness)

MODELS = [
    ("reference (1 block, 2 heads, dim 32)", "ref", {}),
    ("reference, 4 heads, dim 64", "ref", {"embed_dim": 64, "num_heads": 4, "ff_dim": 128}),
    ("fixture bag_of_tokens", "fixture:bag_of_tokens", {}),
    ("fixture no_positions", "fixture:no_positions", {}),
]

if __name__ == "__main__":
    measure_rnn.main(spec_id="transformer", task_name="transformer", models=MODELS)
