"""The classification pictures: test predictions stored with a run (numpy only), the confusion
matrix and the notes' prediction grid (predict_ch3) drawn from them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dltool.errors import UsageError
from dltool.plots.labels import describe
from dltool.plots.run import PREDICTIONS, blank_figure, new_figure, save_figure
from dltool.store.run import Run

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def save_predictions(path: Path, labels, predicted, images, class_names: Sequence[str]) -> Path:
    """Write predictions.npz: every test label and prediction, the first test images, class names.

    labels, predicted: integer arrays of equal length (all test examples); images: the first k test
    images as (k, H, W) or (k, 1, H, W), uint8 or floats in [0, 1] (stored as uint8); class_names:
    one string per class. Written atomically; numpy only, so the training code needs no plotting.
    """
    labels, predicted = np.asarray(labels).astype(np.int32), np.asarray(predicted).astype(np.int32)
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if labels.ndim != 1 or labels.shape != predicted.shape:
        raise ValueError(f"labels {labels.shape} and predicted {predicted.shape} must be 1-d and of equal length")
    if images.ndim != 3:
        raise ValueError(f"images must be (k, H, W) or (k, 1, H, W), got shape {images.shape}")
    if images.dtype != np.uint8:
        images = np.clip(np.rint(images.astype(np.float64) * 255), 0, 255).astype(np.uint8)
    names = np.array([str(name) for name in class_names], dtype=str)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:  # a file object: numpy would append .npz to a bare name
        np.savez_compressed(handle, labels=labels, predicted=predicted, images=images, class_names=names)
    os.replace(tmp, path)
    return path


def load_predictions(run: Run) -> dict[str, np.ndarray]:
    """predictions.npz of a run, checked; a UsageError that names the file if it is missing or malformed."""
    path = run.path(PREDICTIONS)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in ("labels", "predicted", "images", "class_names")}
    except FileNotFoundError:
        raise UsageError(f"run {run.id} has no {PREDICTIONS} (finished classification runs write one)") from None
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"{path} is unreadable ({exc})") from None
    labels, predicted, images = arrays["labels"], arrays["predicted"], arrays["images"]
    if labels.ndim != 1 or labels.shape != predicted.shape or len(labels) == 0 or images.ndim != 3:
        raise UsageError(
            f"{path}: expected 1-d labels and predicted of equal length and (k, H, W) images, got "
            f"{labels.shape}, {predicted.shape}, {images.shape}"
        )
    if min(labels.min(), predicted.min()) < 0:
        raise UsageError(f"{path}: class indices must be >= 0")
    return arrays


def class_names_of(predictions: dict[str, np.ndarray]) -> list[str]:
    count = int(max(predictions["labels"].max(), predictions["predicted"].max())) + 1
    names = [str(name) for name in predictions["class_names"]]
    return names + [str(i) for i in range(len(names), count)]


def build_confusion(run: Run, predictions: dict[str, np.ndarray] | None = None) -> Figure:
    """Counts of (true, predicted) classes over the test set, with the overall accuracy in the title."""
    predictions = predictions if predictions is not None else load_predictions(run)
    labels, predicted = predictions["labels"].astype(np.int64), predictions["predicted"].astype(np.int64)
    names = class_names_of(predictions)
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
    ax.set_title(f"{heading}\n{describe(run.config()) or run.id}", fontsize=10)
    return fig


def build_prediction_grid(run: Run, predictions: dict[str, np.ndarray] | None = None, n: int = 18) -> Figure:
    """The notes' predict_ch3: the first n test images titled 'true / predicted'; mistakes in red."""
    predictions = predictions if predictions is not None else load_predictions(run)
    images = predictions["images"]
    n = max(1, min(n, len(images), len(predictions["labels"])))
    names = class_names_of(predictions)
    true, guess = predictions["labels"][:n], predictions["predicted"][:n]
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
    fig.suptitle(f"{heading}\n{describe(run.config()) or run.id}", fontsize=9)
    return fig


def plot_confusion(run: Run, out: Path) -> Path:
    return save_figure(build_confusion(run), Path(out))


def plot_prediction_grid(run: Run, out: Path, n: int = 18) -> Path:
    return save_figure(build_prediction_grid(run, n=n), Path(out))
