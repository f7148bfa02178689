"""One colour per optimizer in every picture of every kind, from a fixed order (the notes' chapter order),
never by position in one figure: adam is the same colour in a comparison's loss curves, its learning-rate
sensitivity, its performance profile, its budget curves and its trajectories. The implementation is told by
the line style and marker (figure.STYLES: scratch solid with circles, torch dashed with squares).
Kept free of torch: pictures are drawn in processes that never import it."""

from __future__ import annotations

import zlib

# the optimizers dltool ships, in the order the notes teach them, Newton's method (the gradient-descent
# chapter's aside) last; tests/plots check it against the registry
OPTIMIZER_ORDER = ("sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam", "newton")
_TAB10 = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
SPARE = _TAB10[len(OPTIMIZER_ORDER) :]  # for a name outside the order: one of the colours no shipped one has


def optimizer_color(name: str) -> str:
    """The colour of optimizer `name` (a variant's label counts by its first word: 'adam lr=0.01' is adam)."""
    base = name.split()[0].lower() if name.split() else name
    if base in OPTIMIZER_ORDER:
        return _TAB10[OPTIMIZER_ORDER.index(base)]
    return SPARE[zlib.crc32(base.encode()) % len(SPARE)]


def rgb(color: str) -> tuple[float, float, float]:
    """'#rrggbb' as three floats in [0, 1] (for shades of an optimizer's colour)."""
    return tuple(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
