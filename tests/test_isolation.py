"""The jail (autograder/sandbox/jail.py) as a student meets it, and what a machine that cannot
build it does: warn per batch, say so in the feedback, refuse with --require-isolation.

The jail tests run a few lines of plain Python inside it (no Keras: well under a second each);
the hostile notebooks graded through it are in tests/corpus/cases.py."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from autograder import cli, fixtures, grading
from autograder.pipeline import Plan
from autograder.sandbox import isolation, runner

jail = pytest.mark.skipif(isolation.level() != "namespaces", reason="needs the namespace jail")


def in_jail(code: str, tmp_path: Path, *, hide: list[str] | None = None, work_mb: int = 16,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` with the child's interpreter inside a fresh jail."""
    scratch = tmp_path / f"scratch-{uuid.uuid4().hex[:6]}"
    (scratch / "root").mkdir(parents=True)
    argv = [sys.executable, "-c", code]
    cmd = isolation.command(argv, env or runner._env(isolation.WORK, "/tmp"),
                            hide=runner.hidden_paths(None) if hide is None else hide,
                            scratch=str(scratch), work_mb=work_mb, tmp_mb=work_mb)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd="/")


def report_exec(code: str, tmp_path: Path, **kwargs) -> dict:
    done = in_jail("import json, os\n" + code, tmp_path, **kwargs)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(params=["exec", "fork"])
def jailed(request, make_submission, cnn_spec, monkeypatch):
    """``jailed(code, tmp_path, work_mb=...)``: the JSON ``code`` printed last, run in a jail
    started either way: a fresh Python (``exec``) or a fork of the warm template (``fork``,
    through the whole sandbox, as a notebook cell)."""
    if request.param == "exec":
        return report_exec

    def forked(code: str, tmp_path: Path, *, work_mb: int = 16) -> dict:
        monkeypatch.setitem(runner._START, "how", "fork")
        spec = dataclasses.replace(cnn_spec, sandbox=dataclasses.replace(
            cnn_spec.sandbox, scratch_mb=work_mb))
        export = runner.run_notebook(make_submission("import json, os\n" + code), spec,
                                     Plan(spec).calls)
        assert export.ok and export.started == "fork", (export.error, export.log)
        printed = [c["output"] for c in export.cells if c.get("output", "").startswith("{")]
        assert printed, export.cells
        return json.loads(printed[-1].strip().splitlines()[-1])

    return forked


@jail
def test_student_code_is_uid_65534_without_any_capability(jailed, tmp_path):
    seen = jailed('''status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
print(json.dumps({"ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid()],
                  "groups": os.getgroups(), "caps": {k: status[k].strip() for k in status
                                                      if k.startswith("Cap")},
                  "no_new_privs": status["NoNewPrivs"].strip(), "cwd": os.getcwd(),
                  "home": os.environ["HOME"], "map": open("/proc/self/uid_map").read().split(),
                  "host": open("/etc/hostname").read().strip()}))''', tmp_path)
    assert seen["ids"] == [65534] * 4 and seen["groups"] == []
    assert set(seen["caps"].values()) == {"0000000000000000"}, seen["caps"]
    assert seen["no_new_privs"] == "1"
    assert seen["cwd"] == seen["home"] == isolation.WORK
    outer = "65534" if os.geteuid() == 0 else "0"  # a root grader switches to host uid 65534
    assert seen["map"] == ["65534", outer, "1"]  # only the student is mapped, never root
    assert seen["host"] == "sandbox"


@jail
def test_the_file_system_holds_only_what_is_listed(jailed, tmp_path):
    secret = Path(tmp_path / "host-secret.txt")
    secret.write_text("host secret")
    seen = jailed(f'''import sys
def ls(p):
    try:
        return sorted(os.listdir(p))
    except OSError as err:
        return type(err).__name__
print(json.dumps({{"root": ls("/"), "etc": ls("/etc"), "tmp": ls("/tmp"), "dev": ls("/dev"),
                  "proc": [p for p in ls("/proc") if p.isdigit()], "specs": ls({
                      str(Path(runner.content.PACKAGE_DIR, "specs"))!r}),
                  "secret": ls({str(tmp_path)!r}), "sys": ls("/sys"), "home": ls("/home")}}))''',
                  tmp_path)
    assert set(seen["root"]) <= {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
                                 "proc", "dev", "tmp", "sandbox", *Path(sys.prefix).parts[1:2],
                                 *Path(sys.base_prefix).parts[1:2],
                                 *Path(runner.content.PACKAGE_DIR).parts[1:2]}, seen["root"]
    assert "shadow" not in seen["etc"] and "passwd" in seen["etc"]
    assert seen["tmp"] == [] and seen["secret"] == "FileNotFoundError"  # the host's /tmp too
    assert seen["specs"] == []  # the grading specs are covered
    assert seen["sys"] == seen["home"] == "FileNotFoundError"
    assert set(seen["dev"]) >= {"null", "zero", "urandom", "shm"} and "sda" not in seen["dev"]
    assert seen["proc"] == ["1"]  # its own PID namespace: it is the only process


@jail
def test_the_view_is_read_only_and_the_working_directory_is_capped(jailed, tmp_path):
    seen = jailed('''def write(path, mb=1):
    try:
        with open(path, "wb") as fh:
            for _ in range(mb):
                fh.write(b"x" * 1_000_000)
        return "ok"
    except OSError as err:
        return err.strerror
import sys
print(json.dumps({"usr": write("/usr/forged"), "root": write("/forged"),
                  "prefix": write(sys.prefix + "/forged"), "work": write("small.bin"),
                  "tmp": write("/tmp/small.bin"), "full": write("big.bin", 64)}))''',
                  tmp_path, work_mb=8)
    assert seen["usr"] == seen["root"] == seen["prefix"] == "Read-only file system"
    assert seen["work"] == seen["tmp"] == "ok"
    assert seen["full"] == "No space left on device"  # work_mb caps the working directory


