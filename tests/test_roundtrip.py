"""The whole instructor path on real training: demo, regrade, nbgrader's own autograde."""
import json
import os
import subprocess
import sys

import pytest

from autograder import demo, workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    lines = []
    result = demo.run(tmp_path_factory.mktemp("demo") / "course", progress=False,
                      out=lines.append)
    result["printed"] = "\n".join(lines)
    return result


def test_reference_full_marks_and_each_mistake_below_with_a_reason(demo_run):
    graded = demo_run["report"].graded
    assert graded["alice"].score == 10
    for student in ["bob", "carol", "dave", "erin", "frank"]:
        assert graded[student].score < 10, student
        assert graded[student].reason != "all checks passed"
    assert graded["bob"].score == 3 and "accuracy" in graded["bob"].reason  # dense only
    assert graded["carol"].score == 3  # one-unit bottleneck
    assert graded["dave"].score == 0 and "kernel_size" in graded["dave"].reason
    assert graded["erin"].score == 2 and "not compiled" in graded["erin"].reason
    assert graded["frank"].score == 0 and "Lambda" in graded["frank"].reason
    assert "grades CSV:" in demo_run["printed"] and "feedback pages:" in demo_run["printed"]


def test_gradebook_csv_and_feedback(demo_run):
    rows = {r["student_id"]: r for r in workspace.read_csv(demo_run["csv"])}
    graded = demo_run["report"].graded
    assert set(rows) == set(graded)
    for student, g in graded.items():
        assert float(rows[student]["score"]) == pytest.approx(g.score)
        assert float(rows[student]["max_score"]) == 10
    page = demo_run["workspace"].feedback_html("cnn", "alice").read_text()
    assert page.count("data:image/png") >= 2  # learning curves and confusion matrix
    assert "test accuracy" in page
    dave = demo_run["workspace"].feedback_html("cnn", "dave").read_text()
    assert "kernel_size" in dave  # the student sees why


def test_regrading_gives_identical_scores(demo_run):
    from autograder import grading

    ws = demo_run["workspace"]
    first = demo_run["report"].graded
    again = grading.grade(ws, "cnn", students=["alice", "bob"], progress=False).graded
    for student in again:
        assert again[student].score == first[student].score
        assert again[student].trained == {} or (
            again[student].trained["build_cnn"]["metrics"]
            == first[student].trained["build_cnn"]["metrics"])
        assert again[student].trained["build_cnn"]["history"] == \
            first[student].trained["build_cnn"]["history"]


def test_plain_nbgrader_autograde_still_grades(demo_run):
    """Instructors who run `nbgrader autograde` directly get the same scores."""
    ws = demo_run["workspace"]
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    for student in ["alice", "bob"]:
        done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"),
                               "autograde", "cnn", "--student", student, "--force"],
                              cwd=ws.root, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
    csv_path = ws.export_csv(ws.root / "direct.csv")
    rows = {r["student_id"]: float(r["score"]) for r in workspace.read_csv(csv_path)}
    assert rows["alice"] == 10
    assert rows["bob"] == demo_run["report"].graded["bob"].score


def test_results_are_saved_as_json(demo_run):
    saved = json.loads((demo_run["workspace"].results_dir / "cnn" / "alice.json").read_text())
    assert saved["score"] == 10 and saved["isolation"] in ("namespaces", "rlimits")
    assert saved["timings"]["sandbox"] > 0 and saved["timings"]["train.fit"] > 0
