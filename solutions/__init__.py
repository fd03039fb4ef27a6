"""Instructor-only reference implementations, one module per assignment.

The single source of truth for solution code: assignment notebooks, tests, calibration and tuning
all take it from here. Never import this package from ``course`` (students install that).
"""
