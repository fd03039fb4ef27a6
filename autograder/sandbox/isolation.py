"""How strongly this machine can isolate a sandboxed process, and the command that does it.

Levels (probed once per process, then cached):
- ``namespaces``: new user, network, PID and mount namespaces (``unshare``, no root needed).
  Inside, every file system is remounted read-only except the scratch directory, the course
  directory, specs and solutions are hidden under empty tmpfs mounts, there is no network, and
  every process left behind dies with the sandbox.
- ``rlimits``: resource limits and a process-group kill only (no usable ``unshare`` here).

``COURSE_SANDBOX_LEVEL=rlimits`` forces the weaker level (for machines where namespaces are
forbidden and the probe is slow).
"""
from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from functools import lru_cache
from pathlib import Path

PREFIX = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--mount",
          "--mount-proc", "--kill-child"]


def _script(scratch: str, hide: list[str], argv: list[str]) -> str:
    """Shell run inside the namespaces: read-only everything, hide paths, then exec ``argv``."""
    q = shlex.quote(scratch)
    lines = [
        f"mount --bind {q} {q}",
        "for m in $(awk '{print $5}' /proc/self/mountinfo | sort -u); do "
        f"[ \"$m\" = {q} ] || mount -o remount,bind,ro \"$m\" 2>/dev/null; done",
        "mount -t tmpfs -o size=64m tmpfs /dev/shm",
    ]
    lines += [f"mount -t tmpfs -o size=4k,ro tmpfs {shlex.quote(p)}" for p in hide
              if os.path.isdir(p)]
    lines += [f"cd {q}", "exec " + shlex.join(argv)]
    return " && ".join(lines)


def _works() -> bool:
    """Can we build the namespaces, and does the sandbox's own module import inside?"""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-c", "import autograder.sandbox.child"]
        try:
            done = subprocess.run(PREFIX + ["sh", "-c", _script(tmp, [], argv)],
                                  capture_output=True, timeout=60, cwd="/",
                                  env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
                                       "TMPDIR": tmp})
        except (OSError, subprocess.TimeoutExpired):
            return False
    return done.returncode == 0


@lru_cache(maxsize=1)
def level() -> str:
    """The strongest isolation that works here (see the module docstring)."""
    forced = os.environ.get("COURSE_SANDBOX_LEVEL")
    if forced in ("namespaces", "rlimits"):
        return forced
    if shutil.which("unshare") and shutil.which("mount") and _works():
        return "namespaces"
    return "rlimits"


def command(argv: list[str], *, hide: list[str], scratch: str) -> list[str]:
    """``argv`` wrapped for the current level; ``hide`` paths look empty inside."""
    if level() == "rlimits":
        return argv
    return PREFIX + ["sh", "-c", _script(scratch, hide, argv)]


# -- a process cap that holds for root too --------------------------------------------------
# RLIMIT_NPROC is not enforced for the host's root user, and the user namespace maps the
# sandbox to it. A ``pids`` cgroup caps tasks (processes and threads) whoever runs them; where
# this machine offers one, each sandbox gets its own, entered before anything else starts.
PIDS_HIERARCHIES = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")  # cgroup v1, then v2


def pids_cgroup(max_tasks: int) -> Path | None:
    """A fresh cgroup capped at ``max_tasks`` tasks, or None where none can be made here."""
    for root in PIDS_HIERARCHIES:
        group = Path(root) / f"course-sandbox-{uuid.uuid4().hex[:12]}"
        try:
            group.mkdir()
        except OSError:
            continue
        try:
            (group / "pids.max").write_text(str(int(max_tasks)))
            return group
        except OSError:
            group.rmdir()
    return None


@lru_cache(maxsize=1)
def pids_cap_available() -> bool:
    """Whether :func:`pids_cgroup` works on this machine."""
    group = pids_cgroup(64)
    release_cgroup(group)
    return group is not None


def in_cgroup(cmd: list[str], group: Path) -> list[str]:
    """``cmd`` started inside ``group`` (the shell joins it, then execs ``cmd``)."""
    return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(group / "cgroup.procs"), *cmd]


def release_cgroup(group: Path | None) -> None:
    """Kill whatever is left in ``group`` (escaped daemons included) and remove it."""
    if group is None:
        return
    for _ in range(50):
        try:
            pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
        except OSError:
            return
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    try:
        group.rmdir()
    except OSError:
        pass
