"""The classification pictures drawn from a run's stored test predictions: the confusion matrix and
the notes' prediction grid (predict_ch3)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dltool.plots.figure import blank_figure, new_figure, save_figure
from dltool.plots.labels import describe
from dltool.store.predictions import Predictions, load_predictions
from dltool.store.run import RUN_FILES, RunSnapshot

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def run_predictions(snapshot: RunSnapshot) -> Predictions:
    return load_predictions(snapshot.run.path(RUN_FILES.predictions))


def build_confusion(snapshot: RunSnapshot, predictions: Predictions | None = None) -> Figure:
    """Counts of (true, predicted) classes over the test set, with the overall accuracy in the title."""
    predictions = predictions if predictions is not None else run_predictions(snapshot)
    labels, predicted = predictions.labels.astype(np.int64), predictions.predicted.astype(np.int64)
    names = predictions.names()
    k = len(names)
    counts = np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)
    size = max(6.0, 0.5 * k + 2.5)
    fig, ax = new_figure(size + 1.0, size)
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8, label="test images")
    ax.set_xticks(range(k), names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if k <= 20:
        dark = counts > counts.max() / 2
        for (i, j), count in np.ndenumerate(counts):
            color = "white" if dark[i, j] else "black"
            ax.text(j, i, str(count), ha="center", va="center", fontsize=8 if k <= 10 else 6, color=color)
    accuracy = float((labels == predicted).mean())
    heading = f"confusion matrix · accuracy {accuracy:.4f} on {len(labels):,} test images"
    ax.set_title(f"{heading}\n{describe(snapshot.config) or snapshot.id}", fontsize=10)
    return fig


def build_prediction_grid(snapshot: RunSnapshot, predictions: Predictions | None = None, n: int = 18) -> Figure:
    """The notes' predict_ch3: the first n test images titled 'true / predicted'; mistakes in red."""
    predictions = predictions if predictions is not None else run_predictions(snapshot)
    images = predictions.images
    n = max(1, min(n, len(images), len(predictions.labels)))
    names = predictions.names()
    true, guess = predictions.labels[:n], predictions.predicted[:n]
    ncols = min(n, 9)
    nrows = -(-n // ncols)
    fig = blank_figure(1.3 * ncols, 1.55 * nrows + 0.5)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_axis_off()
    for ax, image, t, p in zip(axes, images, true, guess):
        wrong = t != p
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{names[t]}\n{names[p]}", fontsize=8, color="tab:red" if wrong else "black")
        for spine in ax.spines.values():
            spine.set_visible(bool(wrong))
            spine.set_color("tab:red")
            spine.set_linewidth(2)
    mistakes = int((true != guess).sum())
    heading = f"first {n} test images: true class / predicted class ({mistakes} wrong, in red)"
    fig.suptitle(f"{heading}\n{describe(snapshot.config) or snapshot.id}", fontsize=9)
    return fig


def plot_confusion(snapshot: RunSnapshot, out: Path) -> Path:
    return save_figure(build_confusion(snapshot), Path(out))


def plot_prediction_grid(snapshot: RunSnapshot, out: Path, n: int = 18) -> Path:
    return save_figure(build_prediction_grid(snapshot, n=n), Path(out))
