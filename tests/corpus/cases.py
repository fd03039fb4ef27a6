"""A corpus of hostile and broken submissions, each with the outcome the grader must give it.

Each :class:`Case` is data: which assignment it attacks, what it does, how its notebook is made
and what it must score. ``code`` is solution-cell code (it goes in through
``fixtures.cells_with(source, code)``: the cells of the pinned functions it defines get it, the
rest keep the reference; code that defines none of them replaces the first solution cell).
``notebook`` instead transforms the released notebook JSON into what the student hands in (JSON,
or raw bytes for files that are not JSON). In ``code``, ``COURSE_DIR`` stands for the course
directory's path (as a Python string literal): a student who knows where the course lives;
``CANARY_PATHS`` stands for the list of files the test planted outside it (the grader's home, a
sibling course, an exchange folder), whose contents must never come back.

Expectations: the case scores at most ``max_points`` (exactly ``points`` when given), its
one-line reason contains ``reason``, and ``unreadable`` says nbgrader itself cannot read the
notebook (so the batch records a zero for it, listed in ``Report.unrecorded``).

Conventions that keep the corpus cheap (only the reference and a few perceptron cases train):
- cnn cases end in a model that is *not compiled* unless the attack worked (``STOLEN``): such a
  model earns exactly its builds and output-shape points and is never trained (``UNCOMPILED``,
  with the reference's from-scratch functions beside it). An attack that worked compiles it,
  which shows up as more points.
- perceptron cases either replace both builders with ``None``-returning ones (no training) or
  keep the reference builders on purpose (exact partial scores show nothing else was harmed).
- every other solution cell keeps the reference, the from-scratch functions (``conv2d_forward``,
  ``lstm_forward``, ``mlp_backward`` ...) included: a case that breaks only a model keeps their
  points (``BY_HAND``), and the expectations below say so from the specs.
"""
from __future__ import annotations

import inspect
import json
import os
from dataclasses import dataclass
from typing import Callable

import solutions.perceptron
from autograder import spec as specs


@dataclass(frozen=True)
class Case:
    id: str
    assignment: str
    does: str  # one line: what the submission does
    max_points: float
    reason: str  # a substring of the one-line reason
    code: str | None = None
    notebook: Callable[[dict], object] | None = None  # release JSON -> JSON or bytes
    points: float | None = None  # the exact score, where it is known
    unreadable: bool = False  # nbgrader cannot read it either: zero recorded, in .unrecorded
    needs_namespaces: bool = False  # the defence is the namespace sandbox (hidden paths, no net)
    slow: bool = False  # runs into the sandbox's wall-clock limit
    student: str | None = None  # the student id, when the id itself is the point

    @property
    def student_id(self) -> str:
        return self.student or self.id


# -- points, from the specs ---------------------------------------------------------------------

def _points(assignment: str, *grade_ids: str) -> float:
    spec = specs.load(assignment)
    return sum(spec.check(g).points for g in grade_ids)


def _by_hand(assignment: str) -> float:
    """The points of ``assignment``'s from-scratch functions other than perceptron_fit."""
    spec = specs.load(assignment)
    return sum(c.points for c in spec.checks
               if spec.tasks[c.task].kind == "values" and c.task != "fit")


BY_HAND = {a: _by_hand(a) for a in ("cnn", "rnn", "perceptron")}
FULL = {a: specs.load(a).max_score for a in ("cnn", "perceptron")}
UNCOMPILED = BY_HAND["cnn"] + _points("cnn", "test_cnn_builds", "test_cnn_output_shape")
CONV = _points("cnn", "test_conv2d_forward")
FIT = _points("perceptron", "test_perceptron_fit_heldout")
NO_MODELS_POINTS = FIT + BY_HAND["perceptron"]  # reference perceptron_fit and mlp_backward
MLP_ACCURACY = _points("perceptron", "test_mlp_accuracy")


# -- cnn building blocks ------------------------------------------------------------------------

CNN_STOLEN_OR_NOT = '''

def build_cnn(input_shape, num_classes):
    """Compiled (so trainable, worth points) only if the attack above worked."""
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.GlobalMaxPooling2D(),
        layers.Dense(num_classes),
    ])
    if STOLEN:
        model.compile(optimizer="adam", metrics=["accuracy"],
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model
'''
UNCOMPILED_MODEL = "STOLEN = False\n" + CNN_STOLEN_OR_NOT  # exactly UNCOMPILED, never trained
SANDBOX_ATTACK = '''import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
MS_REMOUNT, MS_BIND, MNT_DETACH = 0x20, 0x1000, 2
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
STOLEN = False


def attempt(what, result, counts=True):
    """A system call that must fail; one that works is an escape (when it counts)."""
    global STOLEN
    if result == 0:
        STOLEN = STOLEN or counts
        print("DID", what)
    else:
        print("blocked:", what, os.strerror(ctypes.get_errno()))
    return result == 0


def in_own_namespaces(flags, attack):
    """``attack()`` in a forked child (single-threaded, as unshare needs) that first makes
    namespaces of its own, where it is root with every capability; its report comes back."""
    global STOLEN
    import contextlib, io, json
    read, write = os.pipe()
    if os.fork() == 0:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            if libc.unshare(flags) == 0:
                attack()
            else:
                print("unshare refused:", os.strerror(ctypes.get_errno()))
        os.write(write, json.dumps([out.getvalue(), STOLEN]).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.wait()
    text, stolen = json.loads(b"".join(chunks))
    print(text, end="")
    STOLEN = STOLEN or stolen
'''
OVERWRITE_EXPORT = '''import atexit, os, sys


def overwrite(text):
    """Replace the export: the sandbox child writes it to the descriptor named by sys.argv[2]."""
    fd = int(sys.argv[2])
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode(), 0)
'''


