"""The plotting processes that `dltool train` starts with a run: the same pictures as drawing in-process,
errors reported to the run, Ctrl-C ignored, and no process left once the run's end closes them."""

from __future__ import annotations

import signal
import time

import pytest

from dltool.plots import run as plots
from dltool.plots.axes import PARTS
from dltool.plots.processes import PlotProcesses
from tests.plots.test_plots import add_predictions, assert_pictures, make_run


@pytest.fixture
def plotter():
    processes = PlotProcesses.start()
    assert processes is not None
    yield processes
    processes.close()
    for process in processes.processes:
        process.wait(timeout=30)


def test_the_processes_draw_what_the_run_would_draw_itself(tmp_path, plotter):
    run = make_run(tmp_path / "runs", "20260101-000000-mlp-scratch-sgd-aaaa")
    add_predictions(run)
    paths = plotter.draw(run.folder)
    assert len(plotter.processes) == len(PARTS)
    assert sorted(p.name for p in paths) == ["accuracy.png", "confusion.png", "loss.png", "predictions.png"]
    assert_pictures(paths)
    drawn_by_processes = {p.name: p.stat().st_size for p in paths}
    for path in paths:
        path.unlink()
    plots.write_run_plots(run)  # the same pictures, drawn here
    assert {p.name for p in run.path("plots").iterdir()} == set(drawn_by_processes)


def test_a_run_without_predictions_gets_its_curves(tmp_path, plotter):
    run = make_run(tmp_path / "runs", "20260101-000000-mlp-scratch-sgd-aaaa")
    assert sorted(p.name for p in plotter.draw(run.folder)) == ["accuracy.png", "loss.png"]


def test_a_failure_in_a_process_reaches_the_run(tmp_path, plotter):
    with pytest.raises(RuntimeError, match="UsageError: run no-such-run has no metrics"):
        plotter.draw(tmp_path / "no-such-run")
    run = make_run(tmp_path / "runs", "20260101-000000-mlp-scratch-sgd-aaaa")
    assert plotter.draw(run.folder)  # the processes still serve the next request


def test_ctrl_c_is_left_to_the_run_and_closing_ends_the_processes(tmp_path, plotter):
    time.sleep(1.0)  # past the worker's start, where it installs its handler
    for process in plotter.processes:
        process.send_signal(signal.SIGINT)
    run = make_run(tmp_path / "runs", "20260101-000000-mlp-scratch-sgd-aaaa")
    assert plotter.draw(run.folder)  # still alive after Ctrl-C
    plotter.close()
    for process in plotter.processes:
        assert process.wait(timeout=30) == 0
