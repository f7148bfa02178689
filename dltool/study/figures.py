"""Drawing a study's pictures on two cores: the slow grid figures in a forked child while this process
draws the others."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path

from dltool.plots.study import figure_path

GRID_FIGURES = ("scratch_vs_torch", "trajectories")  # a panel per member setting: the slow ones to draw


def draw_side_by_side(
    folder: Path, names: list[str], draw: Callable[[list[str]], list[Path]], fork_ok: bool
) -> list[Path]:
    """The grid figures in a forked child while this process draws the others: two cores, about half
    the wait. Only where this process has not trained (its torch thread pools would be copied), and
    where fork exists; a child that fails leaves its figures to this process."""
    grids = [name for name in names if name in GRID_FIGURES]
    if not fork_ok or not grids or len(grids) == len(names) or "fork" not in multiprocessing.get_all_start_methods():
        return draw(names)
    child = multiprocessing.get_context("fork").Process(target=_draw_in_child, args=(draw, grids), daemon=True)
    child.start()
    draw([name for name in names if name not in grids])
    child.join()
    if child.exitcode != 0:
        draw(grids)
    return [figure_path(folder, name) for name in names]


def _draw_in_child(draw: Callable[[list[str]], list[Path]], names: list[str]) -> None:
    """A failure here is reported once, by the parent, which then draws these figures itself."""
    try:
        draw(names)
    except BaseException:
        os._exit(1)
