import math

import pytest

from autograder.scoring import linear_credit


@pytest.mark.parametrize("value, expected", [
    (0.50, 0.0), (0.30, 0.0), (0.85, 7.0), (0.99, 7.0), (0.675, 3.5), (float("nan"), 0.0),
])
def test_linear_credit_from_floor_to_threshold(value, expected):
    assert linear_credit(value, floor=0.50, threshold=0.85, points=7) == pytest.approx(expected)


def test_credit_is_rounded_for_the_gradebook():
    points = linear_credit(0.6, floor=0.5, threshold=0.85, points=7)
    assert points == round(points, 2) and math.isclose(points, 2.0)


def test_floor_must_differ_from_threshold():
    with pytest.raises(ValueError, match="floor != threshold"):
        linear_credit(0.7, floor=0.9, threshold=0.9, points=1)
