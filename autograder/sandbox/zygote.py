"""The sandbox's template process: Keras imported once, a fresh fork per submission.

Started by :mod:`.forkserver` as ``python -m autograder.sandbox.zygote FD THREADS`` with the
sandbox's own environment (no grader secrets) and one end of a ``SOCK_SEQPACKET`` socket pair.
It imports what every notebook needs (:func:`autograder.sandbox.child.prepare`: the backend with
the sandbox's thread counts, Keras, Matplotlib, the course library) and then **never runs
student code and never reads a request**: it only forks. It receives the grader's scratch
files as open descriptors; the notebook's cells stay in the request file, which only the
submission's own process reads.

Threads and fork: importing Keras starts no thread on any backend (the thread pools of
TensorFlow, XLA and PyTorch start with the first operation, which the template never runs), and
the template checks that it holds a single thread before it says it is ready; otherwise it
refuses, and the grader starts every sandbox the slow way (``exec``). A fork copies only the
forking thread, so each submission starts single-threaded, as namespaces and ``unshare`` of a
user namespace require.

Per submission (one message: the jail's plan, the environment, the pids cgroup; descriptors:
the grader's end of a private socket, the request, export, status and jail-report files and the
log), the template forks a **supervisor**, which joins the cgroup, starts a session, makes the
same namespaces as ``unshare`` does for the ``exec`` path, and forks the **submission's
process**: PID 1 of the new PID namespace. That process builds the jail in-process
(:func:`autograder.sandbox.jail.enter`), drops every capability (what ``exec`` as a non-root
user would do), closes every descriptor it does not need, takes the submission's environment,
reseeds Python's and NumPy's generators, and runs :func:`autograder.sandbox.child.serve`. The
supervisor tells the grader its process id (to kill the whole group on a timeout) and how the
submission's process ended. Every process dies with the one that made it (``PDEATHSIG``); the
template exits when the grader closes its socket.

When a student imports TensorFlow, JAX or PyTorch themselves, the import happens in their own
process, inside the jail (the virtual environment is in its view): it costs them the seconds
the template saved, and nothing else.
"""
from __future__ import annotations

import ctypes
import importlib
import json
import os
import random
import signal
import socket
import sys
import traceback

from . import isolation, jail

MAX_MESSAGE = 1 << 20
MAX_FDS = 8
CLONE = {"mount": 0x00020000, "uts": 0x04000000, "ipc": 0x08000000, "user": 0x10000000,
         "pid": 0x20000000, "net": 0x40000000, "cgroup": 0x02000000}
NAMESPACES = [flag[2:] for flag in isolation.NAMESPACES if flag[2:] in CLONE]  # unshare's
PRELOAD = ("matplotlib.pyplot", "course.data", "course.evaluator", "course.gan", "course.layers",
           "course.motifs", "course.plots", "course.points", "course.sequences",
           "course.training")


def threads_now() -> int:
    return len(os.listdir("/proc/self/task"))


def warm(threads: int) -> None:
    """Import what a notebook needs, as the child would, and nothing that runs an operation.
    The thread counts are set first: NumPy's OpenBLAS starts its pool when it loads."""
    from course import runtime

    runtime.configure(threads=threads)
    from . import child

    child.prepare(threads)
    import matplotlib

    matplotlib.use("Agg")
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001  (a missing optional module only costs its import later)
            pass


def _unshare(user_ns: bool) -> None:
    """The namespaces ``unshare`` makes for the ``exec`` path; with ``user_ns`` (a grader that
    is not root) also a user namespace in which this process is root (``--map-root-user``)."""
    flags = sum(CLONE[name] for name in NAMESPACES) | (CLONE["user"] if user_ns else 0)
    uid, gid = os.getuid(), os.getgid()
    jail._check(jail.libc.unshare(ctypes.c_int(flags)), "unshare the namespaces")
    if user_ns:
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"),
                           ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w", encoding="ascii") as fh:
                fh.write(text)


