"""The Dolan–Moré performance profile of a profile study: rho(tau), the fraction of problems on which an
optimizer is within a factor tau of the best, as a step function of tau (log axis)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dltool.plots.figure import colors, finish_axes, new_figure, save_figure
from dltool.store.study import STUDY_FILES, StudyFolder
from dltool.study.profile_tables import profile


def draw_profile(study: StudyFolder, ratios: dict[str, dict[str, float]]) -> Path:
    fig, ax = new_figure(8.0, 4.8)
    finite = [r for row in ratios.values() for r in row.values() if math.isfinite(r)]
    widest = max(finite, default=1.0)
    log = widest >= 10  # ratios spanning decades (a toy's loss near 0): a log axis; else plain numbers
    top = max(widest * (1.5 if log else 1.02), 1.01)
    for (optimizer, row), color in zip(ratios.items(), colors(len(ratios))):
        taus = np.array(sorted([1.0, *(r for r in row.values() if math.isfinite(r)), top]))
        rho = [profile(row, tau) for tau in taus]
        ax.step(taus, rho, where="post", color=color, label=optimizer, linewidth=1.8)
    if log:
        ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    title = f"performance profile over {len(next(iter(ratios.values()), {}))} problems"
    xlabel = "tau (measure / best measure" + (", log scale)" if log else ")")
    finish_axes(ax, xlabel, "fraction of problems within tau", title, legend_outside=True)
    return save_figure(fig, study.path(STUDY_FILES.plots) / "performance_profile.png")
