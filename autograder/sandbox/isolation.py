"""How strongly this machine can isolate a sandboxed process, and the command that does it.

Levels (probed once per process, then cached):
- ``namespaces``: the jail (:mod:`.jail`): new mount, PID, network, IPC, UTS and cgroup
  namespaces made by util-linux ``unshare`` (plus a user namespace when the grader is not root).
  The file system holds *only* what a notebook needs (:func:`view`: the Python environment, the
  course library, the operating system's ``/usr``, a few files of ``/etc``), read-only, with a
  size-capped working directory, a private ``/tmp``, its own ``/proc`` and a minimal ``/dev``;
  grading specs, solutions and the course directory are absent or covered. Student code runs as
  uid/gid 65534 with no capabilities and ``no_new_privs``, in a user namespace below the one that
  made the mounts, so it cannot undo them. There is no network, and every process left behind
  dies with the sandbox.
- ``rlimits``: resource limits and a process-group kill only (no usable ``unshare`` here). The
  student's code can read and write whatever the grading user can: say so loudly
  (:func:`weakness`), and refuse where isolation is required (``--require-isolation``).

The ``sandbox_level`` setting (``--sandbox-level rlimits``, see :mod:`autograder.settings`)
forces the weaker level (for machines where namespaces are forbidden and the probe is slow);
:func:`use_level` applies it.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from functools import lru_cache
from pathlib import Path

SANDBOX_UID = 65534  # the student's uid and gid inside (``nobody``), never a privileged host user
WORK = "/sandbox"  # the student's working directory and HOME inside the jail
JAIL = Path(__file__).resolve().with_name("jail.py")
NAMESPACES = ["--mount", "--pid", "--net", "--ipc", "--uts", "--cgroup", "--fork", "--kill-child"]
LINKED_TOP = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")  # merged-/usr links, or dirs
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives", "fonts")
PASSWD = f"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n" \
         f"student:x:{SANDBOX_UID}:{SANDBOX_UID}:student:{WORK}:/usr/sbin/nologin\n"
GROUP = f"root:x:0:\nstudent:x:{SANDBOX_UID}:\n"


def _outer() -> list[str]:
    """``unshare`` for the jail: a root grader needs no user namespace of its own (it then
    switches the student to host uid 65534); anyone else maps itself to root of a new one."""
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return ["unshare", *user, *NAMESPACES]


def _inside(path: Path, other: Path) -> bool:
    return path == other or other in path.parents


def _packages() -> list[Path]:
    """What the child imports from a folder that also holds course content."""
    from .. import content

    found = importlib.util.find_spec("course")
    course = [Path(p).resolve() for p in (found.submodule_search_locations or [])] if found else []
    return [content.PACKAGE_DIR, *course]


@lru_cache(maxsize=4)
def _child_sys_path(executable: str, pythonpath: str | None) -> tuple[str, ...]:
    """The import path the child's interpreter builds for itself (site-packages, ``.pth``
    additions such as an editable checkout, ``PYTHONPATH``), without its working directory."""
    env = {"PATH": os.environ.get("PATH", os.defpath)}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run([executable, "-c", "import json, sys; print(json.dumps(sys.path[1:]))"],
                          capture_output=True, text=True, cwd="/", env=env, timeout=60,
                          check=True)
    return tuple(json.loads(done.stdout))


def readable_paths(hide: list[str]) -> list[str]:
    """The host paths a notebook may read, outermost first, none inside another: ``/usr`` (the
    operating system, its libraries and shipped data), the interpreter and virtual environment,
    the child's import path, and a few files of ``/etc``. An import-path folder that holds
    hidden content (an editable checkout) contributes only the packages the sandbox imports."""
    hidden = [Path(h) for h in hide]
    wanted = [Path("/usr")]
    wanted += [Path("/", top) for top in LINKED_TOP
               if os.path.isdir(f"/{top}") and not os.path.islink(f"/{top}")]
    wanted += [Path("/etc", name) for name in ETC if os.path.exists(f"/etc/{name}")]
    wanted += [Path(p).resolve() for p in {sys.prefix, sys.exec_prefix, sys.base_prefix,
                                           sys.base_exec_prefix}]
    wanted += [Path(sys.executable).resolve().parent]
    for entry in _child_sys_path(sys.executable, os.environ.get("PYTHONPATH")):
        path = Path(entry).resolve()
        if not path.exists() or any(_inside(path, h) for h in hidden):
            continue  # e.g. a zip that is not there, or the test suite's own folder
        if any(_inside(h, path) for h in hidden):
            wanted += [p for p in _packages() if _inside(p, path)]
        else:
            wanted.append(path)
    kept: list[Path] = []
    for path in sorted(set(wanted), key=lambda p: (len(p.parts), str(p))):
        if path.exists() and not any(_inside(path, k) for k in kept):
            kept.append(path)
    return [str(p) for p in kept]


def view(argv: list[str], env: dict, *, hide: list[str], root: str, work_mb: int,
         tmp_mb: int) -> dict:
    """The jail's plan (JSON): what it mounts, who the student is, and what it then runs."""
    binds = readable_paths(hide)
    covered = [h for h in hide if any(_inside(Path(h), Path(b)) for b in binds)]
    root_grader = os.geteuid() == 0
    return {
        "root": root, "binds": binds, "hide": covered,
        "links": {f"/{top}": os.readlink(f"/{top}") for top in LINKED_TOP
                  if os.path.islink(f"/{top}")},
        "etc": {"passwd": PASSWD, "group": GROUP, "hostname": "sandbox\n",
                "hosts": "127.0.0.1 localhost sandbox\n",
                "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n"},
        "work": WORK, "work_mb": work_mb, "tmp_mb": tmp_mb,
        # the tmpfs owner as the jail's own user namespace sees the student before the switch
        "work_owner": SANDBOX_UID if root_grader else 0,
        "uid": SANDBOX_UID, "switch_user": root_grader,
        "argv": argv, "env": env,
    }


