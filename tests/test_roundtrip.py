"""The whole instructor path on real training, for all five assignments: the demo (release,
submissions, grade, feedback, CSV), a regrade, and nbgrader's own autograde.

Its sandboxes and trainers run on JAX, the backend of the GPU machines (which have no
TensorFlow), where these fits take half the time or less; TensorFlow, the default, grades every
assignment's reference elsewhere (test_corpus: perceptron, cnn, rnn; test_packaging: gan and the
transformer), and `course demo` on TensorFlow is the README's own run."""
import json
import os
import subprocess
import sys

import pytest

from autograder import demo, grading
from autograder.gradebook import workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def on_jax():
    """Every process this module starts (sandbox templates, trainers, nbgrader) runs JAX."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_BACKEND", "jax")
        yield


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    lines = []
    result = demo.run(tmp_path_factory.mktemp("demo") / "course", progress=False,
                      out=lines.append)
    result["printed"] = "\n".join(lines)
    return result


@pytest.mark.parametrize("assignment", demo.ORDER)
def test_reference_full_marks_and_each_mistake_below_with_a_reason(demo_run, assignment):
    graded = demo_run["reports"][assignment].graded
    fixtures = demo.students(assignment)
    for student, fixture in fixtures.items():
        g = graded[student]
        if fixture == "reference":
            assert g.score == g.max_score, f"{assignment}: {g.reason}"
        else:
            assert g.score < g.max_score, f"{assignment}/{fixture} got full marks"
            assert g.reason != "all checks passed"


def test_known_mistakes_lose_points_for_the_right_reason(demo_run):
    cnn = demo_run["reports"]["cnn"].graded
    # every model mistake keeps the 5.5 points of the reference convolution and pooling
    # dense only: the 1.5 shape/compile points, and none (or next to none) for accuracy; the
    # grading seed is drawn per course, so the exact accuracy moves from run to run
    assert 7 <= cnn["bob"].score < 8 and "accuracy" in cnn["bob"].reason
    assert cnn["dave"].score == 5.5 and "kernel_size" in cnn["dave"].reason
    assert cnn["erin"].score == 6.5 and "not compiled" in cnn["erin"].reason
    assert cnn["frank"].score == 5.5 and "Lambda" in cnn["frank"].reason
    # the from-scratch functions: a flipped kernel fails every case, and says so (the reason
    # line is the message's start; the feedback page has it whole)
    assert cnn["grace"].score == 11 and "Case 1 of 8" in cnn["grace"].reason
    assert "the kernel is flipped" in cnn["grace"].results["conv"].message
    rnn = demo_run["reports"]["rnn"].graded
    assert rnn["dave"].score == 9.5 and "CS231n's order" in rnn["dave"].results["lstm"].message
    perceptron = demo_run["reports"]["perceptron"].graded["erin"]
    assert perceptron.score == 11 and "tanh's slope" in perceptron.results["backward"].message
    gan = demo_run["reports"]["gan"].graded["dave"]  # naive log(sigmoid): fails at +-1000 only
    assert 13 < gan.score < 15 and "np.logaddexp(0, -z)" in gan.results["d_loss"].message
    assert "5 of 7 cases match" in gan.reason
    transformer = demo_run["reports"]["transformer"].graded
    assert "0 of 4 unmasked cases" in transformer["bob"].reason  # no 1/sqrt(d)
    assert "test_transformer_accuracy" in transformer["dave"].reason  # no positions
    assert "grades CSV:" in demo_run["printed"] and "feedback pages:" in demo_run["printed"]


def test_gradebook_csv_and_feedback(demo_run):
    rows = {(r["assignment"], r["student_id"]): r for r in workspace.read_csv(demo_run["csv"])}
    for assignment, report in demo_run["reports"].items():
        for student, g in report.graded.items():
            row = rows[(assignment, student)]
            assert float(row["score"]) == pytest.approx(g.score)
            assert float(row["max_score"]) == g.max_score
    ws = demo_run["workspace"]
    pictures = {"cnn": ["Confusion matrix", "Learning curves"],
                "gan": ["Samples from your generator"],
                "transformer": ["Attention weights on a challenge input", "Confusion matrix"]}
    for assignment, titles in pictures.items():
        page = ws.feedback_html(assignment, "alice").read_text()
        assert page.count("data:image/png") >= len(titles), assignment
    dave = ws.feedback_html("cnn", "dave").read_text()
    assert "kernel_size" in dave  # the student sees why
    grace = ws.feedback_html("cnn", "grace").read_text()  # which case, and the mistake's name
    assert "Case 1 of 8" in grace and "the kernel is flipped" in grace


def test_regrading_gives_identical_scores(demo_run):
    """The GAN, whose two networks train against each other: the least forgiving of the five
    (and the quickest to train again)."""
    ws = demo_run["workspace"]
    first = demo_run["reports"]["gan"].graded
    again = grading.grade(ws, "gan", students=["alice", "bob"], progress=False,
                          force=True).graded
    for student in again:
        assert again[student].score == first[student].score
        assert again[student].results["gan"].metrics == first[student].results["gan"].metrics
        assert again[student].results["gan"].history == first[student].results["gan"].history


def test_an_unchanged_submission_is_not_graded_again(demo_run):
    report = grading.grade(demo_run["workspace"], "perceptron", progress=False)
    assert sorted(report.reused) == sorted(demo.students("perceptron"))
    assert {s: g.score for s, g in report.graded.items()} == \
        {s: g.score for s, g in demo_run["reports"]["perceptron"].graded.items()}


def test_plain_nbgrader_autograde_still_grades(demo_run):
    """Instructors who run `nbgrader autograde` directly get the same scores."""
    ws = demo_run["workspace"]
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    # alice and bob in one command (one Python, one Keras import): nbgrader's own student filter
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"),
                           "autograde", "gan", "--CourseDirectory.student_id_exclude=carol,dave",
                           "--force"],
                          cwd=ws.root, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "carol" not in done.stderr and "dave" not in done.stderr, done.stderr[-3000:]
    csv_path = ws.export_csv(ws.root / "direct.csv")
    rows = {(r["assignment"], r["student_id"]): float(r["score"])
            for r in workspace.read_csv(csv_path)}
    assert rows[("gan", "alice")] == 15
    assert rows[("gan", "bob")] == demo_run["reports"]["gan"].graded["bob"].score


def test_results_are_saved_as_json(demo_run):
    saved = json.loads((demo_run["workspace"].results_dir / "cnn" / "alice.json").read_text())
    assert saved["score"] == 15 and saved["isolation"].split("+")[0] in ("namespaces", "rlimits")
    assert saved["timings"]["sandbox"] > 0 and saved["timings"]["cnn.fit"] > 0
    assert saved["recorded"] and saved["fingerprint"]
    assert "via jax" in demo_run["printed"]  # trained where the module said
