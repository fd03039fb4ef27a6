"""Hostile and broken submissions (tests/corpus/cases.py), graded in one batch per assignment
beside the reference: each gets at most its expected points with a reason that says why, lands
in the gradebook CSV with the spec's max score, and harms no one else."""
from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder import fixtures, grading
from autograder import spec as specs
from autograder.sandbox import isolation
from autograder.gradebook.workspace import Workspace, read_csv

from corpus.cases import CASES, Case

pytestmark = pytest.mark.slow
REFERENCE = "reference"
WALL_SECONDS = 45  # the batch's sandbox wall clock: hung cases cost this, not the spec's 120 s
# (the spec's own limits are exercised in test_sandbox.py and test_limits.py)
# Training budget caps here: these cases are about hostility, not accuracy (the reference still
# clears every threshold; the spec's budget is calibrated elsewhere)
MAX_EPOCHS = {"cnn": 30, "rnn": 30, "perceptron": 40}
ASSIGNMENTS = sorted({c.assignment for c in CASES})


def _runs_here(case: Case) -> bool:
    return not case.needs_namespaces or isolation.level() == "namespaces"


@dataclass
class Batch:
    assignment: str
    ws: Workspace
    spec: specs.Spec
    cases: list[Case]
    report: grading.Report
    rows: dict  # student -> CSV row (this assignment)
    seconds: float
    canaries: Canaries
    config_before: bytes  # nbgrader_config.py before grading


@dataclass
class Canaries:
    """Secrets planted outside the course before grading: none may come back to a student."""

    files: dict  # path -> its secret content
    env: dict  # variable -> its secret value

    @property
    def secrets(self) -> list[str]:
        return [*self.files.values(), *self.env.values()]


def _plant_canaries(root: Path) -> Canaries:
    token = uuid.uuid4().hex
    files = {
        Path.home() / f".course-canary-{token}": f"CANARY-HOME-{token}",
        root.parent / "other-course" / "gradebook.db": f"CANARY-SIBLING-COURSE-{token}",
        Path(tempfile.gettempdir()) / f"course-exchange-{token}" / "inbound" / "canary.txt":
            f"CANARY-EXCHANGE-{token}",
    }
    for path, secret in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secret)
    return Canaries({str(p): v for p, v in files.items()},
                    {"COURSE_CANARY_TOKEN": f"CANARY-ENVIRONMENT-{token}"})


def _remove_canaries(canaries: Canaries) -> None:
    for path in canaries.files:
        Path(path).unlink(missing_ok=True)
    shutil.rmtree(Path(next(p for p in canaries.files if "course-exchange-" in p)).parents[1])


def _notebook_bytes(case: Case, release: dict, source: dict, ws: Workspace,
                    canaries: Canaries) -> bytes:
    if case.code is not None:
        code = case.code.replace("COURSE_DIR", repr(str(ws.root)))
        code = code.replace("CANARY_PATHS", repr(list(canaries.files)))
        nb = fixtures.submission_notebook(release, fixtures.cells_with(source, code))
        return json.dumps(nb).encode()
    made = case.notebook(json.loads(json.dumps(release)))
    return made if isinstance(made, bytes) else json.dumps(made).encode()


def _batch(assignment: str, root: Path) -> Batch:
    t0 = time.perf_counter()
    canaries = _plant_canaries(root)
    try:
        return _graded_batch(assignment, root, canaries, t0)
    finally:
        _remove_canaries(canaries)


def _graded_batch(assignment: str, root: Path, canaries: Canaries, t0: float) -> Batch:
    ws = Workspace(root)
    release = json.loads(ws.release(assignment).read_text())
    source = fixtures.source_notebook(assignment)
    chosen = [c for c in CASES if c.assignment == assignment and _runs_here(c)]
    submissions = {REFERENCE: json.dumps(fixtures.submission_notebook(
        release, fixtures.cells_with(source, None))).encode()}
    submissions.update({c.student_id: _notebook_bytes(c, release, source, ws, canaries)
                        for c in chosen})
    for student, content in submissions.items():
        path = ws.submitted(assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    spec = specs.load(assignment)
    raw = json.loads(json.dumps(spec.raw))
    cap = MAX_EPOCHS.get(assignment)
    for task in raw["tasks"].values():
        if cap and "epochs" in task.get("budget", {}):
            task["budget"]["epochs"] = min(task["budget"]["epochs"], cap)
    shorter = specs.from_dict(raw, f"{assignment} with at most {cap} epochs")
    tight = dataclasses.replace(shorter, sandbox=dataclasses.replace(shorter.sandbox,
                                                                     wall_seconds=WALL_SECONDS))
    config = (ws.root / "nbgrader_config.py").read_bytes()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grading.specs, "load", lambda name: tight)
        for name, value in canaries.env.items():
            patch.setenv(name, value)
        report = grading.grade(ws, assignment, progress=False)
        leaker = next((c.student_id for c in chosen if c.id.endswith("-leaks-the-machine")), None)
        if leaker:
            ws.feedback(assignment, leaker)
    rows = {r["student_id"]: r for r in read_csv(ws.export_csv())
            if r["assignment"] == assignment}
    seconds = time.perf_counter() - t0
    print(f"\n{assignment}: {len(submissions)} submissions in {seconds:.0f} s "
          f"({report.timing_line()})\n{report.table()}")
    return Batch(assignment, ws, spec, chosen, report, rows, seconds, canaries, config)


