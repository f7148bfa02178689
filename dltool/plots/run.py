"""A run's own pictures, drawn from its stored files only (a RunSnapshot, plus predictions.npz for
classification runs); torch is never imported, so plotting works and starts fast without it.

Each picture has a `build_*` function that returns the Figure (tests inspect its axes); the
`plot_*` and `write_*` functions save them, in the format their file extension names.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dltool.plots.axes import XAxis
from dltool.plots.figure import (
    RUN_FORMATS,
    auto_log,
    draw_curve,
    finish_axes,
    lr_limits,
    mark_divergence,
    new_figure,
    save_figure,
    sparse_marker,
)
from dltool.plots.labels import run_title
from dltool.plots.overlay import build_overlay
from dltool.plots.predictions import build_prediction_figures
from dltool.plots.records import (
    SPLIT_LABELS,
    SPLITS,
    Columns,
    divergence_note,
    eval_split,
    load_columns,
    lr_series,
    series,
)
from dltool.store.run import RUN_FILES, Run, RunSnapshot

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def build_run_figures(snapshot: RunSnapshot) -> dict[str, Figure]:
    """The single-run pictures: 'loss' (all splits vs epoch), 'loss_examples' (the evaluation loss vs
    examples, for runs that evaluate every N examples), 'accuracy' (classification only), 'lr' (vs step)."""
    splits = load_columns(snapshot)
    figures = {"loss": build_loss(snapshot, splits)}
    if snapshot.config is not None and snapshot.config.train.eval_every_examples:  # the notes' every-100 curve
        figures["loss_examples"] = build_overlay(
            [snapshot], metric="loss", x="examples", split=eval_split(snapshot, splits)
        )
    if any(np.isfinite(columns["acc"]).any() for columns in splits.values()):
        figures["accuracy"] = build_accuracy(snapshot, splits)
    figures["lr"] = build_lr(snapshot, splits)
    return figures


def build_loss(snapshot: RunSnapshot, splits: dict[str, Columns]) -> Figure:
    fig, ax = new_figure()
    curves = []
    for split in sorted(splits, key=lambda s: SPLITS.index(s) if s in SPLITS else len(SPLITS)):
        xs, ys = series(splits[split], "epoch", "loss")
        if len(xs):
            curves.append((split, xs, ys))
    for split, xs, ys in sorted(curves, key=lambda c: -len(c[1])):  # dense curves underneath the markers
        draw_curve(ax, xs, ys, split, SPLIT_LABELS.get(split, split))
    log = auto_log(ax, [ys for _, _, ys in curves])
    if curves:
        split, xs, ys = max(curves, key=lambda c: c[1].max())
        mark_divergence(ax, divergence_note(snapshot), xs, ys)
    finish_axes(ax, "epoch", "loss (log scale)" if log else "loss", run_title(snapshot, "loss"))
    return fig


def build_accuracy(snapshot: RunSnapshot, splits: dict[str, Columns]) -> Figure:
    fig, ax = new_figure()
    for split in (s for s in ("train", "test") if s in splits):
        xs, ys = series(splits[split], "epoch", "acc")
        if len(xs):
            draw_curve(ax, xs, ys, split, SPLIT_LABELS[split])
    finish_axes(ax, "epoch", "accuracy (fraction correct)", run_title(snapshot, "accuracy"))
    return fig


def build_lr(snapshot: RunSnapshot, splits: dict[str, Columns]) -> Figure:
    fig, ax = new_figure()
    xs, lrs = lr_series(splits, "step")
    if len(xs):
        ax.plot(xs, lrs, marker=sparse_marker("o", len(xs)), markersize=4, label="learning rate")
    lr_limits(ax, lrs)
    finish_axes(ax, XAxis.step.label, "learning rate", run_title(snapshot, "learning rate"))
    return fig


def save_figures(figures: dict[str, Figure], out_dir: Path) -> list[Path]:
    """Each figure as <name>.png and <name>.svg in out_dir; the paths written."""
    return [
        save_figure(fig, Path(out_dir) / f"{name}{suffix}") for name, fig in figures.items() for suffix in RUN_FORMATS
    ]


def plot_run(snapshot: RunSnapshot, out_dir: Path) -> list[Path]:
    """loss, accuracy (classification runs) and lr pictures of one run, as PNG and SVG, into out_dir."""
    return save_figures(build_run_figures(snapshot), out_dir)


def write_snapshot_plots(snapshot: RunSnapshot) -> list[Path]:
    """Every picture of one run into its plots/ folder (PNG and SVG), the classification ones where the
    run stored its test predictions; the paths written."""
    out_dir = snapshot.run.path(RUN_FILES.plots)
    paths = plot_run(snapshot, out_dir)
    if snapshot.run.path(RUN_FILES.predictions).exists():
        paths += save_figures(build_prediction_figures(snapshot), out_dir)
    return paths


def write_run_plots(run: Run) -> list[Path]:
    """write_snapshot_plots of the run's files as they are now (the end of training calls this)."""
    return write_snapshot_plots(run.snapshot())
