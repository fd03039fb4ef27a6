"""Points from a metric: zero at the floor, full at the threshold, linear between, clipped.

A floor above the threshold means lower is better (a distance, a memorisation share)."""
from __future__ import annotations

import math


def linear_credit(value: float, *, floor: float, threshold: float, points: float) -> float:
    """Points for ``value`` on the line from (floor, 0) to (threshold, points), clipped.

    Rounded to 2 decimals so that a gradebook shows what a student can recompute.
    """
    if floor == threshold:
        raise ValueError(f"expected floor != threshold, got floor={floor}, threshold={threshold}")
    if value is None or not math.isfinite(value):
        return 0.0
    share = (value - floor) / (threshold - floor)
    return round(points * min(1.0, max(0.0, share)), 2)
