"""Correct models written in other styles than the references earn full marks: Sequential or
functional, layers or keras.ops and operators, logits or softmax, LSTM or GRU.

Each file in tests/styles/ is solution-cell code (``<assignment>_<style>.py``); every assignment
with styles is graded in one batch through the whole pipeline (sandbox, trusted training).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder import fixtures, pipeline
from autograder import spec as specs
from autograder.pool import WorkerPool

pytestmark = pytest.mark.slow

STYLES = Path(__file__).with_name("styles")
CASES = sorted(p.stem for p in STYLES.glob("*.py"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("styles")
    out = {}
    with WorkerPool() as pool:
        for assignment in sorted({c.split("_")[0] for c in CASES}):
            source = fixtures.source_notebook(assignment)
            subs = {}
            for case in (c for c in CASES if c.split("_")[0] == assignment):
                nb = fixtures.submission_notebook(
                    source, fixtures.cells_with(source, (STYLES / f"{case}.py").read_text()))
                subs[case] = tmp / f"{case}.ipynb"
                subs[case].write_text(json.dumps(nb))
            run = pipeline.grade(specs.load(assignment), subs, pool=pool, progress=False,
                                 grading_seed=11)
            out.update(run.graded)
    return out


@pytest.mark.parametrize("case", CASES)
def test_another_style_earns_full_marks(graded, case):
    g = graded[case]
    assert g.score == g.max_score, f"{case}: {g.reason}"
