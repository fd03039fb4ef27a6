import copy
import json

import pytest

from autograder import spec


def test_cnn_spec_is_complete(cnn_spec):
    assert cnn_spec.assignment == "cnn"
    assert cnn_spec.max_score == 10
    assert [c.kind for c in cnn_spec.checks] == ["builds", "output_shape", "compiled", "metric"]
    metric = cnn_spec.check("test_cnn_accuracy")
    assert metric.floor < metric.threshold
    assert cnn_spec.train.function == "build_cnn"
    assert cnn_spec.raw["assignment"] == "cnn"  # travels to trainer processes as JSON


def _raw():
    return json.loads(spec.SPEC_DIR.joinpath("cnn.json").read_text())


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["checks"][3].update(floor=0.9, threshold=0.8), "floor < threshold"),
    (lambda r: r["checks"][0].update(kind="vibes"), "kind 'vibes' is unknown"),
    (lambda r: r["checks"][0].update(function="build_rnn"), "not in 'functions'"),
    (lambda r: r["checks"][1].update(grade_id="test_cnn_builds"), "unique"),
    (lambda r: r.pop("train"), "missing 'train'"),
])
def test_malformed_specs_say_what_is_wrong(mutate, message):
    raw = copy.deepcopy(_raw())
    mutate(raw)
    with pytest.raises(spec.SpecError, match=message):
        spec.from_dict(raw, "test.json")


def test_unknown_assignment_names_the_known_ones():
    with pytest.raises(spec.SpecError, match="known assignments: .*cnn"):
        spec.load("quantum")
