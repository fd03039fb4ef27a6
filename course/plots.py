"""Plots where a picture beats numbers: learning curves and confusion matrices.

Functions return a matplotlib Figure; :func:`to_png` turns one into PNG bytes for feedback pages.
"""
from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np


def learning_curves(history: dict[str, list[float]], *, title: str = "Learning curves",
                    threshold: float | None = None, metric: str = "accuracy"):
    """Loss (left) and ``metric`` (right) per epoch, train and validation; optional pass line."""
    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(9, 3.2))
    for key, ax in (("loss", ax_loss), (metric, ax_metric)):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = history.get(prefix + key)
            if values:
                label = ("validation " if prefix else "train ") + key
                ax.plot(range(1, len(values) + 1), values, style, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    if threshold is not None:
        ax_metric.axhline(threshold, color="green", lw=1, ls=":", label=f"pass ({threshold:.2f})")
    for ax in (ax_loss, ax_metric):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Counts: row = true class, column = predicted class. A model with more outputs than the
    task has classes can predict an id past them: the matrix grows to hold it (those columns
    are always wrong), rather than failing."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    n = max([num_classes, *(int(y.max()) + 1 for y in (y_true, y_pred) if y.size)])
    matrix = np.zeros((n, n), dtype=int)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def confusion_figure(matrix, *, title: str = "Confusion matrix (test set)", labels=None):
    """A confusion matrix as a heat map with counts in the cells."""
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    labels = labels if labels is not None else [str(i) for i in range(n)]
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), labels)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = matrix.max() or 1
    for i in range(n):
        for j in range(n):
            if matrix[i, j]:
                color = "white" if matrix[i, j] > top / 2 else "black"
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7, color=color)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def image_grid(images, *, ncols: int = 10, title: str | None = None, labels=None):
    """A grid of (H, W) or (H, W, 1) images in [0, 1]."""
    images = np.asarray(images)
    n = len(images)
    nrows = max(1, int(np.ceil(n / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.9, nrows * 0.9))
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i].squeeze(), cmap="gray_r", vmin=0, vmax=1)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def to_png(fig) -> bytes:
    """The figure as PNG bytes; closes it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def loss_curves(history: dict[str, list[float]], *, x_key: str = "step",
                title: str = "Losses"):
    """Every curve in ``history`` except ``x_key``, against ``x_key`` (or the index)."""
    fig, ax = plt.subplots(figsize=(6, 3))
    xs = history.get(x_key)
    for key, values in history.items():
        if key == x_key or not values:
            continue
        ax.plot(xs if xs and len(xs) == len(values) else range(len(values)), values, label=key)
    ax.set_xlabel(x_key)
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def heatmaps(matrices: dict, *, xlabel: str = "", ylabel: str = "", title: str | None = None):
    """Matrices side by side (a missing one shows as 'none'), on one colour scale."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.4 * len(matrices), 3.2))
    for ax, (name, matrix) in zip(np.atleast_1d(axes), matrices.items()):
        if matrix is None:
            ax.text(0.5, 0.5, "none", ha="center", va="center")
            ax.axis("off")
        else:
            image = ax.imshow(np.asarray(matrix, dtype=float), cmap="viridis", vmin=0, vmax=1)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            fig.colorbar(image, ax=ax, fraction=0.046)
        ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
