"""The calibration net for `gan`: its tests are tests/calibration_net.py's."""
from calibration_net import (  # noqa: F401 (pytest collects what a test file imports)
    assignment, pool, pytestmark, test_reference_full_marks,
    test_textbook_models_earn_full_marks, test_the_wrong_kind_of_model_misses_on_every_seed)

ASSIGNMENT = "gan"
