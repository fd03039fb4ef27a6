"""``course preview``: the grading path on the student's own (public) data, no course directory.

The student-install side (no reference solution, nothing written) is in ``test_packaging.py``.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from autograder import cli, content, pipeline, preview
from autograder.trusted import kinds, trainer
from autograder import spec as specs


def test_public_plan_uses_the_specs_own_seeds_and_marks_its_jobs():
    spec = specs.load("perceptron")
    graded = pipeline.Plan(spec, 1234)
    public = pipeline.Plan(spec, 1234, public=True)
    assert public.seeds == {name: task.seed for name, task in spec.tasks.items()}
    assert graded.seeds == {name: kinds.task_seed(t, 1234) for name, t in spec.tasks.items()}
    assert graded.seeds != public.seeds
    assert pipeline.Plan(spec, 1234).seeds == graded.seeds  # the default is unchanged
    export = type("E", (), {"calls": {c["key"]: {"ok": True} for c in public.calls}})()
    assert public.jobs_for("mlp", export)["public"] is True
    assert "public" not in graded.jobs_for("mlp", export)


def test_public_jobs_run_on_the_split_the_notebook_loads(monkeypatch):
    """The trusted side gets the task marked public; its data is the loader's default seed,
    the one every notebook's setup cell loads, while grading draws another split."""
    from course import sequences

    spec = specs.load("transformer")
    task = spec.tasks["transformer"]
    seen = {}
    monkeypatch.setattr(kinds.module("classifier"), "run",
                        lambda task, exports, seed, progress=False: seen.setdefault("task", task)
                        and kinds.TaskResult(task.name, "classifier"))
    trainer.run(trainer.job(spec, "transformer", {}, task.seed, public=True))
    public_task = seen["task"]
    assert public_task.options[kinds.PUBLIC_DATA] is True
    notebook = sequences.load_latest_value(pairs=12, keys=8, values=8, seed=0)
    public = kinds.graded_data(public_task, 987)
    drawn = kinds.graded_data(task, 987)
    for part in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(public, part), getattr(notebook, part))
    assert not np.array_equal(drawn.x_test, notebook.x_test)


def test_the_assignment_comes_from_the_file_name_or_the_test_cells(tmp_path):
    from autograder import fixtures

    nb = fixtures.submissions("cnn", {"me": "reference"})["me"]
    renamed = tmp_path / "my homework.ipynb"
    renamed.write_text(json.dumps(nb))
    assert preview.assignment_of(tmp_path / "rnn.ipynb") == "rnn"
    assert preview.assignment_of(renamed) == "cnn"
    assert preview.assignment_of(renamed, "gan") == "gan"
    (tmp_path / "other.ipynb").write_text(json.dumps({"cells": [], "metadata": {},
                                                      "nbformat": 4, "nbformat_minor": 5}))
    with pytest.raises(specs.SpecError, match="--assignment"):
        preview.assignment_of(tmp_path / "other.ipynb")


def test_only_reference_scored_tasks_are_skipped_without_the_content(monkeypatch):
    assert preview.unavailable(specs.load("transformer")) == {}  # the checkout has the content
    monkeypatch.setattr(content, "has_solutions", lambda: False)
    assert set(preview.unavailable(specs.load("transformer"))) == {"attention"}
    assert set(preview.unavailable(specs.load("gan"))) == {"d_loss", "g_loss"}
    assert set(preview.unavailable(specs.load("perceptron"))) == {"backward"}  # not "fit":
    # perceptron_fit is scored on held-out points, without a reference


def test_preview_of_a_missing_notebook(tmp_path, capsys):
    assert cli.main(["preview", str(tmp_path / "nothing.ipynb")]) == 2
    assert "no notebook at" in capsys.readouterr().err


@pytest.mark.slow
def test_preview_from_the_checkout_scores_every_check(tmp_path, capsys, monkeypatch):
    """With the content at hand (an instructor, or a TA trying a mistake), the attention checks
    are previewed too, with the same hints as grading. Its sandbox and trainer run JAX, where the
    transformer trains in half the time (test_packaging previews it on TensorFlow)."""
    from autograder import fixtures

    monkeypatch.setenv("KERAS_BACKEND", "jax")
    nb = fixtures.submissions("transformer", {"me": "no_scaling"})["me"]
    path = tmp_path / "transformer.ipynb"
    path.write_text(json.dumps(nb))
    assert cli.main(["preview", str(path)]) == 0
    out = capsys.readouterr().out
    assert "the 1/sqrt(d) scaling is missing" in out
    assert "would score 8.00/12" in out
    assert "not previewed" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["transformer.ipynb"]
