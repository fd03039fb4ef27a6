"""The sandbox runs student code in a limited child process and only exports data."""
import dataclasses
import json
import os
import sys
from pathlib import Path

import pytest

from autograder import fixtures
from autograder.pipeline import Plan
from autograder.sandbox import cells, isolation, runner


def run_notebook(path, spec, **kwargs):
    """The sandbox with the calls grading makes for ``spec``."""
    return runner.run_notebook(path, spec, Plan(spec).calls, **kwargs)


def _spec(cnn_spec, **sandbox):
    return dataclasses.replace(cnn_spec, sandbox=dataclasses.replace(cnn_spec.sandbox, **sandbox))


def test_reference_exports_a_config(make_submission, cnn_spec):
    export = run_notebook(make_submission(fixtures.reference_code("cnn", "build_cnn")), cnn_spec)
    assert export.ok, export.error
    entry = export.calls["build_cnn"]
    assert entry["ok"] and entry["config"]["class_name"] == "Functional"
    assert entry["compile_config"]["loss"]["class_name"] == "SparseCategoricalCrossentropy"
    skipped_try_it = [c for c in export.cells if "model.fit" in c.get("output", "")]
    assert not skipped_try_it  # the skip-grading cell was not run


def test_a_raising_builder_is_reported_with_the_students_traceback(make_submission, cnn_spec):
    export = run_notebook(make_submission(fixtures.code("cnn", "raises")), cnn_spec)
    error = export.calls["build_cnn"]["error"]
    assert "raised an error" in error and "kernel_size" in error
    assert "autograder" not in error  # no grader frames in what the student sees


def test_missing_function_and_wrong_return(make_submission, cnn_spec):
    export = run_notebook(make_submission("def build_cnn(a, b):\n    return 42\n"
                                                 "x = 1 / 0\n"), cnn_spec)
    assert "must return a keras.Model, but it returned int" in export.calls["build_cnn"]["error"]
    assert any("ZeroDivisionError" in (c.get("error") or "") for c in export.cells)
    export = run_notebook(make_submission("def build_cn(a, b):\n    pass\n"), cnn_spec)
    assert "build_cnn is not defined" in export.calls["build_cnn"]["error"]


def test_infinite_loop_hits_the_wall_clock_limit(make_submission, cnn_spec):
    export = run_notebook(make_submission(fixtures.code("cnn", "infinite_loop")),
                                 _spec(cnn_spec, wall_seconds=15))
    assert not export.ok
    assert "did not finish within 15 s" in export.error
    assert export.seconds < 40


def test_memory_bomb_is_stopped(make_submission, cnn_spec):
    code = fixtures.code("cnn", "dense_only") + "\nimport numpy as np\nhog = np.ones((40_000, 100_000))\n"
    export = run_notebook(make_submission(code), _spec(cnn_spec, memory_mb=4096))
    assert export.ok  # the cell failed, grading went on
    assert any("MemoryError" in (c.get("error") or "") for c in export.cells)
    assert export.calls["build_cnn"]["ok"]


def test_exiting_the_process_is_explained(make_submission, cnn_spec):
    export = run_notebook(make_submission("import os\nos._exit(3)\n"), cnn_spec)
    assert not export.ok and "exit code 3" in export.error
    export = run_notebook(make_submission(fixtures.code("cnn", "dense_only")
                                                 + "\nimport sys\nsys.exit(1)\n"), cnn_spec)
    assert export.ok and export.calls["build_cnn"]["ok"]  # SystemExit is just a cell error


@pytest.mark.skipif(isolation.level() != "namespaces", reason="needs unshare namespaces")
def test_tampering_fails_inside_the_namespaces(make_submission, cnn_spec, tmp_path, monkeypatch):
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    (course_dir / "gradebook.db").write_text("real grades")
    monkeypatch.setenv("COURSE_DIR_UNDER_TEST", str(course_dir))
    monkeypatch.setattr(runner, "_env", lambda work, tmp, real=runner._env: {
        **real(work, tmp), "COURSE_DIR_UNDER_TEST": str(course_dir)})
    export = run_notebook(make_submission(fixtures.code("cnn", "tampering")), cnn_spec,
                                 course_dir=course_dir)
    out = "".join(c.get("output", "") for c in export.cells)
    assert "WROTE" not in out and "NETWORK OPEN" not in out
    assert out.count("blocked write") == 2 and "blocked network" in out
    assert not (course_dir / "forged.txt").exists()
    assert not os.path.exists(os.path.join(sys.prefix, "forged.txt"))
    assert (course_dir / "gradebook.db").read_text() == "real grades"
    assert export.calls["build_cnn"]["ok"]  # and it still gets graded


def test_hidden_paths_cover_solutions_specs_and_course(tmp_path):
    hidden = runner.hidden_paths(tmp_path)
    assert str(tmp_path.resolve()) in hidden
    assert any(p.endswith("solutions") for p in hidden)
    assert any(p.endswith("specs") for p in hidden)


def test_broken_notebook_gets_a_clear_message(tmp_path, cnn_spec):
    bad = tmp_path / "cnn.ipynb"
    bad.write_text("{not json")
    export = run_notebook(bad, cnn_spec)
    assert not export.ok and "not a valid notebook" in export.error


