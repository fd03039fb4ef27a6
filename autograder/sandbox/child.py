"""Runs inside the sandbox: execute a submission's cells, make the grader's calls, export JSON.

Started by :mod:`autograder.sandbox.runner` as ``python -m autograder.sandbox.child REQUEST
EXPORT STATUS`` (three inherited file descriptors: the request to read, where the export and
the CPU-limit marker go) in its working directory, inside the jail where the machine allows
(:mod:`.jail`: uid 65534, no capabilities, a file view of only what a notebook needs). It only
*exports data*: for each call the grader asked for, a builder's Keras config and compile config
or the values a function returned on the grader's inputs, and per-cell output or errors. Nothing it writes is
trusted: the grader re-validates all of it.
"""
from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import resource
import signal
import sys
import traceback

import numpy as np

from . import protocol

CPU_GRACE = 5  # seconds between SIGXCPU (reported) and the hard limit's SIGKILL
CPU_MARKER = "cpu-limit-exceeded"  # written to the status descriptor at the CPU limit


def _address_space_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def apply_limits(limits: dict) -> None:
    """CPU seconds, address space, processes, file sizes and open files for this process.

    The address-space cap is ``memory_mb`` *on top of* what the backend already reserved when
    it was imported: that reservation grows with the machine's core count (JAX on 16 cores
    reserves several GB it never touches), and it is not the student's doing."""
    def cap(which, value):
        soft, hard = resource.getrlimit(which)
        value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
        resource.setrlimit(which, (value, value))

    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + CPU_GRACE if hard == resource.RLIM_INFINITY
                                                 else min(cpu + CPU_GRACE, hard)))
    cap(resource.RLIMIT_AS, _address_space_bytes() + limits["memory_mb"] * 1024 * 1024)
    cap(resource.RLIMIT_NPROC, limits["processes"])
    cap(resource.RLIMIT_FSIZE, limits["file_mb"] * 1024 * 1024)
    cap(resource.RLIMIT_NOFILE, limits["open_files"])


class Tail(io.TextIOBase):
    """A text sink that keeps only its last ``limit`` characters: printing gigabytes costs
    time, never memory."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.size, self.dropped = limit, collections.deque(), 0, 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        self.parts.append(text[-self.limit:])
        self.size += len(self.parts[-1])
        while self.size > 2 * self.limit and len(self.parts) > 1:
            first = self.parts.popleft()
            self.size -= len(first)
            self.dropped += len(first)
        return len(text)

    def getvalue(self) -> str:
        kept = "".join(self.parts)
        cut = len(kept) - self.limit
        head = f"[... {self.dropped + max(cut, 0):,} characters of output dropped]\n"
        return (head if self.dropped or cut > 0 else "") + kept[-self.limit:]


def _student_traceback(err: BaseException) -> str:
    """The traceback limited to the student's own frames (cells), newest last."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith("<cell")]
    lines = traceback.format_list(frames) if frames else []
    return "".join(lines) + "".join(traceback.format_exception_only(type(err), err))


def run_cells(cells: list[dict], namespace: dict,
              output_chars: int = protocol.OUTPUT_CHARS) -> list[dict]:
    report = []
    for cell in cells:
        out = Tail(output_chars)
        entry = {"index": cell["index"], "grade_id": cell.get("grade_id"),
                 "skipped": cell.get("skipped", [])}
        try:
            code = compile(cell["source"], f"<cell {cell['index']}>", "exec")
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                exec(code, namespace)  # noqa: S102  (this process is the sandbox)
        except BaseException as err:  # SystemExit and KeyboardInterrupt too: report, go on
            entry["error"] = _student_traceback(err)[-output_chars:]
        entry["output"] = out.getvalue()
        report.append(entry)
    return report


def _tuples(value):
    """JSON lists become tuples: shapes are tuples in Keras (``input_shape=(16, 16, 1)``)."""
    return tuple(value) if isinstance(value, list) else value


