"""A sweep's pictures, from its stored results (torch is never imported):

- the metric against each swept key, mean over seeds with ±1 std error bars; with several keys, one
  line per combination of the others. Numeric values sit at their value (a log axis where they span
  10x or more, as learning rates do); other values (lists, names) are categories in the grid's order,
  drawn as points (no line joins categories), each combination slightly apart.
- every point's evaluation curve overlaid (mean over seeds, ±1 std band).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from dltool.plots.figure import colors, finish_axes, new_figure, save_figure
from dltool.plots.study import loss_figure
from dltool.results.groups import Group
from dltool.results.points import PointResults
from dltool.text import format_value


def draw_sweep_figures(folder: Path, grid: dict[str, list], title: str, verdict: PointResults) -> list[Path]:
    paths = []
    seeds = max((len(group.results) for group in verdict.groups), default=1)
    if not any(verdict.value(group) for group in verdict.groups):
        return []  # no point has a value yet: nothing to draw
    for key in grid:
        paths.append(save_figure(metric_figure(verdict, grid, key, title), folder / f"metric_vs_{key}.png"))
    ylabel = "accuracy" if verdict.metric == "acc" else "loss"
    split = f" ({verdict.split})" if verdict.split else ""
    groups = [g for g in verdict.groups if any(r.records for r in g.results)]
    curves = loss_figure(groups, "epoch", "epoch", f"{ylabel}{split}", title, seeds)
    paths.append(save_figure(curves, folder / "curves.png"))
    return paths


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def metric_figure(verdict: PointResults, grid: dict[str, list], key: str, title: str):
    """The metric against `key`'s values; a line per combination of the other keys' values."""
    fig, ax = new_figure(8.0, 4.8)
    values = grid[key]
    numeric = _numeric(values)
    xs = np.array(values, dtype=float) if numeric else np.arange(len(values), dtype=float)
    others = [other for other in grid if other != key]
    combos = list(itertools.product(*(grid[other] for other in others)))
    by_point = {_point_key(group.first.point): group for group in verdict.groups}
    # categories have no order between them: points without lines, side by side so their bars stay apart
    dodge = 0.0 if numeric else min(0.08, 0.6 / len(combos))
    for index, (combo, color) in enumerate(zip(combos, colors(len(combos)))):
        fixed = dict(zip(others, combo))
        stats = [_stat(verdict, by_point.get(_point_key({**fixed, key: value}))) for value in values]
        mean = np.array([s[0] for s in stats])
        std = np.array([s[1] for s in stats])
        label = " ".join(f"{k}={format_value(v)}" for k, v in fixed.items()) or verdict.described
        shift = (index - (len(combos) - 1) / 2) * dodge
        style = "-" if numeric else "none"
        ax.errorbar(xs + shift, mean, yerr=std, color=color, marker="o", linestyle=style, capsize=4, label=label)
    if numeric and min(values) > 0 and max(values) / min(values) >= 10:
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(xs, [format_value(v) for v in values])
    seeds = len(verdict.groups[0].results)
    ylabel = verdict.described + (f" (mean ± std over {seeds} seeds)" if seeds > 1 else "")
    finish_axes(ax, key, ylabel, f"{title}\n{verdict.described} against {key}", legend_outside=bool(others))
    return fig


def _point_key(point: dict[str, Any]) -> str:
    return repr(sorted((k, repr(v)) for k, v in point.items()))


def _stat(verdict: PointResults, group: Group | None) -> tuple[float, float]:
    value = verdict.value(group) if group is not None else None
    return value if value is not None else (float("nan"), 0.0)
