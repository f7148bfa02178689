"""A comparison's verdict and pictures from its stored files: drawn at its end by compare-optimizers,
and again by `dltool show` / `dltool plot` on its id. Light on purpose (no torch): browsing a study
must not wait for it.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dltool.errors import UsageError
from dltool.plots.study import draw_figures, figure_names, figure_path
from dltool.store.study import STUDY_FILES, StudyFolder
from dltool.study.results import Verdict, judge, load_results

if TYPE_CHECKING:
    from dltool.study.point_results import PointsVerdict

GRID_FIGURES = ("scratch_vs_torch", "trajectories")  # a panel per member setting: the slow ones to draw


def stored_verdict(comparison: StudyFolder) -> Verdict:
    """The verdict as the comparison judged it (its given target loss, if any), from the members' files
    as they are now: a running or interrupted comparison gets the verdict so far."""
    header = comparison.record.header
    return judge(load_results(comparison), header.given_target, header.seeds, header.plan.get("target"))


def redraw_plots(comparison: StudyFolder) -> list[Path]:
    """The study's pictures drawn again into its plots/ folder."""
    if comparison.kind == "profile":
        from dltool.plots.profile import draw_profile
        from dltool.study.profile_tables import ratios

        return [draw_profile(comparison, ratios(comparison.record.header.plan["measures"]))]
    if comparison.kind != "compare":
        return redraw_study_plots(comparison)
    verdict = stored_verdict(comparison)
    if not any(result.records for result in verdict.results):
        raise UsageError(f"comparison '{comparison.id}': nothing to plot (no member has recorded a loss yet)")
    # `dltool plot` has no torch loaded, so it may fork; a caller that trained (a test, a notebook) may not
    return draw_plots(comparison, verdict, fork_ok="torch" not in sys.modules)


def redraw_study_plots(study: StudyFolder) -> list[Path]:
    """A sweep's or tuning study's pictures, from its members' files as they are now."""
    from dltool.study.point_results import judge_points

    paths = draw_point_plots(study, judge_points(study))
    if not paths:
        raise UsageError(f"{study.noun} '{study.id}': nothing to plot (no member has a result yet)")
    return paths


def draw_point_plots(study: StudyFolder, verdict: PointsVerdict) -> list[Path]:
    """A sweep's pictures (metric against each key, the curves), or a tuning study's (history, importances,
    slices); a failure is a warning: the members' results are on disk and the tables still get written."""
    try:
        if study.kind == "tune":
            from dltool.plots.tune import draw_tune_figures

            return draw_tune_figures(study, verdict)
        from dltool.plots.sweep import draw_sweep_figures

        return draw_sweep_figures(study, verdict)
    except Exception as exc:
        print(f"warning: the {study.noun}'s plots were not drawn ({type(exc).__name__}: {exc})", file=sys.stderr)
        return []


def draw_plots(comparison: StudyFolder, verdict: Verdict, fork_ok: bool) -> list[Path]:
    folder = comparison.path(STUDY_FILES.plots)
    draw = functools.partial(draw_figures, folder, header=comparison.record.header, verdict=verdict)
    try:
        return draw_side_by_side(folder, figure_names(comparison.record), draw, fork_ok)
    except Exception as exc:  # the members' results are on disk and the tables still get written
        print(f"warning: the comparison's plots were not drawn ({type(exc).__name__}: {exc})", file=sys.stderr)
        return []


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
