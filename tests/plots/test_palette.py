"""One colour per optimizer in every picture (Reading): assigned from a fixed order, never by position in a
figure, so a comparison's loss curves, its learning-rate sensitivity, its performance profile and its budget
curves agree; scratch and torch told apart by line style, and drawn once where they coincide; a log axis's
ticks are plain numbers, never raw TeX."""

from __future__ import annotations

import colorsys
from pathlib import Path

import matplotlib.colors as mcolors
import pytest
from typer.testing import CliRunner

import dltool.optim  # noqa: F401 - registers the optimizers
from dltool.cli import app
from dltool.plots import budget, profile, study, sweep
from dltool.plots.figure import plain_log_ticks
from dltool.plots.palette import OPTIMIZER_ORDER, optimizer_color
from dltool.registry import OPTIMIZERS
from dltool.results.budget import BudgetCurve


def test_the_order_is_the_optimizers_dltool_ships():
    assert set(OPTIMIZER_ORDER) == set(OPTIMIZERS.names())
    assert len({optimizer_color(name) for name in OPTIMIZER_ORDER}) == len(OPTIMIZER_ORDER)
    assert optimizer_color("adam lr=0.01") == optimizer_color("adam")  # a variant's label counts by its optimizer


@pytest.fixture
def drawn(monkeypatch) -> dict:
    """The figures the next command draws, by file name, kept instead of written."""
    figures = {}

    def keep(fig, path):
        plain_log_ticks(fig)  # what save_figure does before it writes
        fig.canvas.draw()  # the tick labels are made when drawn
        figures[Path(path).stem] = fig
        return Path(path)

    for module in (study, profile, budget, sweep):
        monkeypatch.setattr(module, "save_figure", keep)
    return figures


def line_colors(fig) -> dict[str, str]:
    return {line.get_label(): mcolors.to_hex(line.get_color()) for ax in fig.axes for line in ax.get_lines()}


def test_every_picture_of_a_comparison_colours_each_optimizer_alike(drawn, tmp_path):
    result = CliRunner().invoke(app, ["compare-optimizers", "--lr-scale", "0.3,1", "--set", "train.epochs=1",
                                      "--jobs", "1", "-q", "--runs-dir", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    sensitivity, epochs = line_colors(drawn["lr_sensitivity"]), line_colors(drawn["loss_epoch"])
    for optimizer in OPTIMIZER_ORDER[:6]:  # the comparison's six
        mine = {label: color for label, color in sensitivity.items() if label.startswith(f"{optimizer} ·")}
        assert mine and set(mine.values()) == {optimizer_color(optimizer)}, (optimizer, sensitivity)
        # the loss curves: the optimizer's strongest shade is its colour, the lighter ones shades of it
        strongest = [color for label, color in epochs.items() if label.startswith(f"{optimizer} lr=")][-1]
        assert strongest == optimizer_color(optimizer), (optimizer, epochs)
    # airfoil's scratch and torch agree to float noise: one line each, labelled so
    assert all("scratch = torch" in label for label in sensitivity if "·" in label), sensitivity
    # the panel under the curves: each curve's last value, best on top, on an axis zoomed to where they differ
    curves, finals = drawn["loss_epoch"].axes
    labelled = [line for line in curves.get_lines() if not line.get_label().startswith("_")]
    last = {line.get_label(): line.get_ydata()[-1] for line in labelled}
    order = [tick.get_text() for tick in finals.get_yticklabels()]
    assert order == sorted(last, key=last.get)  # the best on top
    low, high = finals.get_xlim()
    assert high - low < (curves.get_ylim()[1] - curves.get_ylim()[0]) / 20  # the fourth digit made visible
    ticks = [tick.get_text() for tick in drawn["lr_sensitivity"].axes[0].get_xticklabels() if tick.get_text()]
    assert ticks and not any("$" in text or "mathdefault" in text for text in ticks), ticks


def test_a_sweep_s_points_have_distinct_colours(drawn, tmp_path):
    """One optimizer's four learning rates: four colours a reader tells apart, not four shades of one blue."""
    grid = "optimizer.lr=0.003,0.01,0.03,0.1"
    result = CliRunner().invoke(app, ["sweep", "linreg_airfoil_torch", "--grid", grid, "--set", "train.epochs=1",
                                      "--jobs", "1", "-q", "--runs-dir", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    colours = {label: color for label, color in line_colors(drawn["curves"]).items() if label.startswith("optimizer")}
    assert len(colours) == 4
    hues = {round(colorsys.rgb_to_hls(*mcolors.to_rgb(color))[0], 1) for color in colours.values()}
    assert len(hues) >= 3, colours  # shades of one colour share its hue


def test_the_profile_and_the_budget_use_the_same_colours(drawn, tmp_path):
    steps = {"a": {"momentum": 10.0, "adam": 20.0}, "b": {"adam": 5.0, "momentum": None}}
    profile.draw_profile(tmp_path, steps)
    colors = line_colors(drawn["performance_profile"])
    assert colors["momentum"] == optimizer_color("momentum") and colors["adam"] == optimizer_color("adam")
    curves = [BudgetCurve("rmsprop lr=0.01", (1, 2), (0.3, 0.2), (0.2, 0.1), (0.4, 0.3))]
    budget.draw_budget(tmp_path, curves, "t")
    assert line_colors(drawn["budget"])["rmsprop lr=0.01"] == optimizer_color("rmsprop")
