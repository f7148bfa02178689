"""A run's stored metric records as arrays, per split: what every curve of a run is cut from."""

from __future__ import annotations

import numpy as np

from dltool.errors import UsageError
from dltool.store.run import RunSnapshot

SPLITS = ("train", "valid", "test", "full")  # "valid": data.validation; its runs' "test" is one final point
SPLIT_LABELS = {"train": "train (epoch mean)", "valid": "validation", "test": "test", "full": "whole data set"}
FIELDS = ("step", "epoch", "examples", "time", "loss", "acc", "lr")
# Larger values cannot be drawn: matplotlib's axis spans and ticks overflow float64 near 1e308
MAX_PLOTTED = 1e300

Columns = dict[str, np.ndarray]  # field -> float array (NaN where a record has null), one per split


def load_columns(snapshot: RunSnapshot) -> dict[str, Columns]:
    """The run's records as arrays per split, in recorded order; a UsageError if there are none yet."""
    if not snapshot.metrics:
        raise UsageError(
            f"run {snapshot.id} has no metrics yet (status: {snapshot.shown_status}); "
            "its plots can be drawn once metrics.jsonl has records"
        )
    by_split: dict[str, list[dict]] = {}
    for record in snapshot.metrics:
        by_split.setdefault(str(record.get("split")), []).append(record)
    return {split: {field: _column(rows, field) for field in FIELDS} for split, rows in by_split.items()}


def _column(rows: list[dict], field: str) -> np.ndarray:
    # the reader has checked every value is a number or null (dltool.store.metrics): None -> NaN
    values = np.array([row.get(field) for row in rows], dtype=float)
    values[np.abs(values) > MAX_PLOTTED] = np.nan  # read as missing, like a non-finite value
    return values


def series(columns: Columns, x: str, metric: str, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """x and metric values of one split, dropping records where either is missing or non-finite."""
    xs, ys = columns[x], columns[metric]
    keep = np.isfinite(xs) & np.isfinite(ys)
    if positive:
        keep &= ys > 0
    return xs[keep], ys[keep]


def lr_series(splits: dict[str, Columns], x: str, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The learning rate against x from every record, one point per step (splits repeat steps)."""
    steps = np.concatenate([columns["step"] for columns in splits.values()])
    xs = np.concatenate([columns[x] for columns in splits.values()])
    lrs = np.concatenate([columns["lr"] for columns in splits.values()])
    keep = np.isfinite(steps) & np.isfinite(xs) & np.isfinite(lrs)
    if positive:
        keep &= lrs > 0
    steps, xs, lrs = steps[keep], xs[keep], lrs[keep]
    _, first = np.unique(steps, return_index=True)  # sorted by step
    return xs[first], lrs[first]


def eval_split(snapshot: RunSnapshot, splits: dict[str, Columns]) -> str:
    """The split a run is judged on: the summary's, else valid, test or full, whichever it has."""
    if snapshot.eval_split in splits:
        return snapshot.eval_split
    return next((split for split in ("valid", "test", "full", "train") if split in splits), next(iter(splits)))


def divergence_note(snapshot: RunSnapshot) -> str:
    """'diverged at step N' for a diverged run, '' for any other."""
    if snapshot.status.get("status") != "diverged":
        return ""
    step = snapshot.status.get("diverged_at_step")
    return f"diverged at step {step}" if step is not None else "diverged"
