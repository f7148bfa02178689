"""Several runs on one axes: one curve per run (per split for a single run) of a metric against x.

Each run gets a legend label naming what sets it apart (plots.labels), a colour of its own, and,
when scratch and torch.optim runs are mixed, a dashed line for the torch ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dltool.errors import UsageError
from dltool.plots.axes import Metric, XAxis
from dltool.plots.figure import (
    check_format,
    colors,
    draw_curve,
    finish_axes,
    lr_limits,
    mark_divergence,
    new_figure,
    save_figure,
)
from dltool.plots.labels import run_labels, run_title, shared_context
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
from dltool.store.run import RunSnapshot

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Member:
    """One run of an overlay: its legend label, its records, the splits drawn, its colour and line style."""

    snapshot: RunSnapshot
    label: str
    splits: dict[str, Columns]
    names: list[str]
    color: Any
    style: str
    note: str  # 'diverged at step N', or ''


@dataclass(frozen=True)
class Overlay:
    metric: Metric
    x: XAxis
    logy: bool
    members: list[Member]

    @property
    def single(self) -> bool:
        return len(self.members) == 1

    @property
    def mixed(self) -> bool:
        """Different splits are drawn (a run without a test split among test runs): legends name them."""
        return len({name for member in self.members for name in member.names}) > 1


def check_overlay_args(metric: str, x: str, split: str | None) -> None:
    if metric not in {m.value for m in Metric}:
        raise UsageError(f"--metric '{metric}': choose one of {', '.join(m.value for m in Metric)}")
    if x not in {axis.value for axis in XAxis}:
        raise UsageError(f"--x '{x}': choose one of {', '.join(axis.value for axis in XAxis)}")
    if split is not None and split not in SPLITS:
        raise UsageError(f"split '{split}': choose one of {', '.join(SPLITS)}")


def overlay_splits(
    snapshot: RunSnapshot, splits: dict[str, Columns], metric: str, split: str | None, single: bool
) -> list[str]:
    """Which of a run's splits an overlay draws: the one asked for; else, for one run every split
    that has the metric, for several runs the evaluation split (test or full) they are compared on."""
    if metric == "lr":
        return ["lr"]
    if split is not None:
        return [split] if split in splits else []
    if single:
        return [s for s in SPLITS if s in splits and np.isfinite(splits[s][metric]).any()]
    return [eval_split(snapshot, splits)]


def overlay_members(snapshots: list[RunSnapshot], metric: str, split: str | None) -> list[Member]:
    single = len(snapshots) == 1
    labels = run_labels(snapshots)
    palette = colors(len(snapshots)) if not single else [None]  # one run: the default cycle, per split
    impls = [snapshot.config.optimizer.impl if snapshot.config else None for snapshot in snapshots]
    members = []
    for snapshot, label, color, impl in zip(snapshots, labels, palette, impls):
        splits = load_columns(snapshot)
        names = overlay_splits(snapshot, splits, metric, split, single)
        style = "torch" if impl == "torch" and len(set(impls)) > 1 else "run"
        members.append(Member(snapshot, label, splits, names, color, style, divergence_note(snapshot)))
    return members


def figure_size(overlay: Overlay) -> tuple[float, bool]:
    """The figure's width, and whether the legend goes beside the axes (many runs, or long labels),
    in a figure widened to hold it."""
    notes = 24 if any(member.note for member in overlay.members) else 0
    longest = max(len(member.label) for member in overlay.members) + (7 if overlay.mixed else 0) + notes
    outside = len(overlay.members) > 6 or longest > 32
    return (min(max(6.5 + 0.075 * longest, 9.5), 16.0) if outside else 7.0), outside


def member_curves(overlay: Overlay, member: Member) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(split, xs, ys) of each split of the run that has finite values to draw."""
    curves = []
    for name in member.names:
        if overlay.metric is Metric.lr:
            xs, ys = lr_series(member.splits, overlay.x.value, positive=overlay.logy)
        else:
            xs, ys = series(member.splits[name], overlay.x.value, overlay.metric.value, positive=overlay.logy)
        if len(xs):
            curves.append((name, xs, ys))
    return curves


def draw_member(ax: Axes, overlay: Overlay, member: Member) -> list[np.ndarray]:
    """Draw one run's curves; the y values drawn (none for a run without records of the metric)."""
    curves = member_curves(overlay, member)
    for name, xs, ys in curves:
        if overlay.single:
            text = SPLIT_LABELS.get(name, name)
        else:
            text = f"{member.label} · {name}" if overlay.mixed else member.label
            text += f" ({member.note})" if member.note else ""
        style = name if (overlay.mixed or overlay.single) else member.style
        draw_curve(ax, xs, ys, style, text, member.color)
    if curves:
        _, xs, ys = max(curves, key=lambda c: c[1].max())
        mark_divergence(ax, member.note, xs, ys, color=ax.lines[-1].get_color(), annotate=overlay.single)
    return [ys for _, _, ys in curves]


def overlay_quantity(overlay: Overlay) -> str:
    """'test loss' when every run is drawn on one split, else just the metric."""
    names = {name for member in overlay.members for name in member.names}
    if overlay.metric is Metric.lr or len(names) != 1:
        return overlay.metric.label
    (name,) = names
    return f"{'whole-set' if name == 'full' else name} {overlay.metric.label}"


def overlay_title(overlay: Overlay) -> str:
    snapshots = [member.snapshot for member in overlay.members]
    if overlay.single:
        return run_title(snapshots[0], f"{overlay.metric.label} vs {overlay.x.value}")
    context = shared_context(snapshots)
    return f"{overlay_quantity(overlay)} of {len(snapshots)} runs" + (f"\n{context}" if context else "")


def build_overlay(
    snapshots: Sequence[RunSnapshot],
    metric: str = "loss",
    x: str = "epoch",
    split: str | None = None,
    logy: bool = False,
) -> Figure:
    """One curve per run (and, for a single run, per split) of metric against x."""
    check_overlay_args(metric, x, split)
    if not snapshots:
        raise UsageError("no runs to plot")
    overlay = Overlay(Metric(metric), XAxis(x), logy, overlay_members(list(snapshots), metric, split))
    width, outside = figure_size(overlay)
    fig, ax = new_figure(width, 4.8)
    drawn = [draw_member(ax, overlay, member) for member in overlay.members]
    values = [ys for member_values in drawn for ys in member_values]
    if not values:
        wanted = f"{split} {metric}" if split else metric
        raise UsageError(f"no {wanted} records to plot in {', '.join(snapshot.id for snapshot in snapshots)}")
    for member, member_values in zip(overlay.members, drawn):
        if not member_values:  # say so in the legend rather than drop a run silently
            ax.plot([], [], linestyle="none", label=f"{member.label} (no {metric} records)")
    if logy:
        ax.set_yscale("log")
    elif metric == "lr":
        lr_limits(ax, np.concatenate(values))
    ylabel = overlay_quantity(overlay) + (" (log scale)" if logy else "")
    finish_axes(ax, overlay.x.label, ylabel, overlay_title(overlay), legend_outside=outside)
    return fig


def plot_overlay(
    snapshots: Sequence[RunSnapshot],
    metric: str = "loss",
    x: str = "epoch",
    split: str | None = None,
    logy: bool = False,
    *,
    out: Path,
) -> Path:
    """build_overlay saved to out (.png, .svg or .pdf by extension)."""
    check_format(out, "--out")  # before drawing anything
    return save_figure(build_overlay(snapshots, metric=metric, x=x, split=split, logy=logy), Path(out))
