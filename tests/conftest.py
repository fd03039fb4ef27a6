"""Shared fixtures. Tests marked ``slow`` train real models (they run in CI too)."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def has_gpu() -> bool:
    from autograder.trusted.pool import visible_gpus

    return visible_gpus() > 0


# Under `make test` a test file is one process's unit of work, handed out in collection order
# (pytest-xdist --dist loadfile --no-loadscope-reorder). The heaviest files go first so the run
# does not end on one process training alone (seconds per file on 3 processes, 2026-12-05:
# 558, 555, about 500 since the demo trains on JAX, 521, 349, 293, 261, 240, 213, 179), then
# every other file with slow tests, then the rest.
HEAVIEST_FIRST = ["test_lectures.py", "test_calibration_rnn.py", "test_roundtrip.py",
                  "test_styles.py", "test_corpus.py", "test_packaging.py",
                  "test_calibration_cnn.py", "test_calibration_transformer.py",
                  "test_trainer.py", "test_durability.py"]

def _weight(item, slow_files: set) -> tuple:
    name = item.path.name
    if name in HEAVIEST_FIRST:
        return (0, HEAVIEST_FIRST.index(name))
    return (1 if name in slow_files else 2, 0)


def pytest_collection_modifyitems(config, items):
    slow_files = {item.path.name for item in items if "slow" in item.keywords}
    items.sort(key=lambda item: _weight(item, slow_files))  # stable: a file stays in order
    if has_gpu():
        return
    skip = pytest.mark.skip(reason="needs a visible GPU (none here)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def cnn_spec():
    from autograder import spec

    return spec.load("cnn")


@pytest.fixture(scope="session")
def source_nb_json(tmp_path_factory):
    """The cnn source notebook as JSON (stands in for a release: the sandbox skips test cells)."""
    from autograder import fixtures

    return fixtures.source_notebook("cnn")


@pytest.fixture
def make_submission(tmp_path, source_nb_json):
    """Write a submitted notebook whose build_cnn cell holds ``code``; returns its path."""
    import json

    from autograder import fixtures

    def make(code: str, name: str = "student") -> "os.PathLike":
        nb = fixtures.submission_notebook(source_nb_json, {"build_cnn": code})
        path = tmp_path / f"{name}.ipynb"
        path.write_text(json.dumps(nb))
        return path

    return make


def run_submission_cells(assignment: str, fixture: str | None = None) -> dict:
    """The namespace the sandbox holds after running the cells of a submission whose solution
    cells hold ``fixture`` (None: the reference), setup cell included. For tests that need the
    exported functions in this process (the sandbox itself is tested in test_sandbox.py)."""
    from autograder import fixtures
    from autograder.sandbox.cells import code_cells

    source = fixtures.source_notebook(assignment)
    text = None if fixture is None else fixtures.code(assignment, fixture)
    nb = fixtures.submission_notebook(source, fixtures.cells_with(source, text))
    namespace = {"__name__": "__main__"}
    for cell in code_cells(nb):
        exec(compile(cell.source, f"<{assignment} cell {cell.index}>", "exec"),  # noqa: S102
             namespace)
    return namespace
