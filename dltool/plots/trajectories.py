"""The toy objectives' trajectories (seeds 000, 001, 004): contours with every path in 2-D (the notes'
show_trace_2d), the curve with the iterates in 1-D (show_trace), each panel's window widened to hold its whole
path; each path in its optimizer's colour, scratch and torch by line style and marker."""

from __future__ import annotations

import math

import numpy as np

from dltool.objectives import OBJECTIVES
from dltool.plots.figure import STYLES, blank_figure
from dltool.plots.palette import optimizer_color
from dltool.results.groups import Group
from dltool.results.members import MemberResult


def trajectory_figure(groups: list[Group], objective_name: str, title: str):
    objective = OBJECTIVES[objective_name]
    variants = list(dict.fromkeys(g.first.variant for g in groups))
    cols = min(3, len(variants))
    rows = math.ceil(len(variants) / cols)
    fig = blank_figure(4.4 * cols, 3.6 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, variant in zip(axes, variants):
        paths = {
            g.first.impl: _path(g.results[0]) for g in groups if g.first.variant == variant and g.results[0].records
        }
        draw = _trace_2d if objective.dims == 2 else _trace_1d
        draw(ax, objective, paths, optimizer_color(variant))
        final = next(iter(paths.values()))[-1] if paths else None
        where = "(" + ", ".join(f"{v:.6f}" for v in final) + ")" if final is not None else "not run"
        moving_away = any(
            r.growing or r.status == "diverged" for g in groups if g.first.variant == variant for r in g.results
        )
        ax.set_title(
            f"{variant}\nend {where}" + ("  diverging" if moving_away else ""),
            fontsize=9,
            color="tab:red" if moving_away else "black",
        )
        if len(paths) > 1:
            ax.legend(fontsize=8, loc="best")
    for ax in axes[len(variants) :]:
        ax.set_visible(False)
    fig.suptitle(f"{title}: trajectories (scratch solid, torch.optim dashed)", fontsize=11)
    return fig


def _values(objective, coords: list[np.ndarray]) -> np.ndarray:
    """f on a grid; where it overflows (a diverged path widens the window) NaN, which is not drawn."""
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.asarray(objective.f(coords), dtype=float)
    return np.where(np.isfinite(values), values, np.nan)


def _path(result: MemberResult) -> np.ndarray:
    return np.array([r["x"] for r in result.records if r.get("x") is not None], dtype=float)


def _window(objective, paths: dict[str, np.ndarray]) -> list[tuple[float, float]]:
    """The notes' window, widened to hold every point of the paths (with a margin)."""
    limits = []
    for d, (low, high) in enumerate(objective.window):
        values = np.concatenate([p[:, d] for p in paths.values()] + [np.array([low, high])])
        values = values[np.isfinite(values)]
        low, high = values.min(), values.max()
        margin = 0.05 * (high - low or 1.0)
        limits.append((low - margin, high + margin))
    return limits


def _trace_2d(ax, objective, paths: dict[str, np.ndarray], color: str) -> None:
    (x_low, x_high), (y_low, y_high) = _window(objective, paths)
    grid = np.meshgrid(np.linspace(x_low, x_high, 200), np.linspace(y_low, y_high, 200))
    ax.contour(grid[0], grid[1], _values(objective, grid), levels=12, colors="0.7", linewidths=0.7)
    for impl, path in paths.items():
        linestyle, marker = STYLES[impl]
        ax.plot(
            path[:, 0],
            path[:, 1],
            linestyle=linestyle,
            marker=marker if len(path) <= 60 else None,
            markersize=3,
            color=color,  # the optimizer's; scratch and torch by line style and marker
            label=impl,
        )
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")


def _trace_1d(ax, objective, paths: dict[str, np.ndarray], color: str) -> None:
    ((low, high),) = _window(objective, paths)
    line = np.linspace(low, high, 400)
    ax.plot(line, _values(objective, [line]), color="0.6", linewidth=1)
    for impl, path in paths.items():
        linestyle, marker = STYLES[impl]
        ax.plot(
            path[:, 0],
            _values(objective, [path[:, 0]]),
            linestyle=linestyle,
            marker=marker,
            markersize=4,
            color=color,  # the optimizer's; scratch and torch by line style and marker
            label=impl,
        )
    ax.set_xlabel("x")
    ax.set_ylabel(f"f(x) = {objective.formula}")
