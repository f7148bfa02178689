"""Plots from stored run folders, built by hand here (no torch, no training)."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
import yaml

from dltool.errors import UsageError
from dltool.plots import labels as plot_labels
from dltool.plots import overlay
from dltool.plots import predictions as plot_predictions
from dltool.plots import run as plots
from dltool.plots.axes import PlotFormat
from dltool.plots.figure import FORMATS, new_figure, save_figure_formats
from dltool.store.predictions import save_predictions
from dltool.store.run import Run

CLASS_NAMES = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot")
BASE_CONFIG = {
    "name": "mlp-scratch",
    "seed": 0,
    "device": "auto",
    "model": {"name": "mlp", "impl": "scratch", "hidden": [256]},
    "data": {"name": "fashion_mnist", "batch_size": 256, "root": None},
    "optimizer": {"name": "sgd", "impl": "scratch", "lr": 0.1, "weight_decay": 0.0},
    "schedule": {"name": "constant"},
    "train": {"epochs": 10, "eval_every_examples": None},
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_config(overrides: dict | None = None, base: dict = BASE_CONFIG) -> dict:
    """BASE_CONFIG with dotted overrides; a value of ... deletes the key."""
    config = copy.deepcopy(base)
    for dotted, value in (overrides or {}).items():
        *parents, last = dotted.split(".")
        node = config
        for key in parents:
            node = node.setdefault(key, {})
        if value is ...:
            node.pop(last, None)
        else:
            node[last] = value
    return config


def classification_records(epochs: int = 10, steps_per_epoch: int = 235, lr: float = 0.1) -> list[dict]:
    records = []
    for epoch in range(1, epochs + 1):
        for split, loss, acc in (
            ("train", 0.4 + 0.6 / epoch, 0.9 - 0.2 / epoch),
            ("test", 0.45 + 0.5 / epoch, 0.88 - 0.15 / epoch),
        ):
            records.append({
                "step": epoch * steps_per_epoch, "epoch": float(epoch), "examples": epoch * 60000,
                "time": epoch * 1.5, "split": split, "loss": loss, "acc": acc, "lr": lr,
            })  # fmt: skip
    return records


def regression_records(examples: int = 3000, every: int = 100, batch: int = 10, size: int = 1500) -> list[dict]:
    """The airfoil experiment: whole-set loss every 100 examples (and at step 0), train at epoch ends."""
    records = []
    for seen in range(0, examples + 1, every):
        loss = 0.24 + 0.25 * math.exp(-seen / 300)
        record = {
            "step": seen // batch,
            "epoch": seen / size,
            "examples": seen,
            "time": seen * 1e-4,
            "loss": loss,
            "acc": None,
            "lr": 0.05,
        }
        records.append({**record, "split": "full"})
        if seen and seen % size == 0:
            records.append({**record, "split": "train", "loss": loss + 0.005})
    return records


def make_run(root: Path, run_id: str, config: dict | None = None, records: list[dict] | None = None,
             status: dict | None = None, eval_split: str = "test", tail: str = "") -> Run:  # fmt: skip
    folder = root / run_id
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(
        yaml.safe_dump(config if config is not None else make_config(), sort_keys=False)
    )
    (folder / "status.json").write_text(json.dumps(status or {"status": "completed", "pid": 1}))
    records = classification_records() if records is None else records
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    (folder / "summary.json").write_text(
        json.dumps({"status": (status or {}).get("status", "completed"), "eval_split": eval_split})
    )
    return Run(folder)


def add_predictions(run: Run, n_test: int = 1000, k: int = 36, wrong_every: int = 7) -> dict:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, n_test)
    predicted = labels.copy()
    predicted[::wrong_every] = (predicted[::wrong_every] + 1) % 10
    images = rng.integers(0, 256, (k, 28, 28), dtype=np.uint8)
    save_predictions(run.path("predictions.npz"), labels, predicted, images, CLASS_NAMES)
    return {"labels": labels, "predicted": predicted, "images": images}


def legend_texts(ax) -> list[str]:
    """The legend of the axes, or the figure legend beside them (sweeps and long labels)."""
    legend = ax.get_legend() or ax.figure.legends[0]
    return [text.get_text() for text in legend.get_texts()]


def assert_inside_limits(ax) -> None:
    """Nothing the axes draws is cut off by their limits (the notes' fixed ylim did that)."""
    low, high = sorted(ax.get_ylim())
    for line in ax.lines:
        ys = np.asarray(line.get_ydata(), dtype=float)
        ys = ys[np.isfinite(ys)]
        assert ys.size == 0 or (low <= ys.min() and ys.max() <= high), (line.get_label(), ys.min(), ys.max(), low, high)


@pytest.fixture
def runs_root(tmp_path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def mlp_run(runs_root) -> Run:
    return make_run(runs_root, "20260101-000000-mlp-scratch-sgd-aaaa")


@pytest.fixture
def airfoil_run(runs_root) -> Run:
    config = make_config({
        "name": "airfoil-scratch", "model": {"name": "linreg", "impl": "scratch"},
        "data": {"name": "airfoil", "batch_size": 10, "root": None}, "optimizer.lr": 0.05,
        "train": {"epochs": 2, "eval_every_examples": 100},
    })  # fmt: skip
    return make_run(
        runs_root, "20260101-000001-airfoil-scratch-sgd-bbbb", config, regression_records(), eval_split="full"
    )


# ---------------------------------------------------------------- the run's own pictures


def assert_pictures(paths: list[Path]) -> None:
    """Each file is a whole picture of its format: PNG by its magic, SVG and PDF parsed by their readers."""
    for path in paths:
        data = path.read_bytes()
        assert len(data) > 5_000, (path.name, len(data))
        if path.suffix == ".png":
            assert data.startswith(PNG_MAGIC), path.name
        elif path.suffix == ".svg":
            assert ElementTree.fromstring(data).tag == "{http://www.w3.org/2000/svg}svg", path.name
        else:
            assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF"), path.name


def test_write_run_plots_writes_every_picture_as_png_alone(mlp_run):
    """A config without a plots section: PNG only (an SVG costs as much again to draw), no flat lr picture."""
    add_predictions(mlp_run)
    paths = plots.write_run_plots(mlp_run)
    folder = mlp_run.path("plots")
    names = ("loss", "accuracy", "confusion", "predictions")
    assert sorted(paths) == sorted(folder / f"{name}.png" for name in names)
    assert sorted(folder.iterdir()) == sorted(paths)  # no svg, no lr, no temporary file left behind
    assert_pictures(paths)


@pytest.mark.parametrize("formats", [["png", "svg"], ["svg"], ["pdf", "png"]])
def test_write_run_plots_writes_the_formats_the_config_asks_for(runs_root, formats):
    run = make_run(runs_root, "20260101-000003-mlp-scratch-sgd-dddd", make_config({"plots.formats": formats}))
    add_predictions(run)
    paths = plots.write_run_plots(run)
    names = ("loss", "accuracy", "confusion", "predictions")
    assert sorted(paths) == sorted(run.path("plots") / f"{name}.{fmt}" for name in names for fmt in formats)
    assert sorted(run.path("plots").iterdir()) == sorted(paths)
    assert_pictures(paths)


def test_run_with_a_damaged_config_gets_pngs(runs_root):
    run = make_run(runs_root, "20260101-000004-mlp-scratch-sgd-eeee")
    run.path("config.yaml").write_text("plots: {formats: [gif]}\n")  # a config the schema refuses
    assert sorted(p.name for p in plots.write_run_plots(run)) == ["accuracy.png", "loss.png"]


def test_regression_run_has_loss_but_no_accuracy_nor_a_flat_lr(airfoil_run):
    """...and, as it evaluates every 100 examples, the notes' loss-against-examples curve."""
    paths = plots.write_run_plots(airfoil_run)
    assert sorted(p.name for p in paths) == ["loss.png", "loss_examples.png"]
    ax = plots.build_run_figures(airfoil_run.snapshot())["loss_examples"].axes[0]
    assert ax.get_xlabel() == "examples seen"


def test_loss_figure_labels_title_and_legend(mlp_run):
    figures = plots.build_run_figures(mlp_run.snapshot())
    assert set(figures) == {"loss", "accuracy"}  # a constant lr: no flat line
    ax = figures["loss"].axes[0]
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "loss"
    assert legend_texts(ax) == ["train (epoch mean)", "test"]
    title = ax.get_title()
    for part in ("mlp (scratch)", "sgd (scratch)", "lr 0.1", mlp_run.id):
        assert part in title
    assert all(line.get_marker() not in (None, "None", "") for line in ax.lines), "epoch curves have markers"

    acc = figures["accuracy"].axes[0]
    assert acc.get_xlabel() == "epoch" and "accuracy" in acc.get_ylabel()
    assert legend_texts(acc) == ["train (epoch mean)", "test"]
    assert "accuracy" in acc.get_title()


def decaying_records() -> list[dict]:
    """classification_records with the lr halved every epoch (a schedule at work)."""
    records = classification_records()
    for record in records:
        record["lr"] = 0.1 * 0.5 ** (record["epoch"] - 1)
    return records


def test_lr_picture_of_a_changing_rate(runs_root):
    run = make_run(runs_root, "20260101-000005-mlp-scratch-sgd-ffff", records=decaying_records())
    figures = plots.build_run_figures(run.snapshot())
    assert set(figures) == {"loss", "accuracy", "lr"}
    lr = figures["lr"].axes[0]
    assert lr.get_xlabel().startswith("step") and lr.get_ylabel() == "learning rate"
    np.testing.assert_allclose(lr.lines[0].get_xdata(), np.arange(1, 11) * 235)
    np.testing.assert_allclose(lr.lines[0].get_ydata(), 0.1 * 0.5 ** np.arange(10))
    assert sorted(p.name for p in plots.write_run_plots(run)) == ["accuracy.png", "loss.png", "lr.png"]


@pytest.mark.parametrize(
    "lrs, changed",
    [([0.1] * 20, False), ([0.1] * 18 + [0.1 + 1e-12] * 2, True), ([0.1], False), ([None] * 20, False),
     ([None] * 19 + [0.1], False), ([0.1, None] * 10, False), ([0.1] * 10 + [0.05] * 10, True)],
)  # fmt: skip
def test_lr_changed_is_any_difference_between_the_recorded_rates(runs_root, lrs, changed):
    """lrs: one per record, a train and a test record per step (the lr of a step is that of its first record)."""
    records = classification_records()
    for record, lr in zip(records, lrs):
        record["lr"] = lr
    run = make_run(runs_root, "20260101-000006-mlp-scratch-sgd-abab", records=records)
    assert plots.lr_changed(plots.load_columns(run.snapshot())) is changed
    assert ("lr" in plots.build_run_figures(run.snapshot())) is changed


def test_full_set_curve_is_a_line_against_epoch(airfoil_run):
    ax = plots.build_run_figures(airfoil_run.snapshot())["loss"].axes[0]
    curves = {line.get_label(): line for line in ax.lines}
    full = curves["whole data set"]
    assert len(full.get_xdata()) == 31 and full.get_xdata()[0] == 0 and full.get_xdata()[-1] == 2
    assert full.get_marker() in (None, "None", "")  # 31 points: a line, as in the notes' figure
    assert curves["train (epoch mean)"].get_marker() == "o"


def test_no_curve_is_clipped(mlp_run, airfoil_run, tmp_path):
    # a loss far outside the notes' hard-coded [0.3, 0.9]
    records = classification_records()
    records[0]["loss"] = 7.5
    run = make_run(tmp_path / "more", "20260101-000002-mlp-x-sgd-cccc", records=records)
    for r in (mlp_run, airfoil_run, run):
        for fig in plots.build_run_figures(r.snapshot()).values():
            assert_inside_limits(fig.axes[0])
    for metric in ("loss", "acc", "lr"):
        assert_inside_limits(overlay.build_overlay([mlp_run.snapshot(), run.snapshot()], metric=metric).axes[0])


def test_lr_axis_starts_at_zero_for_a_constant_rate(mlp_run):
    """A constant rate is drawn when asked for (dltool plot --metric lr), as a flat line above 0."""
    ax = overlay.build_overlay([mlp_run.snapshot()], metric="lr", x="step").axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 0.1)
    low, high = ax.get_ylim()
    assert low == 0 and high > 0.1


# ---------------------------------------------------------------- overlays


def test_overlay_legend_names_what_differs(runs_root):
    adam = make_config({
        "name": "a", "optimizer": {"name": "adam", "impl": "scratch", "lr": 0.01, "betas": [0.9, 0.999]},
        "data.root": "/somewhere",
    })  # fmt: skip
    sgd = make_config({"name": "b", "model.impl": "torch", "optimizer": {"name": "sgd", "impl": "torch", "lr": 0.1}})
    runs = [
        make_run(runs_root, "20260101-000010-a-adam-0001", adam),
        make_run(runs_root, "20260101-000011-b-sgd-0002", sgd),
    ]
    fig = overlay.build_overlay([run.snapshot() for run in runs])
    ax = fig.axes[0]
    # model.impl and optimizer.impl agree within each run: one bare value; betas belongs to adam only;
    # name and data.root are not differences worth a legend
    assert legend_texts(ax) == ["adam · scratch · lr=0.01", "sgd · torch · lr=0.1"]
    assert ax.get_ylabel() == "test loss"
    assert ax.get_xlabel() == "epoch"
    assert "2 runs" in ax.get_title() and "mlp" in ax.get_title()


def test_overlay_labels_fall_back_to_seed_then_run_ids(runs_root):
    seeds = [make_run(runs_root, f"20260101-00002{i}-mlp-sgd-000{i}", make_config({"seed": i})) for i in range(2)]
    assert plot_labels.run_labels([run.snapshot() for run in seeds]) == ["seed=0", "seed=1"]
    same = [make_run(runs_root, f"20260101-00003{i}-mlp-sgd-001{i}") for i in range(2)]
    assert plot_labels.run_labels([run.snapshot() for run in same]) == [run.id for run in same]
    assert plot_labels.run_labels([same[0].snapshot()]) == [same[0].id]


def test_overlay_shows_hyperparameters_of_the_same_optimizer(runs_root):
    fast = make_config({"optimizer": {"name": "momentum", "impl": "scratch", "lr": 0.004, "momentum": 0.9}})
    slow = make_config({"optimizer": {"name": "momentum", "impl": "scratch", "lr": 0.004, "momentum": 0.5}})
    plain = make_config({"optimizer": {"name": "sgd", "impl": "scratch", "lr": 0.004}})
    runs = [
        make_run(runs_root, f"20260101-00004{i}-m-x-002{i}", config) for i, config in enumerate((fast, slow, plain))
    ]
    assert plot_labels.run_labels([run.snapshot() for run in runs]) == [
        "momentum · momentum=0.9",
        "momentum · momentum=0.5",
        "sgd",
    ]


def test_model_and_optimizer_impls_apart_are_named(runs_root):
    mixed = make_config({"model.impl": "torch"})  # torch model, scratch optimizer: a bare 'torch' would mislead
    runs = [make_run(runs_root, "20260101-000050-m-sgd-0030"), make_run(runs_root, "20260101-000051-m-sgd-0031", mixed)]
    assert plot_labels.run_labels([run.snapshot() for run in runs]) == ["model.impl=scratch", "model.impl=torch"]
    both = make_config({"optimizer.impl": "torch"})
    runs.append(make_run(runs_root, "20260101-000052-m-sgd-0032", both))
    assert plot_labels.run_labels([run.snapshot() for run in runs]) == [
        "model.impl=scratch · optimizer.impl=scratch",
        "model.impl=torch · optimizer.impl=scratch",
        "model.impl=scratch · optimizer.impl=torch",
    ]


@pytest.mark.parametrize("suffix, magic", [(".png", PNG_MAGIC), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_overlay_format_follows_the_extension(mlp_run, airfoil_run, tmp_path, suffix, magic):
    out = tmp_path / "out" / f"overlay{suffix}"
    assert overlay.plot_overlay([mlp_run.snapshot(), airfoil_run.snapshot()], out=out) == out
    data = out.read_bytes()
    assert data.startswith(magic) and len(data) > 5_000


def test_overlay_refuses_unknown_formats_and_choices(mlp_run, tmp_path):
    with pytest.raises(UsageError, match=r"\.png, \.svg, \.pdf"):
        overlay.plot_overlay([mlp_run.snapshot()], out=tmp_path / "overlay.jpg")
    assert not (tmp_path / "overlay.jpg").exists()
    with pytest.raises(UsageError, match="--metric 'accuracy'"):
        overlay.build_overlay([mlp_run.snapshot()], metric="accuracy")
    with pytest.raises(UsageError, match="--x 'epochs'"):
        overlay.build_overlay([mlp_run.snapshot()], x="epochs")
    with pytest.raises(UsageError, match="no runs"):
        overlay.build_overlay([])


def test_overlay_of_one_run_draws_each_split(mlp_run):
    ax = overlay.build_overlay([mlp_run.snapshot()], metric="acc", x="examples").axes[0]
    assert legend_texts(ax) == ["train (epoch mean)", "test"]
    assert ax.get_xlabel() == "examples seen"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.arange(1, 11) * 60000)


@pytest.mark.parametrize("x, label", [("epoch", "epoch"), ("step", "step (parameter updates)"),
                                      ("examples", "examples seen"), ("time", "training time (s)")])  # fmt: skip
def test_overlay_x_axes(mlp_run, airfoil_run, x, label):
    ax = overlay.build_overlay([mlp_run.snapshot(), airfoil_run.snapshot()], x=x).axes[0]
    assert ax.get_xlabel() == label
    # each run on its own evaluation split: test for the classifier, whole set for the regression
    mlp, linreg = legend_texts(ax)
    assert mlp.startswith("mlp · fashion_mnist · ") and mlp.endswith(" · test")
    assert linreg.startswith("linreg · airfoil · ") and linreg.endswith(" · full")
    assert "eval_every_examples=100" in linreg and "lr=0.05" in linreg


def test_overlay_logy_and_explicit_split(mlp_run, runs_root):
    other = make_run(runs_root, "20260101-000060-mlp-adam-0040", make_config({"optimizer.name": "adam"}))
    ax = overlay.build_overlay([mlp_run.snapshot(), other.snapshot()], split="train", logy=True).axes[0]
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "train loss (log scale)"
    assert legend_texts(ax) == ["sgd", "adam"]
    assert overlay.build_overlay([mlp_run.snapshot(), other.snapshot()]).axes[0].get_yscale() == "linear"


def test_overlay_of_lr_uses_every_record_once(airfoil_run):
    ax = overlay.build_overlay([airfoil_run.snapshot()], metric="lr", x="step").axes[0]
    xs = ax.lines[0].get_xdata()
    assert list(xs) == sorted(set(xs)) and len(xs) == 31


def test_accuracy_of_a_regression_run_is_a_usage_error(airfoil_run):
    with pytest.raises(UsageError, match="no acc records"):
        overlay.build_overlay([airfoil_run.snapshot()], metric="acc")


# ---------------------------------------------------------------- damaged, empty and diverged runs


def test_truncated_last_line_still_plots(runs_root):
    run = make_run(runs_root, "20260101-000070-mlp-sgd-0050", tail='{"step": 2585, "epoch": 11.0, "exam')
    ax = plots.build_run_figures(run.snapshot())["loss"].axes[0]
    assert len(ax.lines[0].get_xdata()) == 10
    assert len(plots.plot_run(run.snapshot(), run.path("plots"), ["png", "svg"])) == 4


@pytest.mark.parametrize("content", [None, "", '{"step": 1, "epo'])
def test_run_without_metrics_is_a_usage_error(runs_root, content):
    run = make_run(runs_root, "20260101-000080-mlp-sgd-0060", records=[], status={"status": "running", "pid": 1})
    if content is None:
        run.path("metrics.jsonl").unlink()
    else:
        run.path("metrics.jsonl").write_text(content)
    with pytest.raises(UsageError, match=f"run {run.id} has no metrics yet"):
        plots.write_run_plots(run)
    with pytest.raises(UsageError, match="no metrics yet"):
        overlay.plot_overlay([run.snapshot()], out=runs_root / "x.png")


def test_diverged_run_plots_what_exists_and_marks_the_end(runs_root):
    records = regression_records(examples=500)
    records[3]["loss"] = 1e9
    records[4]["loss"] = float("inf")
    records[5]["loss"] = float("nan")
    status = {"status": "diverged", "diverged_at_step": 51, "error": "loss became nan at step 51"}
    run = make_run(runs_root, "20260101-000090-airfoil-sgd-0070", records=records, status=status, eval_split="full")
    ax = plots.build_run_figures(run.snapshot())["loss"].axes[0]
    curve = next(line for line in ax.lines if line.get_label() == "whole data set")
    assert np.isfinite(curve.get_ydata()).all() and len(curve.get_ydata()) == 4
    assert ax.get_yscale() == "log"  # 0.5 .. 1e9: on a linear axis the start would be a flat line
    assert any("diverged at step 51" in text.get_text() for text in ax.texts)
    assert "(diverged)" in ax.get_title()
    assert_inside_limits(ax)
    assert [p.name for p in plots.write_run_plots(run)] == ["loss.png"]  # lr 0.05 throughout: no lr picture

    other = make_run(
        runs_root, "20260101-000091-airfoil-sgd-0071", make_config({"optimizer.lr": 0.01}), regression_records()
    )
    legend = legend_texts(overlay.build_overlay([run.snapshot(), other.snapshot()]).axes[0])
    assert legend == ["lr=0.1 (diverged at step 51)", "lr=0.01"]


def test_non_numeric_values_are_skipped(runs_root):
    records = classification_records()
    records[2]["loss"] = None
    records[4]["acc"] = "oops"
    run = make_run(runs_root, "20260101-000100-mlp-sgd-0080", records=records)
    figures = plots.build_run_figures(run.snapshot())
    for name in ("loss", "accuracy"):
        curves = {line.get_label(): len(line.get_xdata()) for line in figures[name].axes[0].lines}
        assert curves == {"train (epoch mean)": 9, "test": 10}, name


# ---------------------------------------------------------------- classification extras


def test_confusion_matrix(mlp_run):
    truth = add_predictions(mlp_run)
    fig = plot_predictions.build_confusion(mlp_run.snapshot())
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.get_xticklabels()] == list(CLASS_NAMES)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(CLASS_NAMES)
    assert ax.get_xticklabels()[0].get_rotation() == 45
    accuracy = (truth["labels"] == truth["predicted"]).mean()
    assert f"accuracy {accuracy:.4f}" in ax.get_title()
    counts = np.zeros((10, 10), int)
    np.add.at(counts, (truth["labels"], truth["predicted"]), 1)
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): int(t.get_text()) for t in ax.texts}
    assert cells == {(i, j): counts[i, j] for i in range(10) for j in range(10)}
    assert len(fig.axes) == 2  # the colour bar
    out = plot_predictions.plot_confusion(mlp_run.snapshot(), mlp_run.folder / "c.pdf")
    assert out.read_bytes().startswith(b"%PDF")


