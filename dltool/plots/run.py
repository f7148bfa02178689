"""A run's own pictures, drawn from its stored files only (a RunSnapshot, plus predictions.npz for
classification runs); torch is never imported, so plotting works and starts fast without it.

Each picture has a `build_*` function that returns the Figure (tests inspect its axes); the
`plot_*` and `write_*` functions save them, once per format asked for ('png', 'svg', 'pdf'): at the end
of training those of the run's config (plots.formats), PNG alone unless it asks for more.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dltool.config import PlotsSection
from dltool.plots.axes import PARTS, XAxis
from dltool.plots.figure import (
    auto_log,
    draw_curve,
    finish_axes,
    lr_limits,
    mark_divergence,
    new_figure,
    save_figure_formats,
    sparse_marker,
)
from dltool.plots.labels import run_title
from dltool.plots.overlay import build_overlay
from dltool.plots.predictions import build_confusion, build_prediction_grid
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
    examples, for runs that evaluate every N examples), 'accuracy' (classification only), 'lr' (vs step,
    for runs whose lr changed: a constant one is a flat line that says nothing; `dltool plot --metric lr`
    still draws it)."""
    splits = load_columns(snapshot)
    figures = {"loss": build_loss(snapshot, splits)}
    if snapshot.config is not None and snapshot.config.train.eval_every_examples:  # the notes' every-100 curve
        figures["loss_examples"] = build_overlay(
            [snapshot], metric="loss", x="examples", split=eval_split(snapshot, splits)
        )
    if any(np.isfinite(columns["acc"]).any() for columns in splits.values()):
        figures["accuracy"] = build_accuracy(snapshot, splits)
    if lr_changed(splits):
        figures["lr"] = build_lr(snapshot, splits)
    return figures


def lr_changed(splits: dict[str, Columns]) -> bool:
    """Whether the recorded learning rates differ (a schedule at work), not all one value."""
    _, lrs = lr_series(splits, "step")
    return len(lrs) > 1 and bool(lrs.min() != lrs.max())


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
    for split in (s for s in ("train", "valid", "test") if s in splits):
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


def default_formats() -> list[str]:
    """The formats of pictures drawn without a config asking (dltool plot; a run whose config.yaml is
    unreadable): the schema's default of plots.formats."""
    return PlotsSection().formats


def run_formats(snapshot: RunSnapshot) -> list[str]:
    """The formats the run's config asks for (plots.formats)."""
    return snapshot.config.plots.formats if snapshot.config is not None else default_formats()


def save_figures(figures: dict[str, Figure], out_dir: Path, formats: Sequence[str]) -> list[Path]:
    """Each figure as <name>.<format> in out_dir, for each format; the paths written."""
    return [path for name, fig in figures.items() for path in save_figure_formats(fig, Path(out_dir) / name, formats)]


def plot_run(snapshot: RunSnapshot, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    """loss, accuracy (classification runs) and lr (a changing one) pictures of one run into out_dir."""
    return save_figures(build_run_figures(snapshot), out_dir, formats)


def write_part(snapshot: RunSnapshot, part: str, formats: Sequence[str]) -> list[Path]:
    """One part of a run's pictures into its plots/ folder: the curves, or one of the classification
    pictures (where the run stored its test predictions); the paths written."""
    out_dir = snapshot.run.path(RUN_FILES.plots)
    if part == "curves":
        return plot_run(snapshot, out_dir, formats)
    if not snapshot.run.path(RUN_FILES.predictions).exists():
        return []
    build = build_confusion if part == "confusion" else build_prediction_grid
    return save_figures({part: build(snapshot)}, out_dir, formats)


def write_snapshot_plots(snapshot: RunSnapshot, formats: Sequence[str]) -> list[Path]:
    """Every picture of one run into its plots/ folder, in each format; the paths written."""
    return [path for part in PARTS for path in write_part(snapshot, part, formats)]


def write_run_plots(run: Run, parts: Sequence[str] = PARTS) -> list[Path]:
    """The pictures of the run's files as they are now, in the formats its config asks for (the end of
    training calls this, or a plotting process for one part)."""
    snapshot = run.snapshot()
    return [path for part in parts for path in write_part(snapshot, part, run_formats(snapshot))]
