"""The Dolan–Moré performance profile of a profile study: rho(tau), the fraction of the problems an
optimizer ran on where its measure (steps to the target) is within a factor tau of the best optimizer's,
as a step function of tau. Not reached is infinitely far; a problem an optimizer did not run on is not
counted for it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dltool.plots.figure import STYLES, finish_axes, new_figure, save_figure
from dltool.plots.palette import optimizer_color


def ratios(table: dict[str, dict[str, float | None]]) -> dict[str, dict[str, float]]:
    """optimizer -> problem -> its steps over the problem's fewest (inf: not reached); `table` is problem ->
    optimizer -> steps (None: not reached; absent: not run). A step count of 0 (the target met at the start)
    counts as 1, so no ratio divides by zero."""
    optimizers = sorted({name for row in table.values() for name in row})
    out: dict[str, dict[str, float]] = {name: {} for name in optimizers}
    for problem, row in table.items():
        reached = [max(steps, 1.0) for steps in row.values() if steps is not None]
        best = min(reached, default=math.inf)
        for name, steps in row.items():
            out[name][problem] = max(steps, 1.0) / best if steps is not None else math.inf
    return out


def profile(ratio_of: dict[str, float], tau: float) -> float:
    """rho(tau): the fraction of the optimizer's problems on which its ratio is at most tau."""
    return sum(r <= tau for r in ratio_of.values()) / len(ratio_of) if ratio_of else 0.0


def draw_profile(folder: Path, steps: dict[str, dict[str, float | None]]) -> Path:
    """The profile of `steps` (problem -> optimizer -> steps to target) as folder/performance_profile.png."""
    ratios_of = ratios(steps)
    fig, ax = new_figure(8.0, 4.8)
    finite = [r for row in ratios_of.values() for r in row.values() if math.isfinite(r)]
    widest = max(finite, default=1.0)
    log = widest >= 10  # ratios spanning decades: a log axis; else plain numbers
    top = max(widest * (1.5 if log else 1.05), 1.1)
    for optimizer, row in ratios_of.items():
        taus = np.array(sorted([1.0, *(r for r in row.values() if math.isfinite(r)), top]))
        rho = [profile(row, tau) for tau in taus]
        ran = f" ({len(row)} of {len(steps)})" if len(row) < len(steps) else ""
        linestyle = STYLES["torch" if "torch" in optimizer.split() else "scratch"][0]
        ax.step(taus, rho, where="post", color=optimizer_color(optimizer), linestyle=linestyle, label=optimizer + ran,
                linewidth=1.8)  # fmt: skip
    if log:
        ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    title = f"performance profile over {len(steps)} problems (steps to the target loss)"
    xlabel = "tau (steps / fewest steps" + (", log scale)" if log else ")")
    finish_axes(ax, xlabel, "fraction of its problems within tau", title, legend_outside=True)
    return save_figure(fig, folder / "performance_profile.png")
