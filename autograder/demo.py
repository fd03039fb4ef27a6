"""``course demo``: release -> submissions -> grade -> feedback -> CSV -> similarity report, in a
fresh workspace, for every assignment (or the ones named).

The submissions are the reference solution and common mistakes kept in
``autograder/fixtures/<assignment>/``, written into copies of the released notebook exactly as a
student would hand them in.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from . import fixtures, grading, similarity
from .trusted.pool import WorkerPool
from .gradebook.workspace import Workspace

NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
DEMO_FIXTURES = {  # per assignment, in demo order; "reference" = the solutions/ code
    "perceptron": ["reference", "fit_no_bias", "mlp_linear_hidden", "perceptron_softmax",
                   "backward_no_tanh_slope"],
    "cnn": ["reference", "dense_only", "gru_rows", "raises", "not_compiled", "lambda_layer",
            "conv_flipped"],
    "rnn": ["reference", "dense_flat", "return_sequences", "lstm_gate_order"],
    "transformer": ["reference", "no_scaling", "bag_of_tokens", "no_positions"],
    "gan": ["reference", "frozen_generator", "zero_init", "loss_naive_log"],
}  # the last of perceptron, cnn, rnn and gan gets a from-scratch function wrong, nothing else
ORDER = list(DEMO_FIXTURES)


def students(assignment: str) -> dict[str, str]:
    """{student id: fixture} of the demo for ``assignment``."""
    return dict(zip(NAMES, DEMO_FIXTURES[assignment]))


def make_submissions(ws: Workspace, assignment: str, chosen: dict[str, str]) -> list[Path]:
    release = json.loads(ws.release_nb(assignment).read_text())
    paths = []
    for student, nb in fixtures.submissions(assignment, chosen, release).items():
        path = ws.submitted(assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(nb, indent=1))
        paths.append(path)
    return paths


def run(course_dir: Path, assignments: list[str] | None = None, *, progress: bool = True,
        out=print) -> dict:
    """Run the whole demo (every assignment unless ``assignments`` names some); returns the
    reports per assignment, the CSV and the feedback pages."""
    start = time.perf_counter()
    assignments = assignments or ORDER
    course_dir = Path(course_dir)
    if course_dir.exists():
        shutil.rmtree(course_dir)
    ws = Workspace(course_dir)
    reports, pages, similar = {}, [], {}
    with WorkerPool() as pool:  # warm trainers shared by every assignment
        for n, assignment in enumerate(assignments, 1):
            t0 = time.perf_counter()
            chosen = students(assignment)
            out(f"\n== {assignment} ({n}/{len(assignments)}) ==")
            out(f"[1/4] release -> {ws.release(assignment)}")
            make_submissions(ws, assignment, chosen)
            out(f"[2/4] {len(chosen)} submissions: "
                + ", ".join(f"{s} ({f})" for s, f in chosen.items()))
            out("[3/4] grade (sandbox -> trusted tasks -> checks -> gradebook, per submission)")
            report = grading.grade(ws, assignment, progress=progress, pool=pool)
            pages += ws.feedback(assignment)
            out(f"[4/4] feedback for {len(chosen)} students\n")
            out(report.table())
            out(report.timing_line() + f"; {assignment} total {time.perf_counter() - t0:.1f}s")
            reports[assignment] = report
            page, _, compared = similarity.run(ws.root, assignment)
            similar[assignment] = page
            flagged = sum(p.flagged for p in compared.pairs())
            out(f"similarity report ({flagged} pair(s) flagged as unusual for this batch): "
                f"{page}")
    csv_path = ws.export_csv()
    first = next(iter(next(iter(reports.values())).graded.values()))
    out(f"\ntrained on: {first.device or 'unknown'}; sandbox isolation: "
        f"{first.export.isolation}")
    out(f"total {time.perf_counter() - start:.1f}s")
    out(f"grades CSV: {csv_path}")
    out(f"feedback pages: {ws.root / 'feedback'}/<student>/<assignment>/<assignment>.html "
        f"({len(pages)} pages)")
    return {"reports": reports, "csv": csv_path, "feedback": pages, "workspace": ws,
            "similarity": similar}
