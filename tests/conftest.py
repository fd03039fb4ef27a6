"""Shared fixtures. Tests marked ``slow`` train real models (they run in CI too)."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def has_gpu() -> bool:
    from autograder.trusted.pool import visible_gpus

    return visible_gpus() > 0


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    _work_units(items)
    if has_gpu():
        return
    skip = pytest.mark.skip(reason="needs a visible GPU (none here)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def _work_units(items) -> None:
    """What one pytest-xdist process runs together under ``--dist loadgroup`` (the Makefile's):
    a test file, so its module-scoped trained results are built once, unless its tests name
    smaller ``xdist_group``s (test_calibration: one per assignment, so the five train side by
    side). Files with slow tests go first, so the longest work starts first and the run does
    not end on one process training alone."""
    for item in items:
        if not any(item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    slow = {item.nodeid.split("::")[0] for item in items if "slow" in item.keywords}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow)  # stable


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
