"""PID 1 of a sandbox: build a file view that holds only what is listed, lock it, drop every
privilege, then exec the child that runs student code.

Started by :func:`autograder.sandbox.isolation.command` inside new mount, PID, network, IPC, UTS
and cgroup namespaces made by util-linux ``unshare`` (plus a user namespace when the grader is
not root), as ``python -I -S jail.py PLAN`` where PLAN is the JSON of
:func:`autograder.sandbox.isolation.view`. Standard library only, no site-packages: it runs
before any student code and must start fast.

In order:
1. a fresh tmpfs becomes the new root; each listed path is bind-mounted into it read-only
   (nosuid, nodev), recursively; hidden paths inside them are covered by empty read-only
   mounts; ``/proc`` of the new PID namespace, a minimal ``/dev``, a private ``/tmp`` and the
   size-capped working directory are added; the root itself is made read-only;
2. ``pivot_root`` into it and the old root detached: nothing of the host is reachable;
3. ``no_new_privs``, an empty capability bounding set; a grader running as root switches to
   uid/gid 65534 (no supplementary groups);
4. a new user namespace *below* the one that owns the mounts, mapping only the student's uid
   65534 (to host uid 65534 under a root grader, else to the grader's own uid): every mount is
   now locked (a student cannot unmount or remount anything, even after making namespaces of
   its own) and ``exec`` leaves the student no capability at all.
Any failure exits with status 125 before student code runs, with a one-line reason on stderr
and on the plan's ``report_fd`` (which the student's process never holds: it closes on exec).
"""
from __future__ import annotations

import ctypes
import json
import os
import platform
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
MNT_DETACH = 2
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 0x1, 0x2, 0x4
AT_RECURSIVE = 0x8000
AT_FDCWD = -100
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (added in Linux 5.12)
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CLONE_NEWUSER = 0x10000000
FAILED = 125  # the exit status that says the jail itself could not be built

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class JailError(Exception):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise JailError(f"{what}: {os.strerror(err)}")


def _b(text: str | None):
    return None if text is None else os.fsencode(text)


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    _check(libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data)),
           f"mount {source or fstype or ''} on {target}")


class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _readonly_tree(target: str) -> None:
    """Make the mount at ``target`` and every mount below it read-only, nosuid and nodev."""
    attr = MountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, 0)
    done = libc.syscall(ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(AT_FDCWD), _b(target),
                        ctypes.c_uint(AT_RECURSIVE), ctypes.byref(attr),
                        ctypes.c_size_t(ctypes.sizeof(attr)))
    if done == 0:
        return
    if ctypes.get_errno() != 38:  # ENOSYS: a kernel before 5.12 remounts one mount at a time
        _check(-1, f"make {target} read-only")
    for point in _mounts_at_or_below(target):
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | _kept_flags(point)
        mount(None, point, None, flags)


def _kept_flags(path: str) -> int:
    """Flags a remount must repeat: in a user namespace, dropping an inherited one fails."""
    have = os.statvfs(path).f_flag
    kept = MS_NOEXEC if have & os.ST_NOEXEC else 0
    for st, ms in ((os.ST_NOATIME, 0x400), (os.ST_NODIRATIME, 0x800), (os.ST_RELATIME, 0x200000)):
        if have & st:
            kept |= ms
    return kept


def _mounts_at_or_below(target: str) -> list[str]:
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        for line in fh:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == target or point.startswith(target.rstrip("/") + "/"):
                points.append(point)
    return points


def _make(path: str, is_dir: bool) -> None:
    os.makedirs(path if is_dir else os.path.dirname(path), mode=0o755, exist_ok=True)
    if not is_dir and not os.path.exists(path):
        with open(path, "w", encoding="ascii"):
            pass


def bind_readonly(root: str, path: str) -> None:
    """``path`` of the host at the same place under ``root``, read-only, with what lies below."""
    target = root + path
    _make(target, os.path.isdir(path))
    mount(path, target, None, MS_BIND | MS_REC)
    _readonly_tree(target)


def cover(root: str, path: str) -> None:
    """``path`` (inside a read-only bind) looks empty: an empty read-only mount over it."""
    target = root + path
    if os.path.isdir(target):
        mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=4k,mode=0555")
    elif os.path.exists(target):
        mount(root + "/dev/null", target, None, MS_BIND)
        _readonly_tree(target)


def tmpfs(target: str, size_mb: int, mode: str, owner: int | None = None,
          flags: int = MS_NOSUID | MS_NODEV) -> None:
    os.makedirs(target, mode=0o755, exist_ok=True)
    data = f"size={int(size_mb)}m,mode={mode}"
    if owner is not None:
        data += f",uid={owner},gid={owner}"
    mount("tmpfs", target, "tmpfs", flags, data)


