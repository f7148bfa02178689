"""predictions.npz: a classification run's test predictions, the one owner of that file format.

numpy only, so training writes the file without plotting code and plots read it without torch.
Arrays: `labels` and `predicted` (int32, one per test example), `images` (uint8, the first k test
images as (k, H, W)) and `class_names` (one string per class).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dltool.errors import UsageError
from dltool.files import atomic_write

ARRAYS = ("labels", "predicted", "images", "class_names")


@dataclass(frozen=True)
class Predictions:
    """The arrays of a predictions.npz, checked on loading."""

    labels: np.ndarray
    predicted: np.ndarray
    images: np.ndarray
    class_names: np.ndarray

    def names(self) -> list[str]:
        """A name for every class index that occurs: the stored names, then the bare index for any beyond them."""
        count = int(max(self.labels.max(), self.predicted.max())) + 1
        names = [str(name) for name in self.class_names]
        return names + [str(i) for i in range(len(names), count)]


def save_predictions(path: Path, labels, predicted, images, class_names: Sequence[str]) -> Path:
    """Write predictions.npz: every test label and prediction, the first test images, class names.

    labels, predicted: integer arrays of equal length (all test examples); images: the first k test
    images as (k, H, W) or (k, 1, H, W), uint8 or floats in [0, 1] (stored as uint8); class_names:
    one string per class. Written atomically.
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
    arrays = {"labels": labels, "predicted": predicted, "images": images, "class_names": names}
    atomic_write(path, lambda handle: np.savez_compressed(handle, **arrays))
    return path


def load_predictions(path: Path) -> Predictions:
    """A predictions.npz, checked; a UsageError that names the file if it is missing or malformed."""
    try:
        with np.load(path, allow_pickle=False) as data:
            predictions = Predictions(*(data[key] for key in ARRAYS))
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist (finished classification runs write one)") from None
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"{path} is unreadable ({exc})") from None
    labels, predicted, images = predictions.labels, predictions.predicted, predictions.images
    if labels.ndim != 1 or labels.shape != predicted.shape or len(labels) == 0 or images.ndim != 3:
        raise UsageError(
            f"{path}: expected 1-d labels and predicted of equal length and (k, H, W) images, got "
            f"{labels.shape}, {predicted.shape}, {images.shape}"
        )
    if min(labels.min(), predicted.min()) < 0:
        raise UsageError(f"{path}: class indices must be >= 0")
    return predictions
