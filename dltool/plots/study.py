"""A comparison's pictures, from its results (dltool.results.comparison): the members' stored records,
grouped over seeds, and the target loss and gaps computed once for the tables too (torch is never imported):

- loss against epoch (the notes' figure; steps for the toy objectives), and against training time;
- scratch vs torch, one panel per optimizer setting;
- the toy objectives' trajectories (dltool.plots.trajectories);
- learning-rate sensitivity (final loss against lr, log x) with --lr-scale, scratch and torch one line
  where they coincide;
- loss against examples seen with --batch-sizes.

Each optimizer has its colour in every picture (dltool.plots.palette), its settings in shades of it (the
settings of a single optimizer, as a sweep draws them, in distinct colours); scratch is solid, torch dashed.
Over seeds a curve is the mean with a ±1 std band. A diverged member ends in an X at its last finite point.
No axis range is fixed by hand: the notes' fixed ylim clipped curves.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dltool.objectives import OBJECTIVES
from dltool.plots.figure import (
    STYLES,
    auto_log,
    blank_figure,
    draw_curve,
    finish_axes,
    mark_divergence,
    new_figure,
    save_figure,
)
from dltool.plots.finals import finals_panel
from dltool.plots.palette import optimizer_color, rgb
from dltool.plots.trajectories import trajectory_figure
from dltool.results.comparison import ComparisonResults
from dltool.results.groups import Group
from dltool.results.members import MemberResult
from dltool.results.verdict import IDENTICAL_RTOL


def variant_colors(groups: list[Group]) -> dict[str, tuple]:
    """A colour per optimizer; its settings (learning rates, the notes' several runs) in shades of it,
    lightest first, so an optimizer's curves read as one family. A picture of one optimizer's settings
    alone (a sweep, a tuning study) has no families to tell apart: its settings get distinct colours
    (viridis, in their order), not shades that a reader cannot match to the legend."""
    optimizers = list(dict.fromkeys(g.first.optimizer for g in groups))
    variants = list(dict.fromkeys(g.first.variant for g in groups))
    if len(optimizers) == 1 and len(variants) > 2:
        from matplotlib import colormaps

        return {v: tuple(colormaps["viridis"](k / (len(variants) - 1) * 0.9)[:3]) for k, v in enumerate(variants)}
    base = {optimizer: rgb(optimizer_color(optimizer)) for optimizer in optimizers}
    palette = {}
    for optimizer in optimizers:
        variants = list(dict.fromkeys(g.first.variant for g in groups if g.first.optimizer == optimizer))
        for k, variant in enumerate(variants):
            strength = 1.0 if len(variants) == 1 else 0.4 + 0.6 * k / (len(variants) - 1)
            palette[variant] = tuple(strength * c + (1.0 - strength) for c in base[optimizer][:3])
    return palette


def mean_curve(results: list[MemberResult], x_key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, mean loss and std over seeds, on the evaluations all seeds recorded (aligned by index)."""
    n = min(len(r.records) for r in results)
    xs = np.array([[r.records[i][x_key] for i in range(n)] for r in results], dtype=float).mean(axis=0)
    ys = np.array([[_loss(r.records[i]) for i in range(n)] for r in results], dtype=float)
    return xs, ys.mean(axis=0), ys.std(axis=0)


def _loss(record: dict) -> float:
    value = record.get("loss")
    return float("nan") if value is None else float(value)


def draw_group(ax, group: Group, x_key: str, color, label: str) -> list[np.ndarray]:
    results = [r for r in group.results if r.records]
    if not results:
        return []
    xs, mean, std = mean_curve(results, x_key)
    draw_curve(ax, xs, mean, group.first.impl, label, color)
    if len(results) > 1:
        ax.fill_between(xs, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)
    diverged = next((r for r in group.results if r.status == "diverged"), None)
    finite = np.isfinite(mean)
    if diverged is not None:  # at the last finite point: the diverged evaluation itself is not finite
        mark_divergence(ax, f"diverged at step {diverged.diverged_at}", xs[finite], mean[finite], color)
    return [mean[finite]]


def loss_figure(
    groups: list[Group],
    x_key: str,
    xlabel: str,
    ylabel: str,
    title: str,
    seeds: int,
    merged: dict[str, str] = None,
    finals: bool = False,
):
    """Every group's curve; `merged` names the groups whose scratch and torch are one contender (group ->
    the contender's name): those get one curve, named so, not one hidden under the other. With `finals`, a
    panel under it zooms onto each curve's last value (dltool.plots.finals)."""
    palette = variant_colors(groups)
    shown = [g for g in groups if g.results and any(r.records for r in g.results)]
    fig = blank_figure(9.0, 5.0 + (0.9 + 0.13 * len(shown) if finals else 0.0))
    if finals:  # two subfigures: the panel's long labels do not narrow the curves' axes
        top, bottom = fig.subfigures(2, 1, height_ratios=[5.0, 0.9 + 0.13 * len(shown)])
        ax, zoom = top.add_subplot(), bottom.add_subplot()
    else:
        ax, zoom = fig.add_subplot(), None
    values, drawn, lasts = [], set(), []
    for group in groups:
        label = (merged or {}).get(group.name, group.name)
        if label in drawn:
            continue
        drawn.add(label)
        curve = draw_group(ax, group, x_key, palette[group.first.variant], label)
        values += curve
        if curve and len(curve[0]):
            lasts.append((label, float(curve[0][-1]), palette[group.first.variant], group.first.impl))
    log = auto_log(ax, values)
    band = f" (mean of {seeds} seeds, band ±1 std)" if seeds > 1 else ""
    finish_axes(ax, xlabel, ylabel + band, title, legend_outside=True)
    if zoom is not None:
        finals_panel(zoom, lasts, ylabel, log)
    return fig


def impl_figure(groups: list[Group], gaps: dict[str, float], x_key: str, xlabel: str, ylabel: str, title: str):
    """One panel per optimizer setting: scratch solid, torch dashed, and the largest gap between them."""
    variants = list(dict.fromkeys(g.first.variant for g in groups))
    cols = min(3, len(variants))
    rows = math.ceil(len(variants) / cols)
    fig = blank_figure(4.2 * cols, 3.0 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    palette = variant_colors(groups)
    for i, (ax, variant) in enumerate(zip(axes, variants)):
        values = []
        for group in (g for g in groups if g.first.variant == variant):
            values += draw_group(ax, group, x_key, palette[variant], group.first.impl)
        auto_log(ax, values)
        gap = f", largest gap {gaps[variant]:.1e}" if variant in gaps else ""
        # axis labels on the outer panels only: the same quantities everywhere, and half the text to lay out
        bottom, left = i + cols >= len(variants), i % cols == 0
        finish_axes(ax, xlabel if bottom else "", ylabel if left else "", variant + gap)
        if ax.get_legend():  # a panel with nothing finite to draw has none
            ax.get_legend().remove()
    for ax in axes[len(variants) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{title}: scratch (solid) vs torch.optim (dashed); gap: the largest |scratch - torch| / loss", fontsize=11
    )
    return fig


def _lr_line(members: list[Group]) -> tuple[list[float], list[float]]:
    members = sorted(members, key=lambda g: g.first.lr)
    losses = [g.stats["final_loss"][0] if g.stats.get("final_loss") else np.nan for g in members]
    return [g.first.lr for g in members], losses


def _coincide(one, two) -> bool:
    """Scratch's and torch's lines are one where every final loss agrees to float noise (the verdict's rule)."""
    if one is None or two is None or one[0] != two[0]:
        return False
    a, b = np.array(one[1], dtype=float), np.array(two[1], dtype=float)
    both = np.isfinite(a) & np.isfinite(b)
    return bool(
        np.array_equal(np.isfinite(a), np.isfinite(b))
        and np.all(np.abs(a[both] - b[both]) <= IDENTICAL_RTOL * np.maximum(np.abs(a[both]), 1e-12))
    )


def sensitivity_figure(groups: list[Group], title: str):
    """Final loss against lr per optimizer x impl; a diverged setting is an X on the top edge."""
    fig, ax = new_figure(8.0, 5.0)
    series: dict[tuple[str, str], list[Group]] = {}
    for group in groups:
        series.setdefault((group.first.optimizer, group.first.impl), []).append(group)
    finite = [g.stats["final_loss"][0] for g in groups if g.stats.get("final_loss")]
    top = max(finite) * 1.5 if finite else 1.0
    lines = {key: _lr_line(members) for key, members in series.items()}
    for (optimizer, impl), (lrs, losses) in lines.items():
        other = lines.get((optimizer, "torch")) if impl == "scratch" else None
        if impl == "torch" and _coincide(lines.get((optimizer, "scratch")), (lrs, losses)):
            continue  # drawn once, with scratch
        same = other is not None and _coincide((lrs, losses), other)
        linestyle, marker = STYLES[impl]
        label = f"{optimizer} · {'scratch = torch' if same else impl}"
        color = optimizer_color(optimizer)
        ax.plot(lrs, losses, linestyle=linestyle, marker=marker, color=color, label=label)
        lost = [lr for lr, loss in zip(lrs, losses) if not np.isfinite(loss)]
        ax.plot(lost, [top] * len(lost), marker="X", markersize=10, linestyle="none", color=color)
    ax.set_xscale("log")
    auto_log(ax, [np.array(finite)])
    if any(not g.stats.get("final_loss") for g in groups):
        ax.annotate("X on top: diverged or failed", xy=(0.01, 0.99), xycoords="axes fraction", va="top", fontsize=8)
    finish_axes(
        ax, "learning rate (log scale)", "final loss", f"{title}: learning-rate sensitivity", legend_outside=True
    )
    return fig


def figure_names(impls: set[str], objective: str | None, lr_scan: bool, batch_scan: bool) -> list[str]:
    """The pictures a comparison gets, from what its plan says about it."""
    names = ["loss_epoch", "loss_time"]
    if impls == {"scratch", "torch"}:
        names.append("scratch_vs_torch")
    if objective:
        names.append("trajectories")
    if lr_scan:
        names.append("lr_sensitivity")
    if batch_scan:
        names.append("loss_examples")
    return names


def draw_figures(
    folder: Path, names: list[str], title: str, objective: str | None, results: ComparisonResults
) -> list[Path]:
    """Draw the named pictures of a comparison into `folder` (its plots folder)."""
    groups, seeds = list(results.groups), max((len(group.results) for group in results.groups), default=1)
    merged = {g.name: s.name for g in groups if (s := results.standing(g)) is not None and len(s.groups) > 1}
    toy = objective is not None
    x_key, xlabel = ("step", "step") if toy else ("epoch", "epoch")
    ylabel = f"f(x) = {OBJECTIVES[objective].formula}" if toy else "loss"
    builders = {
        "loss_epoch": lambda: loss_figure(groups, x_key, xlabel, ylabel, title, seeds, merged, finals=True),
        "loss_time": lambda: loss_figure(groups, "time", "training time (s)", ylabel, title, seeds, merged),
        "scratch_vs_torch": lambda: impl_figure(groups, results.gaps, x_key, xlabel, ylabel, title),
        "trajectories": lambda: trajectory_figure(groups, objective, title),
        "lr_sensitivity": lambda: sensitivity_figure(groups, title),
        "loss_examples": lambda: loss_figure(groups, "examples", "examples seen", ylabel, title, seeds, merged),
    }
    return [save_figure(builders[name](), figure_path(folder, name)) for name in names]


def figure_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.png"
