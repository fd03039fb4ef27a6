"""Parent side of the sandbox: run a submitted notebook's code in a limited child process.

The child gets a scratch directory holding only the request (the notebook's code cells and the
functions to export); it runs with wall-clock, CPU, memory, process and file limits, without
network, and (where the OS allows) as ``nobody`` with the course directory, specs and solutions
hidden. Whatever it writes back is parsed as untrusted JSON.

The child is a fork of a warm template (:mod:`.forkserver`, :mod:`.zygote`: Keras imported once
per grading process, about a second per submission) or, with ``sandbox_start = exec`` or where
no template can run, a fresh Python (``python -m autograder.sandbox.child``); both get the same
jail, limits, environment and descriptors.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import content
from . import export as export_schema
from . import forkserver, isolation
from .child import CPU_MARKER
from .cells import NotebookError, code_cells, read_notebook, test_cell_ids


@dataclass
class Export:
    """What the sandbox gave back for one submission (validated by :mod:`.export`)."""

    ok: bool  # the sandbox ran to the end and wrote a well-formed export
    calls: dict = field(default_factory=dict)  # call key -> {"ok", "config"/"value"} or error
    cells: list = field(default_factory=list)  # per executed cell: output / error
    error: str | None = None  # why the sandbox as a whole failed
    seconds: float = 0.0
    isolation: str = ""
    log: str = ""  # the child's own stdout/stderr (tail)
    grade_cells: list | None = None  # ids of the test cells in the submitted notebook
    started: str = ""  # "fork" (from the warm template) or "exec" (a fresh Python)


JAIL_FAILED = ("internal grader error (not your fault): the sandbox could not be built on the "
               "grading machine; your instructor sees why in the grading log")


def hidden_paths(course_dir: Path | None) -> list[str]:
    """What a sandboxed process must not see: the grading specs, challenges and fixtures of the
    installed package, the course content wherever it is (solutions, assignment sources,
    fixtures, tests, benches: :func:`autograder.content.hidden_paths`) and the course
    directory."""
    package = content.PACKAGE_DIR
    paths = [package / "specs", package / "fixtures", package / "trusted" / "challenges",
             *content.hidden_paths()]
    if course_dir is not None:
        paths.append(Path(course_dir))
    unique = []
    for p in paths:
        p = str(Path(p).resolve())
        if os.path.exists(p) and p not in unique:
            unique.append(p)
    return unique


def _request(nb: dict, spec, calls: list[dict], threads: int) -> dict:
    return {
        "cells": [{"index": c.index, "source": c.source, "grade_id": c.grade_id,
                   "skipped": list(c.skipped)} for c in code_cells(nb)],
        "calls": calls,
        "limits": spec.sandbox.limits(),
        "threads": threads,
    }


def _env(work: str, tmp: str) -> dict:
    """The child's whole environment: nothing of the grader's but what Python and Keras need."""
    keep = ("PATH", "LANG", "LC_ALL", "KERAS_BACKEND", "PYTHONPATH", "VIRTUAL_ENV",
            "XLA_PYTHON_CLIENT_PREALLOCATE")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(HOME=work, TMPDIR=tmp, KERAS_HOME=os.path.join(work, ".keras"), MPLBACKEND="Agg",
               MPLCONFIGDIR=os.path.join(work, ".mpl"), TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONDONTWRITEBYTECODE="1", CUDA_VISIBLE_DEVICES="",
               MALLOC_ARENA_MAX="2")  # glibc reserves 64 MB of address space per thread else
    return env


def _launch(scratch: str, fds: tuple[int, ...], spec, course_dir: Path | None):
    """(command, environment, working directory) that run the child at this machine's
    isolation level. ``fds``: request, export and status, the child's arguments; then where
    the jail reports why it could not be built (closed before student code runs)."""
    argv = [sys.executable, "-m", "autograder.sandbox.child", *map(str, fds[:3])]
    if isolation.level() == "rlimits":
        work = os.path.join(scratch, "work")
        os.makedirs(work, 0o700, exist_ok=True)
        return argv, _env(work, work), work
    os.makedirs(os.path.join(scratch, "root"), 0o700, exist_ok=True)
    cmd = isolation.command(argv, _env(isolation.WORK, "/tmp"), hide=hidden_paths(course_dir),
                            scratch=scratch, work_mb=spec.sandbox.scratch_mb,
                            tmp_mb=spec.sandbox.scratch_mb, report_fd=fds[3])
    return cmd, {"PATH": os.environ.get("PATH", os.defpath)}, scratch


def _fork(scratch: str, fds: tuple[int, ...], log: int, spec, course_dir: Path | None,
          group: Path | None, threads: int, wall: float):
    """The sandbox forked from the warm template (:mod:`.forkserver`), with the same jail,
    environment and limits as :func:`_launch`'s; None where no template runs here."""
    message = {"cgroup": str(group) if group is not None else None,
               "user_ns": os.geteuid() != 0, "plan": None}
    if isolation.level() == "rlimits":
        work = os.path.join(scratch, "work")
        os.makedirs(work, 0o700, exist_ok=True)
        env = _env(work, work)
        message["work"] = work
    else:
        os.makedirs(os.path.join(scratch, "root"), 0o700, exist_ok=True)
        env = _env(isolation.WORK, "/tmp")
        message["plan"] = isolation.view([], {}, hide=hidden_paths(course_dir),
                                         root=os.path.join(scratch, "root"),
                                         work_mb=spec.sandbox.scratch_mb,
                                         tmp_mb=spec.sandbox.scratch_mb)
    return forkserver.start(env, threads, message, [*fds, log], wall)


