"""Run the lecture notebooks and keep what they show: an executed ``.ipynb`` and an HTML page each.

A reader can then see every printed number and plot without running anything. Each notebook runs
in a fresh Jupyter kernel whose environment picks the Keras backend (``KERAS_BACKEND``) and the
CPU thread count (one thread by default: small models gain nothing from more, and on a shared
machine extra threads mostly fight each other).
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import nbformat

from .. import runtime
from . import LECTURES, to_notebook

TIMEOUT_S = 300  # per cell; a lecture is meant to finish in well under two minutes
# Start-up chatter that TensorFlow's C++ logger writes to stderr even at TF_CPP_MIN_LOG_LEVEL=3:
# it says nothing about the lecture, so it is dropped from the saved outputs.
NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|I0000 |W0000 |E0000 |"
                   r"To enable the following instructions|\[IPKernelApp\] WARNING)")


def kernel_env(backend: str | None = None, threads: int | None = 1) -> dict[str, str]:
    """The environment for a lecture's kernel: this process's, plus backend and thread count."""
    env = dict(os.environ)
    if backend is not None:
        env["KERAS_BACKEND"] = backend
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if threads is not None:
        env.update(runtime.thread_env(threads, env))
    return env


def execute(stem: str, *, backend: str | None = None, threads: int | None = 1,
            workdir: Path | None = None, timeout: int = TIMEOUT_S):
    """Run lecture ``stem`` top to bottom in a fresh kernel; returns (notebook, seconds).

    Raises nbclient's ``CellExecutionError`` (naming the cell) if a cell fails, an ``assert``
    that pins one of the lecture's claims included.
    """
    return execute_notebook(to_notebook(stem), backend=backend, threads=threads,
                            workdir=workdir, timeout=timeout)


def execute_notebook(nb, *, backend: str | None = None, threads: int | None = 1,
                     workdir: Path | None = None, timeout: int = TIMEOUT_S):
    """Run notebook ``nb`` in place in a fresh kernel; returns (nb, seconds), as :func:`execute`."""
    from nbclient import NotebookClient

    workdir = Path(workdir or Path.cwd())
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    client.execute(env=kernel_env(backend, threads))  # env goes to the kernel's start
    seconds = time.perf_counter() - start
    _drop_noise(nb)
    return nb, seconds


def _drop_noise(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.outputs:
            if out.output_type == "stream" and out.name == "stderr":
                lines = [ln for ln in out.text.splitlines(keepends=True) if not NOISE.match(ln)]
                if not "".join(lines).strip():
                    continue
                out.text = "".join(lines)
            kept.append(out)
        cell.outputs = kept


def to_html(nb) -> str:
    """One self-contained HTML page (plots embedded as PNG) for an executed notebook."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    return body


def write_executed(out_dir: Path, stems: list[str] | None = None, *, backend: str | None = None,
                   threads: int | None = 1, html: bool = True, log=print) -> list[Path]:
    """Execute lectures (default: all, in course order) into ``out_dir``.

    Writes ``<stem>.ipynb`` with its outputs and, with ``html``, ``<stem>.html``; returns the
    paths written. ``log`` receives one line per lecture with the seconds it took.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem in stems or [s for s, _, _ in LECTURES]:
        nb, seconds = execute(stem, backend=backend, threads=threads, workdir=out_dir)
        path = out_dir / f"{stem}.ipynb"
        nbformat.write(nb, path)
        written.append(path)
        if html:
            page = out_dir / f"{stem}.html"
            page.write_text(to_html(nb), encoding="utf-8")
            written.append(page)
        used = backend or os.environ.get("KERAS_BACKEND", "tensorflow")
        log(f"{stem}: executed in {seconds:.1f} s ({used})")
    return written