def _supervise(message: dict, fds: list[int], template: int) -> None:
    """In the supervisor: set up, fork the submission's process, report how it ended. Neither
    process returns."""
    conn, request, export, status, report, log = fds
    try:
        jail._prctl(jail.PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != template:
            os._exit(1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # the grader kills the group: this supervisor and the submission's process
        if message.get("cgroup"):
            with open(os.path.join(message["cgroup"], "cgroup.procs"), "w") as fh:
                fh.write(str(os.getpid()))
        if message.get("plan") is not None:
            _unshare(message["user_ns"])
        os.write(conn, f"pid {os.getpid()}\n".encode())
        pid = os.fork()
    except BaseException as err:  # noqa: BLE001  (the jail's failure; no student code ran)
        _report(report, str(err))
        _send(conn, f"exit {jail.FAILED}\n")
        os._exit(0)
    if pid == 0:
        os.close(conn)
        _student(message, (request, export, status, report, log))
    for fd in (request, export, status, report, log):
        os.close(fd)
    try:
        _, code = os.waitpid(pid, 0)
        _send(conn, f"exit {os.waitstatus_to_exitcode(code)}\n")
    finally:
        os._exit(0)


def _send(fd: int, text: str) -> None:
    try:
        os.write(fd, text.encode())
    except OSError:
        pass


def _report(fd: int, text: str) -> None:
    """Why the jail could not be built: on the report descriptor (the runner adds the
    "sandbox setup failed" prefix) and in the log, as :mod:`.jail` reports it."""
    _send(fd, text or "unknown error")
    print(f"sandbox setup failed: {text}", file=sys.stderr)


def _only(keep: set[int]) -> None:
    """Close every descriptor but ``keep``: the student holds nothing of the template's."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _student(message: dict, fds: tuple[int, ...]) -> None:
    """In the submission's process: the jail, then the child's work; never returns."""
    request, export, status, report, log = fds
    try:
        jail._prctl(jail.PR_SET_PDEATHSIG, signal.SIGKILL)
        os.dup2(log, 1)
        os.dup2(log, 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        _only({0, 1, 2, request, export, status, report})
        plan = message.get("plan")
        if plan is not None:
            jail.enter(plan)
            jail.drop_capabilities()
        else:
            os.chdir(message["work"])
    except BaseException as err:  # noqa: BLE001  (any reason, reported, before student code)
        _report(report, str(err))
        os._exit(jail.FAILED)
    os.close(report)
    os.environ.clear()
    os.environ.update(message["env"])
    sys.path[0] = os.getcwd()  # as for ``python -m``: the working directory first
    from . import child

    sys.argv = [child.__file__, str(request), str(export), str(status)]
    importlib.invalidate_caches()  # hidden folders look empty in the jail: forget the host's
    random.seed()  # a fresh process's generators, not the template's shared state
    import numpy as np

    np.random.seed()
    try:
        child.serve(child.read_request(request), export, status)
        code = 0
    except BaseException:  # noqa: BLE001  (as an uncaught error ends ``python -m``: status 1)
        traceback.print_exc()
        code = 1
    _exit(code)


def _exit(code: int) -> None:
    """End as an interpreter does (other threads joined, atexit handlers run, output flushed),
    without tearing down every module of the template: that alone costs more than a second
    with TensorFlow loaded, and nothing is left to read once the export is written."""
    import atexit
    import threading

    try:
        threading._shutdown()  # what the interpreter does first at exit
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def serve(control: socket.socket) -> int:
    """Fork per message until the grader closes its end; then return 0."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    template = os.getpid()
    while True:
        message, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, MAX_FDS)
        if not message:
            return 0
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            control.close()
            _supervise(json.loads(message), fds, template)
        for fd in fds:
            os.close(fd)


def main(fd: int, threads: int) -> int:
    control = socket.socket(fileno=fd)
    try:
        warm(threads)
        count = threads_now()
        if count != 1:
            raise RuntimeError(f"{count} threads after the imports; a fork needs one")
    except BaseException:  # noqa: BLE001  (the grader falls back to exec and logs why)
        control.send(("failed " + traceback.format_exc(limit=3)[-2000:]).encode())
        return 1
    control.send(b"ready")
    code = serve(control)
    home = os.environ.get("HOME", "")  # the grader made it for this template (forkserver)
    if os.path.basename(home).startswith("course-template-"):
        import shutil

        shutil.rmtree(home, ignore_errors=True)  # also when the grader was killed
    return code


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