def test_test_cells_skip_tags_and_magics_are_not_run(source_nb_json):
    nb = json.loads(json.dumps(source_nb_json))
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                        "source": "%matplotlib inline\n!pip install x\nprint(1)"})
    run = cells.code_cells(nb)
    ids = [c.grade_id for c in run]
    assert "test_cnn_accuracy" not in ids and "build_cnn" in ids
    assert all("training.fit" not in c.source for c in run)  # the skip-grading cell
    assert run[-1].skipped == ("%matplotlib inline", "!pip install x")
    assert run[-1].source.splitlines()[-1] == "print(1)"


PLANT = '''import builtins, os, sys
import keras, numpy
import course
keras.PLANTED = numpy.PLANTED = course.PLANTED = builtins.PLANTED = "alice"
sys.modules["planted"] = sys
os.environ["PLANTED"] = "alice"
keras.config.set_floatx("float16")
for path in ("/tmp/planted", "planted"):
    with open(path, "w") as fh:
        fh.write("alice")
'''
LOOK = '''import builtins, json, os, sys
import keras, numpy
import course
print(json.dumps({"attrs": [hasattr(m, "PLANTED") for m in (keras, numpy, course, builtins)],
                  "module": "planted" in sys.modules, "env": "PLANTED" in os.environ,
                  "floatx": keras.config.floatx(),
                  "files": [os.path.exists(p) for p in ("/tmp/planted", "planted")]}))
'''


def test_submissions_forked_back_to_back_share_nothing(make_submission, cnn_spec, monkeypatch):
    """Each submission is a fresh fork of a template that never ran student code: what one
    plants in modules, the environment or files is not there for the next. (Without the
    namespace jail, /tmp is the machine's own: only the jail gives each sandbox its own.)"""
    monkeypatch.setitem(runner._START, "how", "fork")
    jailed = isolation.level() == "namespaces"
    try:
        first = run_notebook(make_submission(PLANT, name="alice"), cnn_spec)
        second = run_notebook(make_submission(LOOK, name="bob"), cnn_spec)
    finally:
        if not jailed:
            Path("/tmp/planted").unlink(missing_ok=True)
    assert first.started == second.started == "fork"
    assert not any("Error" in (c.get("error") or "") for c in first.cells), first.cells
    seen = json.loads(next(c["output"] for c in second.cells if c["output"].startswith("{")))
    in_tmp, in_workdir = seen.pop("files")
    assert seen == {"attrs": [False] * 4, "module": False, "env": False, "floatx": "float32"}
    assert not in_workdir  # each sandbox works in a folder of its own
    assert not (jailed and in_tmp)  # and, in the jail, has a /tmp of its own


def test_forked_and_fresh_sandboxes_export_the_same_bytes(make_submission, cnn_spec,
                                                          monkeypatch):
    path = make_submission(fixtures.reference_code("cnn", "build_cnn"))
    exports = {}
    for how in ("exec", "fork"):
        monkeypatch.setitem(runner._START, "how", how)
        export = run_notebook(path, cnn_spec)
        assert export.ok and export.started == how, export.error
        exports[how] = json.dumps(export.calls, sort_keys=True)
    assert exports["fork"] == exports["exec"]


def test_a_template_started_by_a_finished_thread_still_serves(make_submission, cnn_spec,
                                                             monkeypatch):
    """Batches start sandboxes from worker threads that end with the batch; the template (and
    the next batch's forks) must not end with them."""
    from concurrent.futures import ThreadPoolExecutor

    from autograder.sandbox import forkserver

    monkeypatch.setitem(runner._START, "how", "fork")
    forkserver.close_all()
    path = make_submission("x = 1\n")
    for _ in range(2):
        with ThreadPoolExecutor(2) as batch:
            exports = list(batch.map(lambda _: run_notebook(path, cnn_spec), range(2)))
        assert all(e.ok and e.started == "fork" for e in exports), [e.error for e in exports]


@pytest.mark.skipif(isolation.level() != "namespaces", reason="needs the namespace jail")
def test_a_fork_whose_jail_fails_is_run_again_fresh_and_forking_stops(make_submission, cnn_spec,
                                                                      monkeypatch, capsys):
    """Where only the forked path cannot build the jail (a machine we have not met), the
    submission is graded the exec way, and so is every later one."""
    from autograder.sandbox import forkserver

    monkeypatch.setitem(runner._START, "how", "fork")
    monkeypatch.setattr(forkserver, "_REFUSED", {})
    real = forkserver.start

    def broken_jail(env, threads, message, fds, timeout, **kwargs):
        plan = message["plan"] and {**message["plan"], "binds": ["/nonexistent-for-the-fork"]}
        return real(env, threads, {**message, "plan": plan}, fds, timeout, **kwargs)

    monkeypatch.setattr(forkserver, "start", broken_jail)
    path = make_submission(fixtures.reference_code("cnn", "build_cnn"))
    first, second = run_notebook(path, cnn_spec), run_notebook(path, cnn_spec)
    assert first.ok and first.started == "exec", (first.error, first.log)
    assert second.ok and second.started == "exec"
    assert "every sandbox starts a fresh Python" in capsys.readouterr().err