@jail
def test_no_network_and_nothing_of_the_graders_environment(jailed, tmp_path):
    os.environ["COURSE_CANARY_UNDER_TEST"] = "leaked"
    try:
        seen = jailed('''import socket
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
    net = "open"
except OSError as err:
    net = type(err).__name__
print(json.dumps({"net": net, "env": sorted(os.environ)}))''', tmp_path)
    finally:
        del os.environ["COURSE_CANARY_UNDER_TEST"]
    assert seen["net"] != "open"
    assert "COURSE_CANARY_UNDER_TEST" not in seen["env"]


@jail
def test_a_jail_that_cannot_be_built_is_the_graders_error_not_the_students(
        tmp_path, make_submission, cnn_spec, monkeypatch):
    monkeypatch.setattr(isolation, "readable_paths", lambda hide: ["/nonexistent-course-path"])
    export = runner.run_notebook(make_submission("x = 1\n"), cnn_spec, Plan(cnn_spec).calls)
    assert not export.ok and export.error == runner.JAIL_FAILED
    assert "nonexistent-course-path" not in export.error  # no host path reaches the student
    assert "sandbox setup failed" in export.log and "nonexistent-course-path" in export.log


def test_feedback_says_how_isolated_the_notebook_was():
    assert "isolated" in isolation.feedback_line("namespaces+pids-cgroup")
    assert "weak" in isolation.feedback_line("rlimits")


@pytest.fixture
def weak_machine(monkeypatch):
    monkeypatch.setattr(isolation, "level", lambda: "rlimits")


def test_a_weak_machine_warns_once_per_batch(weak_machine, capsys):
    grading.check_isolation(False)
    err = capsys.readouterr().err
    assert err.count("WARNING: weak sandbox") == 1 and "SECURITY.md" in err


@pytest.mark.parametrize("how", ["flag", "setting"])
def test_a_weak_machine_refuses_when_isolation_is_required(how, weak_machine, tmp_path,
                                                           capsys):
    assert cli.main(["release", "cnn", "--course-dir", str(tmp_path)]) == 0
    submitted = tmp_path / "submitted" / "alice" / "cnn" / "cnn.ipynb"
    submitted.parent.mkdir(parents=True)
    submitted.write_text(json.dumps(fixtures.submission_notebook(
        json.loads((tmp_path / "release" / "cnn" / "cnn.ipynb").read_text()),
        {"build_cnn": "x = 1\n"})))
    argv = ["grade", "cnn", "--course-dir", str(tmp_path)]
    if how == "flag":
        argv.append("--require-isolation")
    else:  # the course's nbgrader_config.py, as nbgrader's own settings are set
        with (tmp_path / "nbgrader_config.py").open("a") as config:
            config.write("c.CourseGrading.require_isolation = True\n")
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "refusing to grade: isolation is required" in err and "weak sandbox" in err
    assert not (tmp_path / "autograded").exists()  # nothing was graded


def dies_with(outer: subprocess.Popen, at_least: int, seconds: float) -> None:
    """Once ``outer`` has ``at_least`` descendants (within ``seconds``) and they are into the
    student's code, kill it with SIGKILL: every descendant must die too."""
    import signal
    import time

    import psutil

    deadline, inside = time.monotonic() + seconds, []
    while time.monotonic() < deadline:
        inside = psutil.Process(outer.pid).children(recursive=True)
        if len(inside) >= at_least:
            break
        time.sleep(0.05)
    assert len(inside) >= at_least, [p.cmdline() for p in inside]
    time.sleep(0.5)  # past the jail's setup, into the student's code
    outer.send_signal(signal.SIGKILL)
    outer.wait()
    gone, alive = psutil.wait_procs(inside, timeout=10)
    assert not alive, [p.cmdline() for p in alive]


@jail
def test_a_killed_grader_takes_its_jailed_sandbox_along(tmp_path):
    """Dropping privileges clears the parent-death signal; the jail sets it again."""
    import psutil

    scratch = tmp_path / "scratch"
    (scratch / "root").mkdir(parents=True)
    cmd = isolation.command([sys.executable, "-c", "import time; time.sleep(120)"],
                            runner._env(isolation.WORK, "/tmp"), hide=[], scratch=str(scratch))
    outer = subprocess.Popen(cmd)
    try:
        dies_with(outer, 1, 5)
    finally:
        for p in psutil.Process(outer.pid).children(recursive=True) if outer.poll() is None else []:
            p.kill()


GRADER = '''import json, sys
from pathlib import Path
from autograder import spec as specs
from autograder.pipeline import Plan
from autograder.sandbox import runner
spec = specs.load("cnn")
runner.run_notebook(Path(sys.argv[1]), spec, Plan(spec).calls)
'''


@jail
def test_a_killed_grader_takes_its_template_and_forked_sandboxes_along(make_submission):
    """The template ends when the grader's socket closes; each fork dies with its parent."""
    notebook = make_submission("import time\ntime.sleep(120)\n")
    grader = subprocess.Popen([sys.executable, "-c", GRADER, str(notebook)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # the template imports Keras first; then a supervisor and the submission's process
        dies_with(grader, 3, 60)
    finally:
        if grader.poll() is None:
            grader.kill()