def minimal_dev(root: str) -> None:
    """null, zero, full, random, urandom and tty from the host; fd links; a private shm."""
    dev = root + "/dev"
    tmpfs(dev, 1, "0755", flags=MS_NOSUID | MS_NOEXEC)
    for name in ("null", "zero", "full", "random", "urandom", "tty"):
        if os.path.exists("/dev/" + name):
            _make(f"{dev}/{name}", False)
            mount("/dev/" + name, f"{dev}/{name}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    tmpfs(dev + "/shm", 64, "1777", flags=MS_NOSUID | MS_NODEV | MS_NOEXEC)
    mount(None, dev, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, "size=1m,mode=0755")


def write_etc(root: str, files: dict) -> None:
    os.makedirs(root + "/etc", mode=0o755, exist_ok=True)
    for name, text in files.items():
        with open(f"{root}/etc/{name}", "w", encoding="utf-8") as fh:
            fh.write(text)


def build_root(plan: dict) -> None:
    root = plan["root"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    tmpfs(root, 4, "0755")
    for path in plan["binds"]:
        bind_readonly(root, path)
    for link, target in plan["links"].items():
        _make(os.path.dirname(root + link), True)
        os.symlink(target, root + link)
    write_etc(root, plan["etc"])
    os.makedirs(root + "/proc", mode=0o555)
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    minimal_dev(root)
    for path in plan["hide"]:
        cover(root, path)
    tmpfs(root + "/tmp", plan["tmp_mb"], "1777")
    tmpfs(root + plan["work"], plan["work_mb"], "0700", owner=plan["work_owner"])
    mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4m,mode=0755")


def pivot(root: str) -> None:
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise JailError(f"pivot_root: unknown system call number on {platform.machine()}")
    os.chdir(root)
    _check(libc.syscall(ctypes.c_long(number), b".", b"."), "pivot_root")
    _check(libc.umount2(b".", ctypes.c_int(MNT_DETACH)), "detach the old root")
    os.chdir("/")


def _prctl(option: int, arg: int = 0) -> None:
    _check(libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0),
                      ctypes.c_ulong(0), ctypes.c_ulong(0)), f"prctl({option})")


def _drop_bounding_set() -> None:
    with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as fh:
        last = int(fh.read())
    for cap in range(last + 1):
        _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)


def drop_privileges(plan: dict) -> None:
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    if plan["switch_user"]:
        uid = plan["uid"]
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        _prctl(PR_SET_DUMPABLE, 1)  # else /proc/self/*_map belong to root and cannot be written
    outer_uid, outer_gid = os.getuid(), os.getgid()
    _check(libc.unshare(ctypes.c_int(CLONE_NEWUSER)), "unshare the user namespace")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{plan['uid']} {outer_uid} 1"),
                       ("gid_map", f"{plan['uid']} {outer_gid} 1")):
        with open(f"/proc/self/{name}", "w", encoding="ascii") as fh:
            fh.write(text)
    _drop_bounding_set()  # a new user namespace starts with a full one; exec empties the rest


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """Empty this process's effective, permitted and inheritable capabilities (what ``exec``
    as a non-root user does), for a sandbox that runs student code without exec."""
    header = CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3: two 32-bit words
    _check(libc.capset(ctypes.byref(header), (CapData * 2)()), "drop the capabilities")


def enter(plan: dict) -> None:
    """Steps 1 to 4 in this process: afterwards it sees only the view, as the student."""
    build_root(plan)
    pivot(plan["root"])
    _check(libc.sethostname(b"sandbox", ctypes.c_size_t(7)), "sethostname")
    drop_privileges(plan)
    os.chdir(plan["work"])
    # changing credentials cleared the parent-death signal `unshare --kill-child` set: again,
    # so that a grader killed with SIGKILL still takes its sandboxes along
    _prctl(PR_SET_PDEATHSIG, 9)


def main(plan: dict) -> None:
    enter(plan)
    os.execve(plan["argv"][0], plan["argv"], plan["env"])


def _run(plan: dict) -> None:
    report = plan.get("report_fd")
    if report is not None:
        os.set_inheritable(report, False)
    try:
        main(plan)
    except Exception as err:  # noqa: BLE001  (any reason, reported, before student code)
        print(f"sandbox setup failed: {err}", file=sys.stderr)
        if report is not None:
            os.write(report, str(err).encode("utf-8", "replace") or b"unknown error")
        sys.exit(FAILED)


if __name__ == "__main__":
    _run(json.loads(sys.argv[1]))
