"""One combined score per pair, and which pairs are unusual *for this batch*.

A small task makes independent solutions alike, so no fixed score means "copied". A pair is
flagged when its combined score stands far above the batch's own: at least ``Z`` robust
standard deviations (1.4826 x the median absolute deviation) above the median of all pairs,
and at least ``FLOOR`` in itself. Flagged means "a person should look", nothing more.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WEIGHTS = {"code": 0.6, "architecture": 0.3, "values": 0.1}  # values only where a task has them
Z = 3.5  # robust standard deviations above the batch median
FLOOR = 0.6  # and never below this combined score (measured: two independent Sequential
# lists of conv layers reach 0.56, their token streams being 80% alike)
MIN_SPREAD = 0.02  # a batch of near-equal pairs: spread taken as at least this


@dataclass
class Batchwide:
    median: float
    spread: float  # robust standard deviation
    cutoff: float  # combined score at and above which a pair is flagged

    def z(self, score: float) -> float:
        return (score - self.median) / self.spread


def combine(code: np.ndarray, arch_evidence: np.ndarray, arch_available: np.ndarray,
            values: np.ndarray, has_values: bool) -> np.ndarray:
    """Weighted mean of the channels each pair has (architecture only where both exports hold
    a model; values only for assignments with from-scratch functions)."""
    w_arch = WEIGHTS["architecture"] * arch_available
    w_values = WEIGHTS["values"] if has_values else 0.0
    total = WEIGHTS["code"] * code + w_arch * arch_evidence + w_values * values
    return total / (WEIGHTS["code"] + w_arch + w_values)


def batchwide(scores: np.ndarray) -> Batchwide:
    """Median, spread and cutoff of ``scores`` (one per pair)."""
    if not len(scores):
        return Batchwide(0.0, MIN_SPREAD, 1.0)
    median = float(np.median(scores))
    spread = max(MIN_SPREAD, 1.4826 * float(np.median(np.abs(scores - median))))
    return Batchwide(median, spread, max(FLOOR, median + Z * spread))


def robust(scores: np.ndarray) -> Batchwide:
    """The same statistics for one channel (for the 'why listed' lines)."""
    return batchwide(scores)
