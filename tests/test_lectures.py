"""Lecture notebooks: generated from text without outputs, and each runs top to bottom."""
import os
import time

import nbformat
import pytest
from nbclient import NotebookClient

from course import lectures

STEMS = [stem for stem, _, _ in lectures.LECTURES]


def test_lecture_sources_convert_without_outputs(tmp_path):
    assert len(lectures.LECTURES) == 7
    for stem in STEMS:
        assert lectures.source_path(stem).is_file(), stem
        nb = lectures.to_notebook(stem)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, f"{stem} has no code cells"
        assert all(c.outputs == [] and c.execution_count is None for c in code), stem
        assert not any(c.source.lstrip().startswith("# %%") for c in nb.cells), stem
        assert "## Self-check questions" in nb.cells[-1].source, stem
    paths = lectures.write_notebooks(tmp_path / "out")
    assert [p.name for p in paths] == [f"{stem}.ipynb" for stem in STEMS]
    assert all(nbformat.read(p, as_version=4).cells for p in paths)


def test_unknown_lecture_is_refused():
    with pytest.raises(ValueError, match="expected one of 01_perceptron"):
        lectures.source_path("99_nothing")


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_lecture_runs(stem, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "tensorflow"))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    path = lectures.write_notebooks(tmp_path)[STEMS.index(stem)]
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    seconds = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n{stem}: executed in {seconds:.1f} s ({os.environ['KERAS_BACKEND']})")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{stem} drew no figure"
