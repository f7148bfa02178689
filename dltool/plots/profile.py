"""The Dolan–Moré performance profile of a profile study: rho(tau), the fraction of problems on which an
optimizer is within a factor tau of the best, as a step function of tau (log axis)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dltool.plots.figure import colors, finish_axes, new_figure, save_figure


def ratios(table: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """optimizer -> problem -> its measure over the problem's best (inf where it has none); `table` is
    problem -> optimizer -> measure."""
    optimizers = sorted({name for row in table.values() for name in row})
    out: dict[str, dict[str, float]] = {name: {} for name in optimizers}
    for problem, row in table.items():
        best = min(row.values(), default=math.nan)
        for name in optimizers:
            out[name][problem] = row[name] / best if name in row and best > 0 else math.inf
    return out


def profile(ratio_of: dict[str, float], tau: float) -> float:
    """rho(tau): the fraction of problems on which the ratio is at most tau."""
    return sum(r <= tau for r in ratio_of.values()) / len(ratio_of)


def draw_profile(folder: Path, measures: dict[str, dict[str, float]]) -> Path:
    """The profile of `measures` (problem -> optimizer -> measure) as folder/performance_profile.png."""
    ratios_of = ratios(measures)
    fig, ax = new_figure(8.0, 4.8)
    finite = [r for row in ratios_of.values() for r in row.values() if math.isfinite(r)]
    widest = max(finite, default=1.0)
    log = widest >= 10  # ratios spanning decades (a toy's loss near 0): a log axis; else plain numbers
    top = max(widest * (1.5 if log else 1.02), 1.01)
    for (optimizer, row), color in zip(ratios_of.items(), colors(len(ratios_of))):
        taus = np.array(sorted([1.0, *(r for r in row.values() if math.isfinite(r)), top]))
        rho = [profile(row, tau) for tau in taus]
        ax.step(taus, rho, where="post", color=color, label=optimizer, linewidth=1.8)
    if log:
        ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    title = f"performance profile over {len(measures)} problems"
    xlabel = "tau (measure / best measure" + (", log scale)" if log else ")")
    finish_axes(ax, xlabel, "fraction of problems within tau", title, legend_outside=True)
    return save_figure(fig, folder / "performance_profile.png")
