"""How many trusted trainers share one GPU: from the GPU's free memory and a trainer's measured
footprint.

The course's models are small: one training uses a sliver of a large GPU and is bound by
per-step latency, so several trainers on one GPU grade several submissions at once. The pool
starts one trainer per GPU; when its first job that trains is done, the GPU's used memory has
grown by that trainer's whole footprint (CUDA context, framework pools, the model and its
batches), as ``nvidia-smi`` reports it for any backend. The pool then adds trainers up to
:func:`trainers_per_gpu`. ``course grade --trainers-per-gpu N`` overrides the choice.
"""
from __future__ import annotations

import os
import shutil
import subprocess

CAP = 8  # trainers per GPU at most: beyond this the GPU's step latency, not memory, binds
SHARE = 0.5  # of the free memory the trainers may plan on: later models may be larger
MIN_FOOTPRINT_MIB = 256  # a trainer always costs at least its CUDA context


def memory_mib(ids: list[str]) -> dict[str, tuple[int, int]]:
    """``{cuda id: (total MiB, used MiB)}`` for the GPUs ``ids`` (``nvidia-smi`` numbering);
    empty when ``nvidia-smi`` is missing or fails."""
    if not ids or not shutil.which("nvidia-smi"):
        return {}
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index,memory.total,memory.used",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True,
                             timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found = {}
    for line in out.stdout.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3 and all(p.isdigit() for p in parts) and parts[0] in ids:
            found[parts[0]] = (int(parts[1]), int(parts[2]))
    return found


def trainers_per_gpu(free_mib: float, footprint_mib: float, *, gpus: int = 1,
                     cores: int | None = None, cap: int = CAP) -> int:
    """How many trainers one GPU should hold: as many as fit in ``SHARE`` of its free memory at
    ``footprint_mib`` each, at most one per two CPU cores per GPU (the rest feed sandboxes) and
    at most ``cap``; never fewer than one."""
    cores = cores or os.cpu_count() or 1
    by_memory = int(free_mib * SHARE // max(footprint_mib, MIN_FOOTPRINT_MIB))
    by_cores = max(1, cores // (2 * max(gpus, 1)))
    return max(1, min(by_memory, by_cores, cap))


def decide(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]],
           gpu: str, trainers_now: int, *, gpus: int) -> tuple[int, str]:
    """Trainers for GPU ``gpu`` after its first job, and a line saying why. ``before``: memory
    before any trainer started; ``after``: now, with ``trainers_now`` trainers on it."""
    if gpu not in before or gpu not in after:
        return trainers_now, f"GPU {gpu}: memory unknown (no nvidia-smi); {trainers_now} trainer(s)"
    total, used_before = before[gpu]
    footprint = max((after[gpu][1] - used_before) / max(trainers_now, 1), MIN_FOOTPRINT_MIB)
    free = total - used_before
    n = trainers_per_gpu(free, footprint, gpus=gpus)
    return n, (f"GPU {gpu}: {free} MiB free, one trainer measured at {footprint:.0f} MiB -> "
               f"{n} trainer(s) (at most {SHARE:.0%} of free memory, one per 2 cores, {CAP} "
               "cap; --trainers-per-gpu overrides)")
