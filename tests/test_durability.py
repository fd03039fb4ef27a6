"""kill -9 of the grader in the middle of a batch, then the same command again: the gradebook
ends identical to an uninterrupted run, and what was already graded is not graded again."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from autograder import fixtures
from autograder.gradebook import workspace

pytestmark = pytest.mark.slow

# One submission trains (dense only: it stops early, after 30-60 epochs): it holds the batch
# open long enough to be killed mid-way; the others end before training, so CI pays one fit
STUDENTS = {"ann": "raises", "ben": "lambda_layer", "cat": "not_compiled", "dan": "dense_only",
            "eve": "not_compiled"}


def _course(root):
    ws = workspace.Workspace(root)
    ws.release("cnn")
    (ws.root / "grading_seed").write_text("1234\n")
    release = json.loads(ws.release_nb("cnn").read_text())
    for student, nb in fixtures.submissions("cnn", STUDENTS, release).items():
        path = ws.submitted("cnn", student)
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(nb))
    return ws


def _grade(ws):
    cmd = [sys.executable, "-m", "autograder.cli", "grade", "cnn", "--course-dir", str(ws.root)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _recorded(ws) -> int:
    return sum(bool((ws.load_result("cnn", s) or {}).get("recorded")) for s in STUDENTS)


def _scores(ws) -> dict:
    ws.export_csv()
    return {r["student_id"]: (r["score"], r["max_score"])
            for r in workspace.read_csv(ws.root / "grades.csv")}


def test_kill_9_mid_batch_then_rerun_equals_an_uninterrupted_run(tmp_path):
    whole = _course(tmp_path / "whole")
    done = _grade(whole)
    out, _ = done.communicate(timeout=900)
    assert done.returncode == 0, out[-3000:]

    killed = _course(tmp_path / "killed")
    proc = _grade(killed)
    deadline = time.monotonic() + 600
    while _recorded(killed) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "the batch finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 2 <= _recorded(killed) < len(STUDENTS)
    saved = sum(killed.load_result("cnn", s) is not None for s in STUDENTS)  # some not recorded yet

    again = _grade(killed)
    out, _ = again.communicate(timeout=900)
    assert again.returncode == 0, out[-3000:]
    assert f"{saved} unchanged submission(s) not graded again" in out
    assert _scores(killed) == _scores(whole)
    for student in STUDENTS:
        a, b = whole.load_result("cnn", student), killed.load_result("cnn", student)
        assert [c["points"] for c in a["checks"]] == [c["points"] for c in b["checks"]]

    again = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", "cnn",
                            "--course-dir", str(killed.root), "--force", "--student", "ann"],
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "unchanged" not in again.stdout  # --force grades again
