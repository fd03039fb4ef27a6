"""The graded check when a notebook runs under plain ``nbgrader autograde``.

There, hidden test cells execute inside the student's kernel. ``grade_check`` still keeps the
training out of it: it exports the builder's config (as the sandbox would), trains it in a fresh
trusted worker process, shows the message and plots, and returns the points as the cell's value
(nbgrader's partial credit). ``course grade`` is stronger: it never runs student code where
grades are decided.
"""
from __future__ import annotations

import base64

from . import checks as chk
from . import spec as specs
from . import trainer
from .pool import WorkerPool
from .sandbox.child import export_function
from .sandbox.runner import Export


def grade_check(assignment: str, grade_id: str, builder) -> float:
    """Score one metric check of ``assignment`` for ``builder``; prints why; returns points."""
    spec = specs.load(assignment)
    check = spec.check(grade_id)
    exported = export_function(check.function, spec.functions[check.function],
                               {check.function: builder})
    export = Export(True, functions={check.function: exported})
    inspected, trained = {}, {}
    if exported.get("ok"):
        job = trainer.job(spec.raw, check.function, exported)
        with WorkerPool(size=1) as pool:
            for _, result in pool.run([(check.function, job)], timeout=3600):
                inspected[check.function] = trained[check.function] = result
    results = chk.evaluate(spec, export, inspected, trained)
    result = next(r for r in results if r.grade_id == grade_id)
    print(result.message)
    _show(result.figures)
    return result.points


def _show(figures: dict) -> None:
    try:
        from IPython.display import Image, display
    except ImportError:
        return
    for png in figures.values():
        display(Image(data=png if isinstance(png, bytes) else base64.b64decode(png)))
