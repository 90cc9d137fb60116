"""Pictures of a dataset, for ``minicompress data show``: image grids, scatter plots, tables.

Figures are made with ``matplotlib.figure.Figure`` directly (not ``pyplot``), so no global
figure state is touched and no display is needed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def save_image_grid(x, y, path, *, classes, per_class=10, title="") -> Path:
    """One row per class, holding that class's first ``per_class`` images, labelled.

    Parameters
    ----------
    x : np.ndarray, float, (n, c, h, w)
        Images in [0, 1]; c = 1 (grey) or 3 (colour).
    y : np.ndarray of int, (n,)
    path : str or os.PathLike
        Output file; the format follows the extension (.png, .pdf, .svg, ...).
    classes : sequence of str
        Name of each class, shown at the start of its row.
    """
    fig = Figure(figsize=(per_class * 0.7 + 1.2, len(classes) * 0.7 + 0.5))
    axes = fig.subplots(len(classes), per_class, squeeze=False)
    for label, row in enumerate(axes):
        examples = np.flatnonzero(y == label)[:per_class]
        for column, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            if column < len(examples):
                image = x[examples[column]].transpose(1, 2, 0)  # (h, w, c) for imshow
                if image.shape[2] == 1:
                    ax.imshow(image[:, :, 0], cmap="gray", vmin=0, vmax=1)
                else:
                    ax.imshow(image.clip(0, 1))
        row[0].set_ylabel(classes[label], rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=100)
    return Path(path)


def save_scatter(x, y, path, *, title="") -> Path:
    """A 2-D two-class dataset as a scatter plot, x: (n, 2), y: (n,) of 0/1."""
    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.subplots()
    for label, marker in ((0, "o"), (1, "x")):
        points = x[y == label]
        ax.scatter(points[:, 0], points[:, 1], s=12, marker=marker, label=f"class {label}")
    ax.set_aspect("equal")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title)
    fig.savefig(path, dpi=100)
    return Path(path)


def save_truth_table(x, y, path, *, input_names, title="") -> Path:
    """A Boolean task's patterns as rows of black (0) and white (1) cells, target last."""
    table = np.column_stack([x, y])  # (n_patterns, n_inputs + 1)
    fig = Figure(figsize=(0.4 * table.shape[1] + 1.5, 0.16 * table.shape[0] + 1.2))
    ax = fig.subplots()
    ax.imshow(table, cmap="gray", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    ax.axvline(x.shape[1] - 0.5, color="red", linewidth=2)  # inputs | target
    ax.set_xticks(range(table.shape[1]), [*input_names, "y"])
    ax.set_yticks([])
    ax.set_ylabel(f"{table.shape[0]} patterns")
    ax.set_title(title)
    fig.savefig(path, dpi=100)
    return Path(path)