def call_text(name: str, args: list, kwargs: dict) -> str:
    def shown(value):
        if isinstance(value, np.ndarray):
            return f"<array {value.shape} {value.dtype}>"
        return repr(value)

    parts = [shown(a) for a in args] + [f"{k}={shown(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _arguments(call: dict) -> tuple[list, dict]:
    """Builders get shapes as tuples; values challenges get NumPy arrays (tagged on the wire)."""
    decode = protocol.decode if call.get("export") == "values" else _tuples
    args = [decode(a) for a in call.get("args", [])]
    kwargs = {k: decode(v) for k, v in call.get("kwargs", {}).items()}
    return args, kwargs


def _call(call: dict, namespace: dict):
    """(True, what the function returned) or (False, a message for the student)."""
    name = call["function"]
    fn = namespace.get(name)
    if fn is None:
        return False, (f"{name} is not defined: expected a function named {name} in your "
                       "notebook (check the spelling and run its cell)")
    if not callable(fn):
        return False, f"{name} is a {type(fn).__name__}, not a function"
    args, kwargs = _arguments(call)
    try:
        return True, fn(*args, **kwargs)
    except BaseException as err:
        return False, (f"{call_text(name, args, kwargs)} raised an error:\n"
                       f"{_student_traceback(err)}")


@contextlib.contextmanager
def no_tensorflow_probe():
    """Keras' serializer asks whether TensorFlow is installed (importing it: seconds on JAX and
    PyTorch) to recognise TensorFlow shapes and dtypes. No such object exists unless something
    imported TensorFlow already, so while it is not imported the answer is no: the config is
    the same, without the import."""
    from keras.src.saving import serialization_lib

    probe = serialization_lib.tf
    if "tensorflow" in sys.modules or not hasattr(probe, "_available"):
        yield
        return
    known = probe._available
    probe._available = False
    try:
        yield
    finally:
        probe._available = known


def export_model(name: str, model) -> dict:
    """A returned model as its Keras config and compile config (JSON only)."""
    with no_tensorflow_probe():
        return _export_model(name, model)


def _export_model(name: str, model) -> dict:
    import keras

    if not isinstance(model, keras.Model):
        return {"ok": False, "error": f"{name} must return a keras.Model, but it returned "
                                      f"{type(model).__name__}: end it with `return model`"}
    try:
        config = keras.saving.serialize_keras_object(model)
        json.dumps(config)
    except BaseException as err:
        return {"ok": False, "error": f"the model from {name} cannot be saved as a config "
                                      f"({type(err).__name__}: {err}); use built-in layers"}
    compile_config = model.get_compile_config() if getattr(model, "compiled", False) else None
    try:
        json.dumps(compile_config)
    except TypeError as err:
        return {"ok": False, "error": f"the compile settings of {name}'s model cannot be exported "
                                      f"({err}); use built-in optimizers, losses and metrics"}
    return {"ok": True, "config": config, "compile_config": compile_config}


def run_call(call: dict, namespace: dict) -> dict:
    """Make one call the grader asked for and export its result as data."""
    ok, returned = _call(call, namespace)
    if not ok:
        return {"ok": False, "error": returned}
    if call.get("export") == "values":
        try:
            return {"ok": True, "value": protocol.encode(returned)}
        except BaseException as err:
            return {"ok": False, "error": f"{call['function']} returned a value the grader "
                                          f"cannot read ({type(err).__name__})"}
    return export_model(call["function"], returned)


def skip_training() -> None:
    """``model.fit`` does nothing here: the trusted trainer trains the exported model itself,
    so training in the notebook would only spend the sandbox's time limit."""
    import keras

    def fit(self, *args, **kwargs):
        print("(grading: model.fit skipped in the sandbox; the grader trains your model itself)")
        history = keras.callbacks.History()
        history.set_model(self)
        return history

    keras.Model.fit = fit


def prepare(threads: int) -> None:
    """What every sandbox needs before student code: thread counts, Keras and its backend, and
    ``model.fit`` skipped. The fork server's template does this once (:mod:`.zygote`)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    from course import runtime

    runtime.configure(threads=threads)
    import keras  # noqa: F401  (imported before the limits: the backend needs the room)

    skip_training()


def serve(request: dict, out_fd: int, status_fd: int) -> None:
    """Run ``request``'s cells under its limits, make the grader's calls, write the export."""
    def cpu_exceeded(signum, frame):  # the wrappers around this process hide the signal
        os.write(status_fd, CPU_MARKER.encode())
        os._exit(128 + signal.SIGXCPU)

    signal.signal(signal.SIGXCPU, cpu_exceeded)
    # Descriptors held back from the student's cells and released before the grader's calls:
    # cells that keep every descriptor the limit allows open must not leave Keras (which
    # aborts in C++ without one for /dev/urandom) or the export without any.
    reserve = [os.open(os.devnull, os.O_RDONLY) for _ in range(16)]
    apply_limits(request["limits"])
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    cells = run_cells(request["cells"], namespace, request["limits"]["output_chars"])
    for fd in reserve:
        with contextlib.suppress(OSError):
            os.close(fd)
    calls = {}
    for call in request["calls"]:
        with contextlib.redirect_stdout(Tail(1000)), contextlib.redirect_stderr(Tail(1000)):
            calls[call["key"]] = run_call(call, namespace)
    data = json.dumps({"cells": cells, "calls": calls}).encode("utf-8")
    os.ftruncate(out_fd, 0)  # whatever the cells wrote there is not the export
    os.lseek(out_fd, 0, os.SEEK_SET)
    view = memoryview(data)
    while view:
        view = view[os.write(out_fd, view):]


def read_request(request_fd: int) -> dict:
    with os.fdopen(request_fd, encoding="utf-8") as fh:
        return json.load(fh)


def main(request_fd: int, out_fd: int, status_fd: int) -> None:
    request = read_request(request_fd)
    prepare(request.get("threads", 1))
    serve(request, out_fd, status_fd)


if __name__ == "__main__":
    main(*(int(fd) for fd in sys.argv[1:4]))
