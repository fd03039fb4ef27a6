"""The trainer pool's own failure paths: a broken installation fails every job fast (and keeps
failing fast, never hanging), and GPU ids keep the numbering CUDA_VISIBLE_DEVICES gave them."""
from __future__ import annotations

import pytest

from autograder import pool as pools


def test_trainers_that_cannot_start_fail_each_submit_without_hanging():
    broken = [{"KERAS_BACKEND": "no-such-backend", "CUDA_VISIBLE_DEVICES": ""}]
    with pools.WorkerPool(size=1, envs=broken) as pool:
        for _ in range(2):  # the second submit must not wait on a dead dispatcher
            future = pool.submit({"spec": {}, "task": "x", "seed": 0, "exports": {}}, timeout=60)
            with pytest.raises(pools.WorkerStartError, match="failed to start"):
                future.result(timeout=120)
        assert pool.workers == []  # nothing half-started is left running


def test_gpu_ids_keep_the_visible_numbering(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert pools.gpu_ids() == ["3", "5"]
    size, envs = pools.default_size(per_gpu=2)
    assert size == 4 and [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["3", "3", "5", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert pools.gpu_ids() == [] and pools.visible_gpus() == 0