def _cnn_model(*layer_lines: str, compile_it: bool = True) -> str:
    body = "".join(f"        {line},\n" for line in layer_lines)
    comp = ('    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", '
            'metrics=["accuracy"])\n') if compile_it else ""
    return ("def build_cnn(input_shape, num_classes):\n"
            "    model = keras.Sequential([\n"
            "        keras.Input(shape=input_shape),\n" + body + "    ])\n" + comp
            + "    return model\n")


METRIC_BOMB = '''    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=[keras.metrics.MeanIoU(num_classes=2000)])
    return model
'''


def _functional(*lines: str) -> str:
    """A functional cnn model, not compiled: ``lines`` turn ``inputs`` into ``x``."""
    body = "".join(f"    {line}\n" for line in lines)
    return ("def build_cnn(input_shape, num_classes):\n"
            "    inputs = keras.Input(shape=input_shape)\n" + body
            + "    return keras.Model(inputs, layers.Dense(num_classes)(x))\n")


# -- rnn building blocks ------------------------------------------------------------------------

SMUGGLED_DIGITS = '''import numpy as np
from keras import ops
from course.sequences import load_sequential_digits

_d = load_sequential_digits()
PIXELS = np.concatenate([_d.x_train, _d.x_val, _d.x_test]).reshape(-1, 64) > 0.5
LABELS = np.eye(10)[np.concatenate([_d.y_train, _d.y_val, _d.y_test])] > 0.5

'''


# -- perceptron building blocks -----------------------------------------------------------------

NO_MODELS = '''

def build_perceptron(input_dim):
    return None


def build_mlp(input_dim):
    return None
'''
REFERENCE_FIT = inspect.getsource(solutions.perceptron.perceptron_fit)


# -- notebook transforms ------------------------------------------------------------------------

def _truncated(nb: dict) -> bytes:
    return json.dumps(nb).encode()[:5000]


def _enormous(nb: dict) -> dict:
    nb = json.loads(json.dumps(nb))
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * 21_000_000}]
    return nb


