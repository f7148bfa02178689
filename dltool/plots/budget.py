"""The verdict against the tuning budget: each tuned setting's expected best validation loss after k trials
(dltool.results.budget), a line per optimizer on a log k axis with its 95% bootstrap band."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dltool.plots.figure import auto_log, finish_axes, new_figure, save_figure
from dltool.plots.palette import optimizer_color
from dltool.results.budget import BudgetCurve

UNTUNED_X = 0.6  # where k = 0 (the untuned setting) is drawn: a log axis has no 0


def draw_budget(folder: Path, curves: list[BudgetCurve], title: str) -> Path:
    fig, ax = new_figure(8.5, 5.0)
    values = []
    for curve in curves:
        color = optimizer_color(curve.name)
        ks = np.array(curve.budgets, dtype=float)
        ax.plot(ks, curve.expected, marker="o", markersize=3, color=color, label=curve.name)
        ax.fill_between(ks, curve.low, curve.high, color=color, alpha=0.15, linewidth=0)
        values.append(np.array(curve.expected))
        if curve.default is not None:  # k = 0, the untuned setting: left of k = 1 on the log axis
            ax.plot([UNTUNED_X], [curve.default], marker="s", markersize=6, linestyle="none", color=color)
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    longest = max((len(curve.budgets) for curve in curves), default=1)
    ticks = [2**i for i in range(longest.bit_length()) if 2**i <= longest] + [longest]
    untuned = any(curve.default is not None for curve in curves)
    ax.set_xticks([UNTUNED_X] * untuned + ticks)
    ax.set_xticklabels(["untuned"] * untuned + [str(k) for k in ticks])  # trial counts, not powers of ten
    ax.xaxis.set_minor_formatter(NullFormatter())
    auto_log(ax, values)
    ylabel = "expected best tuning objective after k trials"
    finish_axes(ax, "tuning budget k (trials, log scale)", ylabel, f"{title}: the verdict against the budget",
                legend_outside=True)  # fmt: skip
    return save_figure(fig, folder / "budget.png")