def test_prediction_grid_titles_and_mistakes(mlp_run, tmp_path):
    truth = add_predictions(mlp_run, wrong_every=7)
    fig = plot_predictions.build_prediction_grid(mlp_run.snapshot(), n=18)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 18
    for i, ax in enumerate(shown):
        true, predicted = CLASS_NAMES[truth["labels"][i]], CLASS_NAMES[truth["predicted"][i]]
        assert ax.get_title() == f"{true}\n{predicted}"
        wrong = i % 7 == 0
        assert (ax.title.get_color() == "tab:red") == wrong
    assert "3 wrong" in fig._suptitle.get_text()
    out = plot_predictions.plot_prediction_grid(mlp_run.snapshot(), tmp_path / "grid.png", n=5)
    assert out.read_bytes().startswith(PNG_MAGIC) and out.stat().st_size > 5_000
    assert (
        len([ax for ax in plot_predictions.build_prediction_grid(mlp_run.snapshot(), n=100).axes if ax.images]) == 36
    )  # all there are


def test_save_predictions_format(tmp_path):
    images = np.linspace(0, 1, 2 * 28 * 28).reshape(2, 1, 28, 28)  # floats in [0, 1], a channel axis
    path = save_predictions(tmp_path / "predictions.npz", [1, 2, 3], np.array([1, 2, 4]), images, CLASS_NAMES)
    assert path == tmp_path / "predictions.npz" and not list(tmp_path.glob(".*tmp"))
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == ["class_names", "images", "labels", "predicted"]
        assert data["images"].dtype == np.uint8 and data["images"].shape == (2, 28, 28)
        assert data["images"].max() == 255 and data["images"].min() == 0
        assert data["labels"].tolist() == [1, 2, 3] and data["predicted"].tolist() == [1, 2, 4]
        assert data["class_names"].tolist() == list(CLASS_NAMES)
    with pytest.raises(ValueError):
        save_predictions(tmp_path / "bad.npz", [1, 2], [1], images, CLASS_NAMES)
    with pytest.raises(ValueError):
        save_predictions(tmp_path / "bad.npz", [1], [1], np.zeros((2, 3)), CLASS_NAMES)


