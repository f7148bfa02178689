"""Browsing stored runs: plot, runs filters and formats, show, TensorBoard export, and bad ids."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import CONFIGS, run_folders
from tests.data.test_fashion_mnist import make_fake_fashion_mnist


@pytest.fixture
def two_runs(dltool, runs_dir):
    """An airfoil run with sgd, then one with adam (regression, every-100-examples records), in the order
    they were made: both can start in the same second, and then their ids sort adam before sgd."""
    assert dltool("train", CONFIGS / "linreg_airfoil_scratch.yaml", "-q").exit_code == 0
    assert (
        dltool(
            "train",
            CONFIGS / "linreg_airfoil_scratch.yaml",
            "-q",
            "--set",
            "optimizer.name=adam",
            "--set",
            "optimizer.lr=0.01",
        ).exit_code
        == 0
    )
    return sorted(run_folders(runs_dir), key=lambda folder: json.loads((folder / "status.json").read_text())["created"])


@pytest.fixture
def classification_run(dltool, runs_dir, tmp_path):
    make_fake_fashion_mnist(tmp_path / "fm", n_train=200, n_test=50)
    result = dltool(
        "train",
        CONFIGS / "softmax_torch.yaml",
        "-q",
        "--set",
        f"data.root={tmp_path / 'fm'}",
        "--set",
        "train.epochs=3",
        "--set",
        "data.batch_size=50",
    )
    assert result.exit_code == 0, result.output
    return [f for f in run_folders(runs_dir) if "softmax" in f.name][0]


def test_train_writes_plots_and_predictions_for_classification(classification_run, dltool):
    plots = {p.name for p in (classification_run / "plots").iterdir()}
    # PNG alone by default; a constant lr draws no picture
    assert plots == {"loss.png", "accuracy.png", "confusion.png", "predictions.png"}
    assert (classification_run / "predictions.npz").stat().st_size > 1000
    shown = dltool("show", classification_run.name)
    assert "plots:" in shown.output and "confusion.png" in shown.output


def test_plot_one_run_redraws_its_pictures(two_runs, dltool):
    folder = two_runs[0]
    for png in (folder / "plots").glob("*"):
        png.unlink()
    result = dltool("plot", folder.name)
    assert result.exit_code == 0, result.output
    assert (folder / "plots" / "loss.png").stat().st_size > 5000
    assert (folder / "plots" / "loss_examples.png").exists()  # every-100-examples curve
    assert str(folder / "plots" / "loss.png") in result.output


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_plot_overlay_of_several_runs(two_runs, dltool, tmp_path, suffix):
    out = tmp_path / f"overlay{suffix}"
    result = dltool("plot", *[f.name for f in two_runs], "--x", "examples", "--logy", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 3000


def test_plot_options_on_one_run(two_runs, dltool):
    result = dltool("plot", "latest", "--metric", "lr", "--x", "step")
    assert result.exit_code == 0, result.output
    assert (two_runs[-1] / "plots" / "lr-vs-step.png").exists()


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["nope"], "no run or study 'nope'"),
        (["2"], "ambiguous"),
        (["../x"], "not a run id"),
        (["latest", "--metric", "f1"], "Invalid value for '--metric'"),
        (["latest", "--x", "wall"], "Invalid value for '--x'"),
        (["latest", "--out", "plot.jpeg"], "must end in"),
    ],
)
def test_plot_bad_input(two_runs, dltool, args, fragment):
    result = dltool("plot", *args)
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output


def test_plot_of_a_run_without_metrics_is_a_clear_error(two_runs, dltool):
    (two_runs[0] / "metrics.jsonl").write_text("")
    result = dltool("plot", two_runs[0].name)
    assert result.exit_code == 2 and "no metrics yet" in result.output


def test_plot_of_a_crashed_run_with_a_truncated_last_line(two_runs, dltool):
    path = two_runs[0] / "metrics.jsonl"
    path.write_text(path.read_text()[:-25])
    result = dltool("plot", two_runs[0].name, "--out", two_runs[0] / "plots" / "x.png")
    assert result.exit_code == 0, result.output


def test_runs_filters_and_formats(two_runs, dltool):
    as_json = json.loads(dltool("runs", "--format", "json").output)
    assert [r["id"] for r in as_json] == [f.name for f in reversed(two_runs)]  # newest first
    assert (as_json[0]["optimizer"], as_json[0]["optimizer_impl"], as_json[0]["status"]) == (
        "adam",
        "scratch",
        "completed",
    )
    rows = list(csv.DictReader(io.StringIO(dltool("runs", "--format", "csv", "--optimizer", "sgd").output)))
    assert [r["id"] for r in rows] == [two_runs[0].name]
    assert "no runs with model 'mlp'" in dltool("runs", "--model", "mlp").output
    assert dltool("runs", "--format", "xml").exit_code == 2


def test_export_to_tensorboard(two_runs, dltool):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = dltool("export", two_runs[0].name, "--format", "tensorboard")
    assert result.exit_code == 0, result.output
    events = EventAccumulator(str(two_runs[0] / "tensorboard"))
    events.Reload()
    assert {"full/loss", "train/loss", "lr"} <= set(events.Tags()["scalars"])
    assert len(events.Scalars("full/loss")) == 31
    assert dltool("export", two_runs[0].name, "--format", "wandb").exit_code == 2
    every = dltool("export", "--all")
    assert every.exit_code == 0 and all((run / "tensorboard").is_dir() for run in two_runs)
    assert "tensorboard --logdir" in every.output
    assert dltool("export").exit_code == 2 and dltool("export", "--all", two_runs[0].name).exit_code == 2


def test_train_with_tensorboard_writes_events(dltool, runs_dir):
    result = dltool("train", CONFIGS / "linreg_airfoil_torch.yaml", "-q", "--set", "train.tensorboard=true")
    assert result.exit_code == 0, result.output
    folder = run_folders(runs_dir)[0]
    assert any((folder / "tensorboard").glob("events.out.tfevents.*"))
