"""Parent side of the sandbox: run a submitted notebook's code in a limited child process.

The child gets a scratch directory holding only the request (the notebook's code cells and the
functions to export); it runs with wall-clock, CPU, memory, process and file limits, without
network, and (where the OS allows) as ``nobody`` with the course directory, specs and solutions
hidden. Whatever it writes back is parsed as untrusted JSON.
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
from . import isolation
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


def hidden_paths(course_dir: Path | None) -> list[str]:
    """What a sandboxed process must not see: the grading specs, challenges and fixtures of the
    installed package, the course content wherever it is (solutions, assignment sources,
    fixtures, tests, benches: :func:`autograder.content.hidden_paths`) and the course
    directory."""
    package = content.PACKAGE_DIR
    paths = [package / "specs", package / "fixtures", package / "challenges",
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


def _env(scratch: str) -> dict:
    keep = ("PATH", "LANG", "LC_ALL", "KERAS_BACKEND", "PYTHONPATH", "CUDA_VISIBLE_DEVICES",
            "XLA_PYTHON_CLIENT_PREALLOCATE", "VIRTUAL_ENV")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(HOME=scratch, TMPDIR=scratch, KERAS_HOME=os.path.join(scratch, ".keras"), MPLBACKEND="Agg",
               MPLCONFIGDIR=os.path.join(scratch, ".mpl"), TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONDONTWRITEBYTECODE="1", COURSE_GRADING="1", CUDA_VISIBLE_DEVICES="",
               MALLOC_ARENA_MAX="2")  # glibc reserves 64 MB of address space per thread else
    return env


def _kill(proc: subprocess.Popen) -> None:
    try:
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
    scratch = tempfile.mkdtemp(prefix="course-sandbox-")
    group = isolation.pids_cgroup(spec.sandbox.processes)
    try:
        req_path, out_path = Path(scratch, "request.json"), Path(scratch, "export.json")
        req_path.write_text(json.dumps(request))
        argv = [sys.executable, "-m", "autograder.sandbox.child", str(req_path), str(out_path)]
        cmd = isolation.command(argv, hide=hidden_paths(course_dir), scratch=scratch)
        if group is not None:
            cmd = isolation.in_cgroup(cmd, group)
        if shutil.which("setpriv"):  # the sandbox dies with the grader, even on kill -9
            cmd = ["setpriv", "--pdeathsig", "KILL", *cmd]
        log_path = Path(tempfile.mkstemp(prefix="course-sandbox-log-")[1])
        with open(log_path, "w+b") as log:
            proc = subprocess.Popen(cmd, cwd=scratch, env=_env(scratch), stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
            try:
                code = proc.wait(timeout=wall)
                timed_out = False
            except subprocess.TimeoutExpired:
                _kill(proc)
                code, timed_out = proc.returncode, True
            _kill(proc)  # anything the child left behind in its process group
            log.seek(0)
            tail = log.read()[-4000:].decode("utf-8", "replace")
        log_path.unlink()
        export = _read_export(out_path, code, timed_out, wall, tail, calls)
    finally:
        isolation.release_cgroup(group)  # anything that left the process group dies too
        shutil.rmtree(scratch, ignore_errors=True)
    export.seconds = time.perf_counter() - start
    export.grade_cells = test_cell_ids(nb)
    export.isolation = isolation.level() + ("+pids-cgroup" if group is not None else "")
    export.log = tail
    return export


def _read_export(out_path: Path, code: int, timed_out: bool, wall: float, tail: str,
                 calls: list[dict]) -> Export:
    if timed_out:
        return Export(False, error=f"your notebook did not finish within {wall:.0f} s when run "
                                   "for grading: look for an infinite loop or long training "
                                   "outside the functions you were asked to write")
    if out_path.with_name(CPU_MARKER).exists():
        reason = "it used more CPU time than allowed"
        return Export(False, error=f"your notebook stopped the grading process before its "
                                   f"functions could be checked ({reason})")
    if not out_path.exists():
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