@pytest.fixture(scope="module")
def cnn_batch(tmp_path_factory):
    return _batch("cnn", tmp_path_factory.mktemp("corpus-cnn") / "course")


@pytest.fixture(scope="module")
def perceptron_batch(tmp_path_factory):
    return _batch("perceptron", tmp_path_factory.mktemp("corpus-perceptron") / "course")


@pytest.fixture(scope="module")
def rnn_batch(tmp_path_factory):
    return _batch("rnn", tmp_path_factory.mktemp("corpus-rnn") / "course")


def _batch_of(request, assignment: str) -> Batch:
    return request.getfixturevalue(f"{assignment}_batch")


def test_the_corpus_is_large_and_covers_the_assignments():
    assert len(CASES) >= 30
    assert {"cnn", "perceptron", "rnn"} <= set(ASSIGNMENTS)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_scores_at_most_its_expectation_with_its_reason(case, request):
    if not _runs_here(case):
        pytest.skip("the defence is the namespace sandbox, not available here")
    batch = _batch_of(request, case.assignment)
    graded = batch.report.graded[case.student_id]
    assert graded.score <= case.max_points + 1e-9, (graded.score, graded.reason)
    if case.points is not None:
        assert graded.score == pytest.approx(case.points), graded.reason
    assert case.reason in graded.reason, graded.reason
    assert graded.max_score == batch.spec.max_score


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_is_in_the_gradebook_with_the_specs_max_score(case, request):
    if not _runs_here(case):
        pytest.skip("the defence is the namespace sandbox, not available here")
    batch = _batch_of(request, case.assignment)
    row = batch.rows.get(case.student_id)
    assert row is not None, f"no CSV row for {case.student_id!r}"
    recorded = 0.0 if case.unreadable else batch.report.graded[case.student_id].score
    assert float(row["score"]) == pytest.approx(recorded)
    assert float(row["max_score"]) == batch.spec.max_score  # edited points change nothing


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_batch_finished_and_the_reference_kept_full_marks(assignment, request):
    batch = _batch_of(request, assignment)
    report = batch.report
    students = {REFERENCE} | {c.student_id for c in batch.cases}
    assert set(report.graded) == students  # every submission has an outcome
    assert set(batch.rows) == students  # and a gradebook row
    reference = report.graded[REFERENCE]
    assert reference.score == batch.spec.max_score, reference.reason  # no cross-student harm
    assert float(batch.rows[REFERENCE]["score"]) == batch.spec.max_score
    assert set(report.unrecorded) == {c.student_id for c in batch.cases if c.unreadable}
    assert not any("internal grader error" in g.reason for g in report.graded.values())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nothing_was_written_outside_the_sandbox(assignment, request):
    batch = _batch_of(request, assignment)
    import autograder

    assert not (batch.ws.root / "forged.txt").exists()
    assert not (Path(autograder.__file__).parent / "specs" / "forged.json").exists()
    reference = batch.ws.submitted(assignment, REFERENCE).read_bytes()
    assert b"STOLEN" not in reference  # no submission rewrote another one
    assert (batch.ws.root / "nbgrader_config.py").read_bytes() == batch.config_before


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nothing_planted_outside_the_course_reaches_any_result(assignment, request):
    """Results, feedback pages, the gradebook, the CSV and every other file of the course."""
    batch = _batch_of(request, assignment)
    leakers = [c for c in batch.cases if c.id.endswith("-leaks-the-machine")]
    if leakers:  # the attack ran, and its feedback page was made
        assert batch.ws.feedback_html(assignment, leakers[0].student_id).exists()
    secrets = [s.encode() for s in batch.canaries.secrets]
    for path in batch.ws.root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            leaked = [s for s in secrets if s in data]
            assert not leaked, f"{path} holds {leaked}"
