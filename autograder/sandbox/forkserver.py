"""Grader side of the fork server: one warm template per sandbox environment, a fresh fork of
it per submission (:mod:`.zygote` says what the template holds and how a fork is isolated).

A template is started on first use and kept for the life of the grading process; it exits when
the grader does (its socket closes). Where it cannot start (for example a backend that starts a
thread when imported), :func:`start` says so once on stderr and returns None, and the runner
starts that sandbox the ``exec`` way, as before the fork server existed.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

PER_SUBMISSION = ("HOME", "TMPDIR", "KERAS_HOME", "MPLCONFIGDIR")  # set in each fork


class Forked:
    """A running forked sandbox, read like :class:`subprocess.Popen`: ``pid`` (its supervisor,
    which leads the process group), ``wait(timeout)`` and ``returncode``."""

    def __init__(self, conn: socket.socket, pid: int | None):
        self.conn, self.pid, self.returncode, self._buffer = conn, pid, None, b""

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired("sandbox", timeout)
            self.conn.settimeout(left)
            try:
                chunk = self.conn.recv(4096)
            except socket.timeout:
                continue
            if not chunk:  # the supervisor died without a word: it was killed
                self.returncode = -signal.SIGKILL
                break
            self._buffer += chunk
            for line in self._buffer.decode("ascii", "replace").splitlines():
                if line.startswith("exit "):
                    self.returncode = int(line.split()[1])
        self.conn.close()
        return self.returncode


def _read_line(conn: socket.socket, timeout: float) -> str:
    """The supervisor's first line, or "" if it said nothing within ``timeout`` seconds."""
    conn.settimeout(timeout)
    data = b""
    while not data.endswith(b"\n"):
        try:
            chunk = conn.recv(256)
        except OSError:  # a timeout included: treated as a supervisor that died
            break
        if not chunk:
            break
        data += chunk
    return data.decode("ascii", "replace").strip()


class Template:
    """One template process (``python -m autograder.sandbox.zygote``) and its socket."""

    def __init__(self, env: dict, threads: int, start_seconds: float):
        self.home = tempfile.mkdtemp(prefix="course-template-")
        env = {**env, "HOME": self.home, "TMPDIR": self.home,
               "KERAS_HOME": os.path.join(self.home, ".keras"),
               "MPLCONFIGDIR": os.path.join(self.home, ".mpl")}
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.lock = threading.Lock()
        self.log = tempfile.TemporaryFile()
        cmd = [sys.executable, "-m", "autograder.sandbox.zygote", str(theirs.fileno()),
               str(threads)]
        # no parent-death signal: it would follow the thread that started the template (a
        # worker thread of a batch), not the grader. The template exits when its socket reads
        # the end, which the kernel sends when the grader exits, even on kill -9.
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.home, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     pass_fds=(theirs.fileno(),), start_new_session=True)
        theirs.close()
        self.control.settimeout(start_seconds)
        try:
            answer = self.control.recv(4096).decode("utf-8", "replace")
        except socket.timeout:
            answer = f"failed: not ready after {start_seconds:.0f} s"
        self.control.settimeout(None)
        if answer != "ready":
            self.log.seek(0)
            tail = self.log.read()[-1000:].decode("utf-8", "replace")
            self.close()
            raise RuntimeError((answer or "it exited while importing") + "\n" + tail)

    def spawn(self, message: dict, fds: list[int], timeout: float) -> Forked:
        """Fork a sandbox: ``message`` for the supervisor, ``fds``: request, export, status,
        jail report and log."""
        mine, theirs = socket.socketpair()
        try:
            with self.lock:
                socket.send_fds(self.control, [json.dumps(message).encode()],
                                [theirs.fileno(), *fds])
        except OSError:  # the template is gone: no pid, no status (the caller starts another)
            pass
        finally:
            theirs.close()
        line = _read_line(mine, timeout)
        if line.startswith("pid "):
            return Forked(mine, int(line.split()[1]))
        forked = Forked(mine, None)
        forked.returncode = int(line.split()[1]) if line.startswith("exit ") else -signal.SIGKILL
        return forked

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        self.control.close()  # the template exits when it reads the end of its socket
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)


_TEMPLATES: dict[tuple, Template] = {}
_REFUSED: dict[tuple, str] = {}  # key -> why no template runs for it ("*": for any)
_LOCK = threading.Lock()


def refuse(why: str) -> None:
    """No more forks in this process: a forked sandbox's jail failed where a fresh one's did
    not (the runner found out by starting that submission again the ``exec`` way)."""
    with _LOCK:
        if "*" not in _REFUSED:
            _REFUSED["*"] = why
            print(f"sandbox: a forked sandbox's jail failed where a fresh one's did not ({why}); "
                  "every sandbox starts a fresh Python from now on (slower, as safe)",
                  file=sys.stderr)


def start(env: dict, threads: int, message: dict, fds: list[int], timeout: float, *,
          retry: bool = True) -> Forked | None:
    """A sandbox forked from the template for ``env`` and ``threads`` (started within
    ``timeout`` seconds if there is none yet), or None where no template can run."""
    shared = {k: v for k, v in env.items() if k not in PER_SUBMISSION}
    key = (sys.executable, threads, tuple(sorted(shared.items())))
    with _LOCK:
        template = _TEMPLATES.get(key)
        if template is not None and not template.alive():
            template.close()
            del _TEMPLATES[key]
            template = None
        if "*" in _REFUSED:
            return None
        if template is None and key not in _REFUSED:
            try:
                template = _TEMPLATES[key] = Template(shared, threads, timeout)
            except (OSError, RuntimeError) as err:
                _REFUSED[key] = str(err)
                print(f"sandbox: the fork server could not start ({err}); every sandbox starts "
                      "a fresh Python instead (slower, as safe)", file=sys.stderr)
    if template is None:
        return None
    forked = template.spawn({**message, "env": env}, fds, timeout)
    if retry and forked.pid is None and not template.alive():  # it died since the last one
        with _LOCK:
            if _TEMPLATES.get(key) is template:
                del _TEMPLATES[key]
            template.close()
        return start(env, threads, message, fds, timeout, retry=False)
    return forked


@atexit.register
def close_all() -> None:
    """Stop every template of this process (tests call it between backends)."""
    with _LOCK:
        for template in _TEMPLATES.values():
            template.close()
        _TEMPLATES.clear()
        _REFUSED.clear()