def _exec(scratch: str, fds: tuple[int, ...], log, spec, course_dir: Path | None,
          group: Path | None) -> subprocess.Popen:
    """The sandbox as a fresh Python process (``python -m autograder.sandbox.child``)."""
    cmd, env, cwd = _launch(scratch, fds, spec, course_dir)
    if group is not None:
        cmd = isolation.in_cgroup(cmd, group)
    if shutil.which("setpriv"):  # the sandbox dies with the grader, even on kill -9
        cmd = ["setpriv", "--pdeathsig", "KILL", *cmd]
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, pass_fds=fds, start_new_session=True)


_START = {"how": "fork"}  # the sandbox_start setting


def use_settings(settings) -> None:
    """Apply the sandbox's settings for this process: ``sandbox_level`` (see
    :func:`.isolation.use_level`) and ``sandbox_start``: ``fork`` (from a warm template, where
    one runs here) or ``exec`` (a fresh Python per submission)."""
    isolation.use_level(settings.sandbox_level)
    _START["how"] = settings.sandbox_start


def _kill(proc) -> None:
    """Kill ``proc``'s process group (a Popen, or a :class:`.forkserver.Forked`) and wait."""
    try:
        if proc.pid:  # a fork that never started has none: never signal group 0 (ours)
            os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def run_notebook(notebook: Path, spec, calls: list[dict], *, course_dir: Path | None = None,
                 threads: int = 1, wall_seconds: float | None = None) -> Export:
    """Execute ``notebook``'s code cells in a sandbox, then make ``calls`` (built by the task
    kinds: which function, with which arguments, exported as a model or as values)."""
    start = time.perf_counter()
    try:
        nb = read_notebook(notebook)
        request = _request(nb, spec, calls, threads)
    except NotebookError as err:
        return Export(False, error=str(err))
    wall = wall_seconds or spec.sandbox.wall_seconds
    export = _run(nb, request, spec, calls, course_dir, wall, _START["how"])
    if export.started == "fork" and export.error == JAIL_FAILED:
        fresh = _run(nb, request, spec, calls, course_dir, wall, "exec")
        if fresh.error != JAIL_FAILED:  # only the fork's jail fails here: stop forking
            forkserver.refuse(export.log)
        export = fresh
    export.seconds = time.perf_counter() - start
    return export


def _run(nb: dict, request: dict, spec, calls: list[dict], course_dir: Path | None,
         wall: float, how: str) -> Export:
    """One sandbox run of ``request``, forked (``how``: "fork", where a template runs) or as
    a fresh Python ("exec")."""
    threads = request["threads"]
    scratch = tempfile.mkdtemp(prefix="course-sandbox-")
    group = isolation.pids_cgroup(spec.sandbox.processes)
    names = ("request.json", "export.json", "status", "jail-report")
    paths = [Path(scratch, name) for name in names]
    paths[0].write_text(json.dumps(request))
    fds = (os.open(paths[0], os.O_RDONLY), *(os.open(p, os.O_WRONLY | os.O_CREAT, 0o600)
                                             for p in paths[1:]))
    try:
        with tempfile.TemporaryFile() as log:
            proc = None
            if how == "fork":
                proc = _fork(scratch, fds, log.fileno(), spec, course_dir, group, threads, wall)
            started = "fork" if proc is not None else "exec"
            if proc is None:
                proc = _exec(scratch, fds, log, spec, course_dir, group)
            for fd in fds:
                os.close(fd)
            fds = ()
            try:
                code = proc.wait(timeout=wall)
                timed_out = False
            except subprocess.TimeoutExpired:
                _kill(proc)
                code, timed_out = proc.returncode, True
            _kill(proc)  # anything the child left behind in its process group
            log.seek(0)
            tail = log.read()[-4000:].decode("utf-8", "replace")
        jail_error = paths[3].read_text(errors="replace")[:2000]
        export = (_read_export(paths[1], paths[2], code, timed_out, wall, tail, calls)
                  if not jail_error else Export(False, error=JAIL_FAILED))
    finally:
        for fd in fds:
            os.close(fd)
        isolation.release_cgroup(group)  # anything that left the process group dies too
        shutil.rmtree(scratch, ignore_errors=True)
    export.grade_cells = test_cell_ids(nb)
    export.started = started
    export.isolation = isolation.level() + ("+pids-cgroup" if group is not None else "")
    export.log = f"sandbox setup failed: {jail_error}" if jail_error else tail
    return export


def _read_export(out_path: Path, status_path: Path, code: int, timed_out: bool, wall: float,
                 tail: str, calls: list[dict]) -> Export:
    if timed_out:
        return Export(False, error=f"your notebook did not finish within {wall:.0f} s when run "
                                   "for grading: look for an infinite loop or long training "
                                   "outside the functions you were asked to write")
    if status_path.read_bytes()[:len(CPU_MARKER)] == CPU_MARKER.encode():
        reason = "it used more CPU time than allowed"
        return Export(False, error=f"your notebook stopped the grading process before its "
                                   f"functions could be checked ({reason})")
    if not out_path.stat().st_size:
        reason = _exit_reason(code, tail)
        return Export(False, error=f"your notebook stopped the grading process before its "
                                   f"functions could be checked ({reason})")
    try:
        cells, results = export_schema.parse(out_path, [c["key"] for c in calls])
    except export_schema.ExportInvalid as err:
        return Export(False, error=f"the grading export was damaged ({err}); was it "
                                   "overwritten by your code?")
    return Export(True, calls=results, cells=cells)


def _exit_reason(code: int, tail: str) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        if name == "SIGXCPU":
            return "it used more CPU time than allowed"
        if name == "SIGKILL":
            return "it was killed (SIGKILL): out of memory, or by its own code"
        return f"it was stopped by {name}"
    if "MemoryError" in tail:
        return "it ran out of memory: the sandbox allows a few GB"
    return f"exit code {code}; did it call sys.exit() or os._exit()?"
