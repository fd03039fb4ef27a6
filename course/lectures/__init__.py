"""Lecture notebooks, kept as text: ``NN_topic.py`` files in jupytext's "percent" format.

A cell starts at a ``# %%`` line: ``# %% [markdown]`` cells hold markdown with each line prefixed
by "# "; any other ``# %%`` line starts a code cell. Lines before the first header are ignored.
:func:`write_notebooks` turns every source into an ``.ipynb`` without outputs, ready for Jupyter;
:mod:`course.lectures.execute` runs them and keeps their outputs (notebooks and HTML pages).
"""
from __future__ import annotations

from pathlib import Path

import nbformat

LECTURES_DIR = Path(__file__).resolve().parent

LECTURES: list[tuple[str, str, str]] = [
    ("01_perceptron", "The perceptron",
     "Rosenblatt's threshold neuron and rule, the XOR wall, and what a hidden layer adds."),
    ("02_learning", "How networks learn",
     "Losses, optimizers, and backpropagation: by hand, by a small scalar autograd, and by Keras."),
    ("03_cnn", "Convolutional networks",
     "Convolution by loops and by Keras, receptive fields and pooling, and shapes in new places."),
    ("04_rnn", "Recurrent networks",
     "Hidden state, vanishing and exploding gradients measured, amnesia, LSTM and GRU."),
    ("05_transformer", "Attention and the transformer",
     "Attention as a soft lookup, scaling and masks, positions, a transformer block and a GRU."),
    ("06_gan", "Generative adversarial networks",
     "The minimax game and the non-saturating loss, a GAN on points in the plane, mode collapse."),
    ("07_practice", "Deep learning in practice",
     "Backends, GPUs, data (and more of it), trees on tables, and tuning with keras-tuner."),
]

MARKDOWN_HEADER = "# %% [markdown]"
CELL_HEADER = "# %%"


def source_path(stem: str) -> Path:
    """The text source of lecture ``stem``, e.g. ``source_path("03_cnn")``."""
    known = [s for s, _, _ in LECTURES]
    if stem not in known:
        raise ValueError(f"unknown lecture {stem!r}: expected one of {', '.join(known)}")
    return LECTURES_DIR / f"{stem}.py"


def _cells(text: str) -> list[tuple[str, list[str]]]:
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith(CELL_HEADER):
            kind = "markdown" if line.strip() == MARKDOWN_HEADER else "code"
            cells.append((kind, []))
        elif cells:
            kind, lines = cells[-1]
            if kind == "markdown":
                line = line[2:] if line.startswith("# ") else line.lstrip("#")
            lines.append(line)
    return cells


def to_notebook(stem: str) -> nbformat.NotebookNode:
    """Lecture ``stem`` as a notebook with no outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.language_info = {"name": "python"}
    for kind, lines in _cells(source_path(stem).read_text(encoding="utf-8")):
        body = "\n".join(lines).strip("\n")
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(new(body))
    return nb


def write_notebooks(out_dir: Path) -> list[Path]:
    """Write every lecture as ``out_dir/<stem>.ipynb``; returns the paths in course order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, _, _ in LECTURES:
        path = out_dir / f"{stem}.ipynb"
        nbformat.write(to_notebook(stem), path)
        paths.append(path)
    return paths
