"""The notes' toy objectives (seeds 000, 001, 004) as formulas, with their start and plotting window.

Each f takes the point's coordinates as x[0], x[1] and works on torch tensors (the `Point` models
in models/point.py differentiate it) and on numpy arrays (the contour plots), so the plots draw
exactly the function that was optimized without importing torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


def _cos(x: Any) -> Any:
    return x.cos() if hasattr(x, "cos") else np.cos(x)


def _cosh(x: Any) -> Any:
    return x.cosh() if hasattr(x, "cosh") else np.cosh(x)


@dataclass(frozen=True)
class Objective:
    formula: str
    start: tuple[float, ...]
    f: Callable[[Any], Any]
    window: tuple[tuple[float, float], ...]  # the notes' plotting range per coordinate

    @property
    def dims(self) -> int:
        return len(self.start)


XCOS_C = 0.15 * math.pi
NOTES_2D_WINDOW = ((-5.5, 1.0), (-3.0, 1.0))  # show_trace_2d's meshgrid

OBJECTIVES = {
    "quadratic2d": Objective(
        "0.1·x1² + 2·x2²", (-5.0, -2.0), lambda x: 0.1 * x[0] ** 2 + 2 * x[1] ** 2, NOTES_2D_WINDOW
    ),
    "bowl2d": Objective("x1² + 2·x2²", (-5.0, -2.0), lambda x: x[0] ** 2 + 2 * x[1] ** 2, NOTES_2D_WINDOW),
    "square1d": Objective("x²", (10.0,), lambda x: x[0] ** 2, ((-10.0, 10.0),)),
    "xcos1d": Objective("x·cos(0.15π·x)", (10.0,), lambda x: x[0] * _cos(XCOS_C * x[0]), ((-13.0, 13.0),)),
    "cosh1d": Objective("cosh(0.5·x)", (10.0,), lambda x: _cosh(0.5 * x[0]), ((-10.0, 10.0),)),
}
