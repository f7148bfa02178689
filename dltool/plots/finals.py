"""The panel under a loss figure that shows where the ranking is decided: each curve's last value as a dot,
best on top, on an axis zoomed to the better half of them. On airfoil the curves span 0.23-0.50 while the
contenders' final losses differ in the fourth digit (0.2422-0.2429): invisible on the curves' own axis."""

from __future__ import annotations

import numpy as np

from dltool.plots.figure import STYLES

ZOOM_SHARE = 0.5  # the axis holds the better half of the finals; the others sit at its right edge


def finals_panel(ax, finals: list[tuple[str, float, object, str]], ylabel: str, log: bool = False) -> None:
    """`finals`: (label, last value, colour, impl) per curve drawn above; `log`: the curves' axis is (values
    spanning decades: the toys), so this one is too."""
    from matplotlib.ticker import MaxNLocator

    finals = sorted((f for f in finals if np.isfinite(f[1])), key=lambda f: f[1])
    if len(finals) < 2:
        ax.set_visible(False)
        return
    values = np.array([value for _, value, _, _ in finals])
    kept = values[: max(2, int(np.ceil(len(values) * ZOOM_SHARE)))]
    low, high = kept.min(), kept.max()
    log = log and low > 0
    pad = 0.08 * (high - low or abs(high) * 1e-3 or 1e-6)
    if log:  # margins as factors
        pad = 0.0
        low, high = low / 1.5, high * 1.5
    edge = high + pad
    for row, (_, value, color, impl) in enumerate(finals):
        beyond = value > edge
        marker = ">" if beyond else STYLES.get(impl, STYLES["run"])[1]
        ax.plot([min(value, edge)], [row], marker=marker, color=color, linestyle="none", markersize=6)
    ax.set_yticks(range(len(finals)), [label for label, _, _, _ in finals], fontsize=7)
    if log:
        ax.set_xscale("log")
        ax.set_xlim(low, edge * 1.2)
    else:
        ax.set_xlim(low - pad, edge + pad * 0.5)
    ax.invert_yaxis()  # the best on top
    ax.grid(True, axis="x", alpha=0.3)
    if not log:
        ax.xaxis.set_major_locator(MaxNLocator(5))  # a few ticks: their labels hold many digits
    clipped = ", zoomed to the better half (a > at the right edge: beyond it)" if len(values) > len(kept) else ""
    ax.set_xlabel(f"last {ylabel}{clipped}", fontsize=8)