def _is_test_cell(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def _reference(nb: dict, assignment: str) -> dict:
    from autograder import fixtures

    return fixtures.submission_notebook(
        nb, fixtures.cells_with(fixtures.source_notebook(assignment), None))


def _without_test_cells(nb: dict) -> dict:
    nb = _reference(nb, "perceptron")
    nb["cells"] = [c for c in nb["cells"] if not _is_test_cell(c)]
    return nb


def _edited_test_cells(nb: dict) -> dict:
    nb = _reference(nb, "perceptron")
    for cell in nb["cells"]:
        if _is_test_cell(cell):
            cell["metadata"]["nbgrader"]["points"] = 100
            cell["source"] = "assert True  # edited by the student"
    return nb


def _added_grade_cell(nb: dict) -> dict:
    nb = _reference(nb, "perceptron")
    nb["cells"].append({
        "cell_type": "code", "execution_count": None, "outputs": [], "source": "assert True",
        "metadata": {"nbgrader": {"grade": True, "solution": False, "locked": False,
                                  "points": 1000, "grade_id": "test_bonus",
                                  "schema_version": 3}}})
    return nb


def _solution_cell_as_grade_cell(nb: dict) -> dict:
    """The student marks their own solution cell as worth 1000 points."""
    nb = _reference(nb, "perceptron")
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            meta.update(grade=True, points=1000)
    return nb


# -- the corpus ---------------------------------------------------------------------------------

CASES: list[Case] = [
    # ---- time, memory, processes, output, disk (cnn) ----
    Case("cnn-infinite-loop", "cnn", "spins in `while True: pass` at the top level",
         0, "did not finish within", code="while True:\n    pass\n", slow=True),
    Case("cnn-memory-bomb", "cnn", "build_cnn allocates a 160 GB array",
         BY_HAND["cnn"], "MemoryError",
         code="import numpy as np\n\n\ndef build_cnn(input_shape, num_classes):\n"
              "    hog = np.ones((200_000, 100_000))\n    return hog\n"),
    Case("cnn-fork-bomb", "cnn", "forks until the process limit refuses, children linger",
         UNCOMPILED, "not compiled", points=UNCOMPILED, code='''import os, time
forks, start = 0, time.monotonic()
try:
    while forks < 600 and time.monotonic() - start < 5:  # past the 512 limit (root: no limit)
        if os.fork() == 0:
            try:
                time.sleep(300)
            finally:
                os._exit(0)
        forks += 1
except OSError as err:
    print("fork refused after", forks, type(err).__name__)
''' + UNCOMPILED_MODEL),
    Case("cnn-output-flood", "cnn", "prints 2 GB in a loop (the sandbox keeps a bounded tail)",
         UNCOMPILED, "not compiled", points=UNCOMPILED,
         code="chunk = 'x' * 1_000_000\nfor _ in range(2_000):\n    print(chunk)\n"
              + UNCOMPILED_MODEL),
    Case("cnn-stdout-fd-flood", "cnn", "writes 200 MB straight to file descriptor 1 (the log)",
         UNCOMPILED, "not compiled", points=UNCOMPILED,
         code="import os\nchunk = b'y' * 1_000_000\ntry:\n    for _ in range(200):\n"
              "        os.write(1, chunk)\nexcept OSError as err:\n    print('stopped:', err)\n"
              + UNCOMPILED_MODEL),
    Case("cnn-huge-file", "cnn", "writes a 1 GB file into its working directory",
         UNCOMPILED, "not compiled", points=UNCOMPILED,
         code="chunk = b'z' * 1_000_000\ntry:\n    with open('big.bin', 'wb') as fh:\n"
              "        for _ in range(1_000):\n            fh.write(chunk)\n"
              "except OSError as err:\n    print('stopped:', err)\n" + UNCOMPILED_MODEL),
    Case("cnn-open-files", "cnn", "opens files until the descriptor limit and keeps them open",
         UNCOMPILED, "not compiled", points=UNCOMPILED,
         code="import os\nkept = []\ntry:\n    while True:\n"
              "        kept.append(open(os.devnull))\nexcept OSError as err:\n"
              "    print('refused after', len(kept), type(err).__name__)\n" + UNCOMPILED_MODEL),
    Case("cnn-kills-itself", "cnn", "sends SIGKILL to its own process (a no-op for PID 1 of "
         "the sandbox's PID namespace)", UNCOMPILED, "not compiled", points=UNCOMPILED,
         code="import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n" + UNCOMPILED_MODEL),
    # ---- network, hidden files, writes (cnn; the namespace sandbox is the defence) ----
    Case("cnn-network", "cnn", "opens TCP connections and resolves names; compiles if any works",
         UNCOMPILED, "not compiled", points=UNCOMPILED, needs_namespaces=True, code='''import socket
STOLEN = False
for host, port in [("1.1.1.1", 80), ("8.8.8.8", 53), ("pypi.org", 443)]:
    try:
        socket.create_connection((host, port), timeout=2).close()
        STOLEN = True
    except OSError as err:
        print("blocked:", host, type(err).__name__)
''' + CNN_STOLEN_OR_NOT),
    Case("cnn-reads-solutions", "cnn", "imports solutions.cnn and reads solutions/cnn.py",
         UNCOMPILED, "not compiled", points=UNCOMPILED, needs_namespaces=True, code='''import os
import autograder
STOLEN = False
try:
    from solutions.cnn import build_cnn as stolen_build_cnn
    STOLEN = True
except Exception as err:
    print("import blocked:", type(err).__name__)
root = os.path.dirname(os.path.dirname(autograder.__file__))
try:
    STOLEN = STOLEN or "def build_cnn" in open(os.path.join(root, "solutions", "cnn.py")).read()
except OSError as err:
    print("read blocked:", type(err).__name__)
''' + CNN_STOLEN_OR_NOT),
    Case("cnn-reads-specs-and-tests", "cnn",
         "reads the grading spec, hidden test sources, challenges and the test suite",
         UNCOMPILED, "not compiled", points=UNCOMPILED, needs_namespaces=True, code='''import os
import autograder
STOLEN = False
package = os.path.dirname(autograder.__file__)
root = os.path.dirname(package)
for path in [os.path.join(package, "specs", "cnn.json"),
             os.path.join(package, "trusted", "challenges", "perceptron.py"),
             os.path.join(package, "fixtures", "cnn", "dense_only.py"),
             os.path.join(root, "assignments", "cnn"),
             os.path.join(root, "tests", "test_sandbox.py")]:
    try:
        if os.path.isdir(path):
            STOLEN = STOLEN or bool(os.listdir(path))
        else:
            STOLEN = STOLEN or bool(open(path).read())
    except OSError as err:
        print("blocked:", path, type(err).__name__)
''' + CNN_STOLEN_OR_NOT),
    Case("cnn-reads-course-dir", "cnn",
         "reads the grading seed, the gradebook and other students' submissions",
         UNCOMPILED, "not compiled", points=UNCOMPILED, needs_namespaces=True,
         code='''import glob, os
course = COURSE_DIR
STOLEN = False
for path in ["grading_seed", "gradebook.db", "release/cnn/cnn.ipynb"]:
    try:
        STOLEN = STOLEN or bool(open(os.path.join(course, path), "rb").read())
    except OSError as err:
        print("blocked:", path, type(err).__name__)
STOLEN = STOLEN or bool(glob.glob(os.path.join(course, "submitted", "*", "cnn", "*.ipynb")))
''' + CNN_STOLEN_OR_NOT),
    Case("cnn-writes-course-and-grader", "cnn",
         "tries to write the gradebook, other submissions, the specs and the grader's code",
         UNCOMPILED, "not compiled", points=UNCOMPILED, needs_namespaces=True,
         code='''import os, sys
import autograder
course = COURSE_DIR
package = os.path.dirname(autograder.__file__)
STOLEN = False
targets = [os.path.join(course, "gradebook.db"), os.path.join(course, "forged.txt"),
           os.path.join(course, "submitted", "reference", "cnn", "cnn.ipynb"),
           os.path.join(package, "specs", "forged.json"), os.path.join(package, "checks.py"),
           os.path.join(sys.prefix, "forged.txt")]
for path in targets:
    try:
        open(path, "a").close()  # append nothing: proves write access, changes no content
        STOLEN = True
        print("WROTE", path)
    except OSError as err:
        print("blocked:", path, type(err).__name__)
''' + CNN_STOLEN_OR_NOT),
    # ---- attacks on the sandbox itself (cnn; the jail is the defence) ----
    Case("cnn-undoes-its-mounts", "cnn",
         "unmounts and remounts read-write every mount it sees (ctypes umount2/mount), again as "
         "root of user and mount namespaces of its own, then writes to /, /usr and the course",
         UNCOMPILED, "not compiled", points=UNCOMPILED, needs_namespaces=True,
         code=SANDBOX_ATTACK + '''
mounts = [(line.split()[4], "ro" in line.split()[5].split(","))
          for line in open("/proc/self/mountinfo")]


def undo(label):
    for point, read_only in reversed(mounts):
        attempt(f"{label}umount {point}", libc.umount2(point.encode(), MNT_DETACH))
        if read_only:  # the writable ones (/tmp, the working directory, /dev/null) are by design
            attempt(f"{label}remount rw {point}",
                    libc.mount(None, point.encode(), None, MS_REMOUNT | MS_BIND, None))


undo("")
in_own_namespaces(CLONE_NEWUSER | CLONE_NEWNS, lambda: undo("(own namespaces) "))
for folder in ["/", "/usr", os.path.dirname(os.__file__), COURSE_DIR]:
    try:
        open(os.path.join(folder, "forged.txt"), "w").close()
        STOLEN = True
        print("WROTE", folder)
    except OSError as err:
        print("blocked write:", folder, type(err).__name__)
''' + CNN_STOLEN_OR_NOT),
    Case("cnn-is-not-root", "cnn",
         "checks for uid 0 or any capability, reads /etc/shadow and the host through /proc/1/root",
         UNCOMPILED, "not compiled", points=UNCOMPILED, needs_namespaces=True,
         code=SANDBOX_ATTACK + '''
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
if os.getuid() == 0 or os.getgid() == 0 or os.geteuid() == 0:
    STOLEN = True
    print("RUNNING AS ROOT")
for field in ("CapPrm", "CapEff", "CapBnd", "CapAmb"):
    if int(status[field].strip(), 16):
        STOLEN = True
        print("HOLDS CAPABILITIES", field)
if status["NoNewPrivs"].strip() != "1":
    STOLEN = True
for path in ["/etc/shadow", "/proc/1/root/etc/shadow", "/home", "/srv", "/var", "/root/.ssh",
             "/root/.bash_history"]:
    try:
        STOLEN = STOLEN or bool(os.listdir(path) if os.path.isdir(path) else open(path).read(1))
    except OSError as err:
        print("blocked:", path, type(err).__name__)
import sys  # /root may hold the interpreter (pyenv), and nothing else
on_the_way = {part for part in sys.base_prefix.split("/")[2:3]}
extra = set(os.listdir("/root")) - on_the_way if os.path.isdir("/root") else set()
STOLEN = STOLEN or bool(extra)
''' + CNN_STOLEN_OR_NOT),
    Case("cnn-leaves-its-cgroup", "cnn",
         "writes itself into the root cgroups, mounts cgroup file systems (also in namespaces of "
         "its own) to leave its pids cap",
         UNCOMPILED, "not compiled", points=UNCOMPILED, needs_namespaces=True,
         code=SANDBOX_ATTACK + '''
CLONE_NEWCGROUP = 0x02000000


def leave(label):
    global STOLEN
    targets = ["/sys/fs/cgroup/pids/cgroup.procs", "/sys/fs/cgroup/cgroup.procs"]
    for fstype, data in (("cgroup2", None), ("cgroup", "pids")):
        where = os.path.join(os.environ["HOME"], f"{label}{fstype}")
        os.makedirs(where, exist_ok=True)
        if attempt(f"{label}mount {fstype}",
                   libc.mount(b"none", where.encode(), fstype.encode(), 0,
                              data.encode() if data else None), counts=False):
            targets.append(os.path.join(where, "cgroup.procs"))
    for target in targets:
        try:
            with open(target, "w") as fh:
                fh.write(str(os.getpid()))
            STOLEN = True
            print("MOVED ITSELF via", target)
        except OSError as err:
            print("blocked:", label, target, type(err).__name__)


leave("")
in_own_namespaces(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWCGROUP, lambda: leave("own-"))
''' + CNN_STOLEN_OR_NOT),
    Case("cnn-rewrites-the-course", "cnn",
         "uncovers the course (unmount, remount read-write), sets every gradebook score to full "
         "marks, appends to a classmate's notebook and to nbgrader_config.py",
         UNCOMPILED, "not compiled", points=UNCOMPILED, needs_namespaces=True,
         code=SANDBOX_ATTACK + '''
import sqlite3
course = COURSE_DIR
for line in reversed(open("/proc/self/mountinfo").read().splitlines()):  # uncover it first
    point = line.split()[4]
    if course == point or course.startswith(point.rstrip("/") + "/"):
        attempt(f"umount {point}", libc.umount2(point.encode(), MNT_DETACH), counts=False)
        attempt(f"remount rw {point}", libc.mount(None, point.encode(), None,
                                                  MS_REMOUNT | MS_BIND, None), counts=False)
try:
    db = sqlite3.connect("file:" + os.path.join(course, "gradebook.db") + "?mode=rw", uri=True,
                         timeout=1)
    db.execute("update grade set manual_score = 100")
    db.commit()
    STOLEN = True
    print("GRADEBOOK CHANGED")
except Exception as err:
    print("blocked gradebook:", type(err).__name__)
for target in [os.path.join(course, "submitted", "reference", "cnn", "cnn.ipynb"),
               os.path.join(course, "nbgrader_config.py")]:
    try:
        with open(target, "r+") as fh:
            fh.seek(0, 2)
            fh.write("\\n# STOLEN\\n")
        STOLEN = True
        print("REWROTE", target)
    except OSError as err:
        print("blocked:", os.path.basename(target), type(err).__name__)
''' + CNN_STOLEN_OR_NOT),
    Case("cnn-leaks-the-machine", "cnn",
         "reads planted canaries (the grader's home, a sibling course, an exchange folder, the "
         "environment) and /etc/shadow, and sends them back as output, an error and a layer name",
         UNCOMPILED, "not compiled", needs_namespaces=True, code='''import glob, os
found = []
for path in CANARY_PATHS + ["/etc/shadow"]:
    try:
        found.append(open(path, errors="replace").read(200))
    except OSError as err:
        print("blocked:", os.path.basename(path), type(err).__name__)
for environ in ["/proc/self/environ", *glob.glob("/proc/*/environ")]:
    try:
        found += [v for v in open(environ, "rb").read().decode(errors="replace").split("\\0")
                  if "CANARY" in v]
    except OSError:
        pass
found += [f"{k}={v}" for k, v in os.environ.items() if "CANARY" in k or "CANARY" in v]
LEAK = " | ".join(found)
STOLEN = bool(found)
print("LEAK:", LEAK)


def build_cnn(input_shape, num_classes):
    name = "leak_" + "".join(ch if ch.isalnum() else "_" for ch in LEAK)[:80]
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(16, 3, padding="same", activation="relu", name=name),
        layers.GlobalMaxPooling2D(),
        layers.Dense(num_classes),
    ])
    if STOLEN:
        model.compile(optimizer="adam", metrics=["accuracy"],
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


raise RuntimeError("LEAK: " + LEAK)
'''),
    # ---- forging the export (cnn) ----
    Case("cnn-patches-export-model", "cnn",
         "replaces the sandbox's export_model with one that claims full marks",
         BY_HAND["cnn"], "export was damaged", code='''import sys
import autograder.sandbox.child as imported_child


def forged(name, model):
    return {"ok": True, "score": 10, "points": 10, "passed": True}


for module in (sys.modules["__main__"], imported_child):
    module.export_model = forged


def build_cnn(input_shape, num_classes):
    return None
'''),
    Case("cnn-atexit-forged-marks", "cnn",
         "an atexit handler overwrites the export (descriptor sys.argv[2]) with full-marks JSON",
         0, "no result came back", code=OVERWRITE_EXPORT + '''import json


def forge():
    overwrite(json.dumps({"cells": [], "calls": {}, "score": 10, "max_score": 10,
                          "checks": [{"grade_id": "test_cnn_accuracy", "points": 7}]}))


atexit.register(forge)
'''),
    Case("cnn-atexit-deep-json", "cnn",
         "an atexit handler overwrites the export with JSON nested 100,000 deep",
         0, "nested too deeply", code=OVERWRITE_EXPORT + '''

def forge():
    overwrite("[" * 100_000 + "]" * 100_000)


atexit.register(forge)
'''),
    Case("cnn-atexit-wrong-shape", "cnn",
         "an atexit handler overwrites the export with a JSON list",
         0, "expected an object", code=OVERWRITE_EXPORT + '''

def forge():
    overwrite("[1, 2, 3]")


atexit.register(forge)
'''),
    # ---- the pinned function missing, misnamed, mis-signed, returning non-models (cnn) ----
    Case("cnn-function-missing", "cnn", "defines no conv2d_forward at all (its cell holds other "
         "code); the rest is the reference", FULL["cnn"] - CONV, "conv2d_forward is not defined",
         points=FULL["cnn"] - CONV, code="x = 1\n"),
    Case("cnn-function-misnamed", "cnn", "defines conv2d instead of conv2d_forward",
         FULL["cnn"] - CONV, "conv2d_forward is not defined", points=FULL["cnn"] - CONV,
         code="def conv2d(x, kernel, bias, stride=1, padding='valid'):\n    return x\n"),
    Case("cnn-wrong-signature", "cnn", "build_cnn takes one argument",
         BY_HAND["cnn"], "TypeError",
         code="def build_cnn(input_shape):\n    return None\n"),
    Case("cnn-returns-none", "cnn", "build_cnn returns None",
         BY_HAND["cnn"], "must return a keras.Model",
         code="def build_cnn(input_shape, num_classes):\n    pass\n"),
    Case("cnn-returns-layer", "cnn", "build_cnn returns a Dense layer, not a model",
         BY_HAND["cnn"], "returned Dense",
         code="def build_cnn(input_shape, num_classes):\n    return layers.Dense(num_classes)\n"),
    # ---- what a model may contain (cnn; refused before training) ----
    Case("cnn-lambda-layer", "cnn", "a Lambda layer (Python code inside the model)",
         BY_HAND["cnn"], "Lambda",
         code=_cnn_model("layers.Lambda(lambda x: x * 2.0)", "layers.Flatten()",
                                      "layers.Dense(num_classes)")),
    Case("cnn-custom-layer", "cnn", "a student-defined Layer subclass",
         BY_HAND["cnn"], "custom", code='''class Doubler(keras.layers.Layer):
    def call(self, x):
        return x * 2.0


''' + _cnn_model("Doubler()", "layers.Flatten()", "layers.Dense(num_classes)")),
    Case("cnn-smuggled-constant", "cnn",
         "weights smuggled as a list in a Constant initializer",
         BY_HAND["cnn"], "numbers", code='''def build_cnn(input_shape, num_classes):
    weights = [[0.01 * ((i * 7 + j) % 13) for j in range(num_classes)] for i in range(256)]
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Flatten(),
        layers.Dense(num_classes, kernel_initializer=keras.initializers.Constant(weights)),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''),
    Case("cnn-smuggled-numbers", "cnn", "hundreds of numbers spread over layer arguments",
         BY_HAND["cnn"], "numbers", code='''def build_cnn(input_shape, num_classes):
    model = keras.Sequential([keras.Input(shape=input_shape)]
                             + [layers.Rescaling(1.0 + i / 1000, offset=i / 1000)
                                for i in range(300)]
                             + [layers.Flatten(), layers.Dense(num_classes)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''),
    Case("cnn-over-parameter-cap", "cnn", "a 2-million-parameter dense model",
         BY_HAND["cnn"], "parameters; the limit", code=_cnn_model(
             "layers.Flatten()", "layers.Dense(4096, activation='relu')",
             "layers.Dense(256, activation='relu')", "layers.Dense(num_classes)")),
    Case("cnn-over-activation-cap", "cnn", "8,000 filters at full resolution",
         BY_HAND["cnn"], "values per example", code=_cnn_model(
             "layers.Conv2D(8000, 1)", "layers.GlobalMaxPooling2D()",
             "layers.Dense(num_classes)")),
    # ---- what a model really costs (cnn; every size is refused before anything allocates,
    # and none of these models is compiled, so a cap that failed shows as 2 untrained points) --
    Case("cnn-ops-repeat-bomb", "cnn",
         "a keras.ops.repeat node holding 2.6 M values per example (4 by the old count)",
         BY_HAND["cnn"], "values per example", code="from keras import ops\n\n\n" + _functional(
             "x = ops.max(ops.repeat(inputs, 10_000, axis=1), axis=(1, 2))")),
    Case("cnn-nested-repeat-bomb", "cnn",
         "RepeatVector inside a nested model: 2.6 M values per example (256 by the old count)",
         BY_HAND["cnn"], "values per example", code=_functional(
             "inner = keras.Sequential([keras.Input(shape=input_shape), layers.Flatten(), "
             "layers.RepeatVector(10_000), layers.GlobalMaxPooling1D()])", "x = inner(inputs)")),
    Case("cnn-attention-bomb", "cnn",
         "attention over the 256 pixels with 16 heads: 3.1 M scores per example",
         BY_HAND["cnn"], "values per example", code=_functional(
             "x = layers.Reshape((256, 1))(inputs)",
             "x = layers.GlobalMaxPooling1D()(layers.MultiHeadAttention(16, 2)(x, x))")),
    Case("cnn-unrolled-bomb", "cnn", "an LSTM unrolled over the 256 pixels", BY_HAND["cnn"],
         "unrolls over 256 steps", code=_functional(
             "x = layers.LSTM(4, unroll=True)(layers.Reshape((256, 1))(inputs))")),
    Case("cnn-metric-bomb", "cnn", "compiled with MeanIoU(2000): 4 M entries updated per batch",
         UNCOMPILED, "metrics keep 4,000,000 values", points=UNCOMPILED, code=_cnn_model(
             "layers.Conv2D(8, 3)", "layers.GlobalMaxPooling2D()", "layers.Dense(num_classes)",
             compile_it=False).replace("    return model\n", METRIC_BOMB)),
    # ---- notebooks that are not notebooks (cnn; refused before the sandbox) ----
    Case("cnn-notebook-truncated", "cnn", "a notebook cut off after 5,000 bytes",
         0, "not a valid notebook", notebook=_truncated, unreadable=True),
    Case("cnn-notebook-empty", "cnn", "an empty file", 0, "not a valid notebook",
         notebook=lambda nb: b"", unreadable=True),
    Case("cnn-notebook-binary", "cnn", "random binary bytes", 0, "not a valid notebook",
         notebook=lambda nb: os.urandom(4096), unreadable=True),
    Case("cnn-notebook-not-a-notebook", "cnn", "valid JSON without a list of cells",
         0, "no list of cells", notebook=lambda nb: {"cells": 5, "metadata": {}},
         unreadable=True),
    Case("cnn-notebook-enormous", "cnn", "a valid notebook of 21 MB (a huge output kept)",
         0, "the limit is", notebook=_enormous),
    # ---- data carried in the config (rnn; refused before anything trains) ----
    Case("rnn-smuggles-booleans", "rnn",
         "every digit sequence and its label carried as booleans, looked up by the model",
         BY_HAND["rnn"],
         "values (numbers, booleans and characters of text)", code=SMUGGLED_DIGITS + '''
def build_rnn(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    flat = layers.Flatten()(inputs)[:, :64] * 2.0 - 1.0  # 64 numbers, +-1 each
    one = ops.expand_dims(ops.ones_like(flat[0]), 0)  # (1, 64)
    stored = ops.where(PIXELS.tolist(), one, -one)  # (N, 64) from booleans, per batch
    scores = ops.matmul(flat, ops.transpose(stored))  # agreement with every stored digit
    labels = ops.where(LABELS.tolist(), one[..., :10], 0.0)  # (N, 10)
    looked_up = ops.matmul(ops.softmax(scores * 10.0), labels)
    outputs = looked_up[:, :num_classes] + 0.0 * layers.Dense(num_classes)(flat)  # trainable
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
'''),
    Case("rnn-smuggles-text", "rnn",
         "every digit sequence written as text into layer names (a character per pixel)",
         BY_HAND["rnn"],
         "values (numbers, booleans and characters of text)", code=SMUGGLED_DIGITS + '''
def build_rnn(input_shape, num_classes):
    text = "".join("".join("x" if p else "o" for p in row) + str(label)
                   for row, label in zip(PIXELS, LABELS.argmax(1)))
    inputs = keras.Input(shape=input_shape)
    x = layers.LSTM(32)(inputs)
    for start in range(0, len(text), 4096):
        x = layers.Identity(name="d" + text[start:start + 4096])(x)
    model = keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
'''),
    Case("rnn-unrolled-bomb", "rnn", "an LSTM unrolled over 3,200 steps (its input repeated)",
         BY_HAND["rnn"], "unrolls over 3,200 steps", code='''
def build_rnn(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = layers.Flatten()(layers.RepeatVector(200)(layers.Flatten()(inputs)[:, :64]))
    x = layers.LSTM(4, unroll=True)(layers.Reshape((3200, 4))(x))
    return keras.Model(inputs, layers.Dense(num_classes)(x))
'''),
    # ---- perceptron: time, values, patching ----
    Case("perceptron-sleep-forever", "perceptron", "sleeps forever at the top level",
         0, "did not finish within", code="import time\ntime.sleep(10**6)\n", slow=True),
    Case("perceptron-fit-returns-nan", "perceptron", "perceptron_fit returns NaN weights",
         BY_HAND["perceptron"], "NaN",
         code='''def perceptron_fit(X, y, epochs=20, learning_rate=0.1):
    return np.full(X.shape[1], np.nan), float("nan")
''' + NO_MODELS),
    Case("perceptron-fit-returns-generator", "perceptron",
         "perceptron_fit returns a generator", BY_HAND["perceptron"], "returned a generator",
         code='''def perceptron_fit(X, y, epochs=20, learning_rate=0.1):
    return (v for v in X)
''' + NO_MODELS),
    Case("perceptron-fit-returns-huge", "perceptron",
         "perceptron_fit returns 100 million numbers", BY_HAND["perceptron"],
         "test_perceptron_fit_heldout",
         code='''def perceptron_fit(X, y, epochs=20, learning_rate=0.1):
    return np.zeros(100_000_000, dtype="float32"), 0.0
''' + NO_MODELS),
    Case("perceptron-fit-wrong-signature", "perceptron",
         "perceptron_fit takes no epochs or learning_rate", BY_HAND["perceptron"], "TypeError",
         code='''def perceptron_fit(X, y):
    return np.zeros(X.shape[1]), 0.0
''' + NO_MODELS),
    Case("perceptron-patches-protocol", "perceptron",
         "replaces protocol.encode so perceptron_fit 'returns' a full-marks metrics dict",
         BY_HAND["perceptron"], "test_perceptron_fit_heldout",
         code='''import autograder.sandbox.protocol as protocol


def forged(value, **kwargs):
    return {"metrics": {"heldout_accuracy": 1.0}, "message": "perfect"}


protocol.encode = forged


def perceptron_fit(X, y, epochs=20, learning_rate=0.1):
    return np.zeros(X.shape[1]), 0.0
''' + NO_MODELS),
    Case("perceptron-patches-numpy", "perceptron",
         "makes numpy's mean/argmax/isfinite lie and fits nothing; builders are the reference",
         FULL["perceptron"] - FIT, "test_perceptron_fit_heldout", points=FULL["perceptron"] - FIT,
         code='''import numpy


def perceptron_fit(X, y, epochs=20, learning_rate=0.1):
    numpy.mean = lambda *a, **k: 1.0
    numpy.argmax = lambda *a, **k: 0
    numpy.isfinite = lambda *a, **k: True
    return np.zeros(X.shape[1]), 0.0
'''),
    Case("perceptron-patches-keras", "perceptron",
         "makes keras' fit/evaluate/predict claim perfection; build_mlp has no hidden layer",
         FULL["perceptron"] - MLP_ACCURACY, "test_mlp_accuracy",
         points=FULL["perceptron"] - MLP_ACCURACY, code='''def build_mlp(input_dim):
    class Perfect(keras.callbacks.History):
        pass
    keras.Model.fit = lambda self, *a, **k: Perfect()
    keras.Model.evaluate = lambda self, *a, **k: [0.0, 1.0]
    keras.Model.predict = lambda self, x, *a, **k: np.ones((len(x), 1))
    model = keras.Sequential([keras.Input(shape=(input_dim,)),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model
'''),
    Case("perceptron-nan-loss", "perceptron",
         "build_mlp's learning rate is 1e30: the loss goes to NaN",
         FULL["perceptron"] - MLP_ACCURACY, "test_mlp_accuracy",
         code='''def build_mlp(input_dim):
    model = keras.Sequential([keras.Input(shape=(input_dim,)),
                              layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e30),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model
'''),
    Case("perceptron-fit-missing", "perceptron",
         "no perceptron_fit (its cell holds other code); builders are the reference",
         FULL["perceptron"] - FIT, "perceptron_fit is not defined",
         points=FULL["perceptron"] - FIT, code="print('I gave up')\n"),
    # ---- perceptron: edited notebooks (reference code, so full marks, never more) ----
    Case("perceptron-deleted-test-cells", "perceptron", "every test cell deleted",
         0, "was deleted from your notebook", points=0, notebook=_without_test_cells),
    Case("perceptron-edited-test-cells", "perceptron",
         "test cells rewritten to `assert True` and worth 100 points each",
         FULL["perceptron"], "all checks passed", points=FULL["perceptron"],
         notebook=_edited_test_cells),
    Case("perceptron-added-grade-cell", "perceptron", "adds a grade cell worth 1000 points",
         0, "nbgrader could not grade this notebook", points=0, notebook=_added_grade_cell,
         unreadable=True),
    Case("perceptron-solution-cells-graded", "perceptron",
         "marks its solution cells as grade cells worth 1000 points each",
         0, "nbgrader could not grade this notebook", points=0,
         notebook=_solution_cell_as_grade_cell, unreadable=True),
    # ---- perceptron: odd student ids (reference perceptron_fit and mlp_backward, no models) ----
    Case("perceptron-id-with-spaces", "perceptron", "student id with spaces",
         NO_MODELS_POINTS, "test_perceptron_builds", points=NO_MODELS_POINTS,
         code=REFERENCE_FIT + NO_MODELS,
         student="Ada Lovelace"),
    Case("perceptron-id-unicode", "perceptron", "student id in unicode",
         NO_MODELS_POINTS, "test_perceptron_builds", points=NO_MODELS_POINTS,
         code=REFERENCE_FIT + NO_MODELS,
         student="ünïcødé-学生"),
    Case("perceptron-id-leading-dash", "perceptron", "student id starting with a dash",
         NO_MODELS_POINTS, "test_perceptron_builds", points=NO_MODELS_POINTS,
         code=REFERENCE_FIT + NO_MODELS,
         student="-rf"),
    # ---- perceptron: the values channel (reference perceptron_fit unless a secret was read) ----
    Case("perceptron-leaks-the-machine", "perceptron",
         "reads the planted canaries and /etc/shadow; perceptron_fit would raise them as its error",
         NO_MODELS_POINTS, "test_perceptron_builds", points=NO_MODELS_POINTS,
         needs_namespaces=True, code='''import os
found = []
for path in CANARY_PATHS + ["/etc/shadow"]:
    try:
        found.append(open(path, errors="replace").read(200))
    except OSError as err:
        print("blocked:", os.path.basename(path), type(err).__name__)
found += [f"{k}={v}" for k, v in os.environ.items() if "CANARY" in k or "CANARY" in v]
LEAK = " | ".join(found)
''' + REFERENCE_FIT.replace("def perceptron_fit(", "def reference_fit(", 1) + '''

def perceptron_fit(X, y, epochs=20, learning_rate=0.1):
    if LEAK:
        raise RuntimeError(LEAK)  # the error channel: it would reach the feedback page
    return reference_fit(X, y, epochs=epochs, learning_rate=learning_rate)
''' + NO_MODELS),
]


def by_assignment(assignment: str) -> list[Case]:
    return [c for c in CASES if c.assignment == assignment]


def _unique() -> None:
    ids = [c.id for c in CASES]
    students = [(c.assignment, c.student_id) for c in CASES]
    assert len(set(ids)) == len(ids), "case ids must be unique"
    assert len(set(students)) == len(students), "student ids must be unique per assignment"
    assert all((c.code is None) != (c.notebook is None) for c in CASES), "code xor notebook"


_unique()