def _works() -> bool:
    """Can we build the jail, and does the sandbox's own module import inside it?"""
    with tempfile.TemporaryDirectory() as tmp:
        os.mkdir(os.path.join(tmp, "root"))
        argv = [sys.executable, "-c", "import autograder.sandbox.child"]
        try:
            done = subprocess.run(command(argv, {"PATH": os.environ.get("PATH", "")}, hide=[],
                                          scratch=tmp, level_="namespaces"),
                                  capture_output=True, timeout=60, cwd="/")
        except (OSError, subprocess.TimeoutExpired):
            return False
    return done.returncode == 0


_FORCED: dict[str, str] = {}  # "level" -> the level the sandbox_level setting forces


def use_level(setting: str) -> None:
    """Apply the ``sandbox_level`` setting: ``auto`` probes, ``namespaces`` or ``rlimits``
    forces that level for this process."""
    if setting in ("namespaces", "rlimits"):
        _FORCED["level"] = setting
    else:
        _FORCED.pop("level", None)


def level() -> str:
    """The level the setting forces, else the strongest isolation that works here (see the
    module docstring)."""
    return _FORCED.get("level") or _probed()


@lru_cache(maxsize=1)
def _probed() -> str:
    if shutil.which("unshare") and _works():
        return "namespaces"
    return "rlimits"


def weakness() -> str | None:
    """What this machine's sandbox does *not* guarantee, in one sentence; None when the jail
    works."""
    if level() == "namespaces":
        return None
    why = ("the sandbox_level setting forces rlimits" if _FORCED.get("level") == "rlimits"
           else "this machine cannot build the namespace jail (no usable `unshare`, or user "
                "namespaces are disabled)")
    return (f"weak sandbox: {why}; student code runs with only resource limits, as the grading "
            "user, and can read and write whatever that user can (files, the gradebook, other "
            "submissions) and reach the network. Grade only trusted notebooks here, or run "
            "`course grade` where namespaces work (see SECURITY.md)")


def feedback_line(tag: str) -> str:
    """The line a feedback page shows for the isolation ``tag`` an export recorded."""
    if tag.split("+")[0] == "namespaces":
        return ("Sandbox: isolated (your code ran as an unprivileged user without network, with "
                "a read-only view of the Python environment and the course library only)")
    return ("Sandbox: **weak** (resource limits only: this grading machine could not isolate "
            "notebooks; your instructor was warned)")


def command(argv: list[str], env: dict, *, hide: list[str], scratch: str, work_mb: int = 256,
            tmp_mb: int = 256, report_fd: int | None = None,
            level_: str | None = None) -> list[str]:
    """``argv`` (run with ``env``) wrapped for the current level. ``scratch`` is a fresh,
    private host directory holding an empty ``root`` folder (the jail's mount point);
    ``report_fd``, if given, receives the reason the jail could not be built."""
    if (level_ or level()) == "rlimits":
        return argv
    plan = view(argv, env, hide=hide, root=os.path.join(scratch, "root"), work_mb=work_mb,
                tmp_mb=tmp_mb)
    plan["report_fd"] = report_fd
    return [*_outer(), sys.executable, "-I", "-S", str(JAIL), json.dumps(plan)]


# -- a process cap that holds for root too --------------------------------------------------
# RLIMIT_NPROC is not enforced for the host's root user. A ``pids`` cgroup caps tasks
# (processes and threads) whoever runs them; where this machine offers one, each sandbox gets
# its own, entered before anything else starts. Inside the jail no cgroup file system is
# mounted and the student has neither the uid nor the capabilities to leave it.
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
