import copy
import json

import pytest

from autograder import spec


def test_cnn_spec_is_complete(cnn_spec):
    assert cnn_spec.assignment == "cnn"
    assert cnn_spec.max_score == 15
    assert [c.kind for c in cnn_spec.checks] == ["metric", "metric", "builds", "output_shape",
                                                 "compiled", "metric"]
    assert [cnn_spec.tasks[c.task].kind for c in cnn_spec.checks[:2]] == ["values", "values"]
    metric = cnn_spec.check("test_cnn_accuracy")
    assert metric.floor < metric.threshold and not metric.lower_is_better
    task = cnn_spec.tasks["cnn"]
    assert (task.kind, task.function) == ("classifier", "build_cnn")
    assert task.budget["epochs"] >= 40 and task.budget["patience"] >= 10  # a cap, early stopping
    assert task.caps.max_params == 500_000
    # the same JSON travels to trainer processes, where the same from_dict validates it
    assert spec.from_dict(cnn_spec.raw) == cnn_spec.__class__(**{
        **cnn_spec.__dict__, "source": "<dict>"})


@pytest.mark.parametrize("assignment", spec.available())
def test_every_spec_loads_and_points_add_up(assignment):
    loaded = spec.load(assignment)
    assert loaded.max_score >= 10
    for check in loaded.checks:
        assert check.task in loaded.tasks
        assert check.points > 0


def _raw():
    return json.loads(spec.SPEC_DIR.joinpath("cnn.json").read_text())


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["checks"][-1].update(floor=0.9, threshold=0.9),
     "floor and a threshold that differ"),
    (lambda r: r["checks"][0].update(kind="vibes"), "kind 'vibes' is unknown"),
    (lambda r: r["checks"][0].update(task="rnn"), "task 'rnn' is not in 'tasks'"),
    (lambda r: r["checks"][0].update(function="build_rnn"), "not used by task"),
    (lambda r: r["checks"][1].update(grade_id="test_cnn_builds"), "unique"),
    (lambda r: r["tasks"]["cnn"].update(kind="magic"), "kind 'magic' is unknown"),
    (lambda r: r["tasks"]["cnn"].pop("data"), "needs 'data'"),
    (lambda r: r["tasks"]["cnn"].update(function="build_rnn"), "not in 'functions'"),
    (lambda r: r.pop("tasks"), "missing 'tasks'"),
    # budgets are checked per kind when the spec loads (issue 19): file, task and field named
    (lambda r: r["tasks"]["cnn"]["budget"].update(epoch=5),
     r"test.json: tasks.cnn.budget: unknown key 'epoch' for a classifier task"),
    (lambda r: r["tasks"]["cnn"]["budget"].pop("epochs"),
     r"test.json: tasks.cnn.budget: missing 'epochs', which a classifier task needs"),
    (lambda r: r["tasks"]["cnn"]["budget"].update(batch_size="64"),
     r"test.json: tasks.cnn.budget.batch_size: expected a positive integer, got '64'"),
    (lambda r: r["tasks"]["cnn"]["budget"].update(patience=0),
     r"tasks.cnn.budget.patience: expected a positive integer, got 0"),
    # data and other task keys too
    (lambda r: r["tasks"]["cnn"]["data"].update(name="translated_digit"),
     r"tasks.cnn.data.name: unknown 'translated_digit'; expected one of"),
    (lambda r: r["tasks"]["cnn"]["data"]["kwargs"].update(canvass=24),
     r"tasks.cnn.data.kwargs: the loader 'motifs' refuses them"),
    (lambda r: r["tasks"]["cnn"].update(epochs=5),
     r"tasks.cnn: unknown key 'epochs' for a classifier task"),
])
def test_malformed_specs_say_what_is_wrong(mutate, message):
    raw = copy.deepcopy(_raw())
    mutate(raw)
    with pytest.raises(spec.SpecError, match=message):
        spec.from_dict(raw, "test.json")


def test_gan_and_values_budgets_are_checked_when_the_spec_loads():
    gan = json.loads(spec.SPEC_DIR.joinpath("gan.json").read_text())
    gan["tasks"]["gan"]["budget"].pop("steps")
    with pytest.raises(spec.SpecError, match=r"gan.json: tasks.gan.budget: missing 'steps', "
                                             r"which a gan task needs"):
        spec.from_dict(gan, "gan.json")
    gan["tasks"]["gan"]["budget"].update(steps=10, epochs=3)
    with pytest.raises(spec.SpecError, match="unknown key 'epochs' for a gan task"):
        spec.from_dict(gan, "gan.json")
    gan["tasks"]["gan"]["budget"].pop("epochs")
    gan["tasks"]["gan"].pop("latent_dim")
    with pytest.raises(spec.SpecError, match="tasks.gan: missing 'latent_dim', which a gan task "
                                             "needs"):
        spec.from_dict(gan, "gan.json")
    perceptron = json.loads(spec.SPEC_DIR.joinpath("perceptron.json").read_text())
    perceptron["tasks"]["fit"]["challenge"]["name"] = "perceptrons"
    with pytest.raises(spec.SpecError, match="tasks.fit.challenge.name: unknown 'perceptrons'"):
        spec.from_dict(perceptron, "perceptron.json")
    perceptron["tasks"]["fit"]["challenge"]["name"] = "perceptron"
    perceptron["tasks"]["fit"]["budget"] = {"epochs": 5}
    with pytest.raises(spec.SpecError, match="tasks.fit.budget: unknown key 'epochs' for a "
                                             "values task"):
        spec.from_dict(perceptron, "perceptron.json")


def test_model_checks_need_a_model():
    raw = {"assignment": "x", "functions": {"f": {}},
           "tasks": {"t": {"kind": "values", "function": "f", "challenge": {"name": "perceptron"}}},
           "checks": [{"grade_id": "g", "task": "t", "kind": "builds", "points": 1}]}
    with pytest.raises(spec.SpecError, match="needs a model"):
        spec.from_dict(raw)


def test_unknown_assignment_names_the_known_ones():
    with pytest.raises(spec.SpecError, match="known assignments: .*cnn"):
        spec.load("quantum")


def test_every_assignment_has_a_calibration_net_in_ci():
    """A new spec without its tests/test_calibration_<id>.py would go untested in CI."""
    from pathlib import Path

    from calibration_net import WRONG_KIND

    tests = Path(__file__).parent
    ids = set(spec.available())
    assert set(WRONG_KIND) == ids
    for assignment in ids:
        net = tests / f"test_calibration_{assignment}.py"
        assert f'ASSIGNMENT = "{assignment}"' in net.read_text(), net