def test_damaged_predictions_file_is_named_in_the_error(mlp_run):
    mlp_run.path("predictions.npz").write_bytes(b"not a zip")
    with pytest.raises(UsageError, match="predictions.npz"):
        plots.write_run_plots(mlp_run)


# ---------------------------------------------------------------- speed and imports


def test_a_thousand_epochs_plot_about_as_fast_as_ten(runs_root):
    """Drawing grows with the records no faster than linearly: a thousand epochs take a few times ten epochs'
    time (fixed costs dominate), never the hundredfold a per-record loop over the figure would cost. A ratio
    measured in one test, not seconds: the machine's load cancels out."""
    new_figure()  # matplotlib's import is not the plotting time

    def seconds(epochs: int, name: str) -> float:
        run = make_run(runs_root, name, records=classification_records(epochs=epochs))
        start = time.perf_counter()
        assert len(plots.plot_run(run.snapshot(), run.path("plots"), ["png", "svg"])) == 4
        return time.perf_counter() - start

    seconds(10, "20260101-000109-mlp-sgd-0089")  # warm: fonts and caches
    few = min(seconds(10, f"20260101-00011{i}-mlp-sgd-009{i}") for i in range(2))
    many = seconds(1000, "20260101-000120-mlp-sgd-0100")
    assert many < 10 * few, f"{many:.2f} s for 1,000 epochs, {few:.2f} s for 10"


def test_import_does_not_load_torch_or_pyplot(tmp_path):
    code = (
        "import sys, dltool.plots.run, dltool.plots.figure\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported eagerly'\n"
        "dltool.plots.figure.new_figure()\n"
        "assert 'torch' not in sys.modules and 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)


# ---------------------------------------------------------------- formats


def test_formats_are_one_list():
    """The command line's --format, the config's plots.formats and the savable extensions name the same formats."""
    from typing import get_args

    from dltool.config import PlotsSection

    (item,) = get_args(PlotsSection.model_fields["formats"].annotation)
    assert [fmt.value for fmt in PlotFormat] == list(get_args(item)) == [suffix[1:] for suffix in FORMATS]


def test_save_figure_formats_draws_one_figure_into_each_format(tmp_path):
    fig, ax = new_figure()
    ax.plot([0, 1, 2], [3, 1, 2])
    ax.set_title("x" * 2000)  # enough text for a picture over assert_pictures' size floor
    paths = save_figure_formats(fig, tmp_path / "deep" / "loss-vs-epoch", ["svg", "pdf", "png"])
    assert paths == [tmp_path / "deep" / f"loss-vs-epoch.{fmt}" for fmt in ("svg", "pdf", "png")]
    assert_pictures(paths)
