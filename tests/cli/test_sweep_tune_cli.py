"""Sweeps and tuning studies in the browse commands (runs, show, plot, diff, latest, train --resume), and
their bad input: one message that says what to fix, exit 2, nothing left behind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dltool.cli import app
from tests.conftest import CONFIGS, run_folders

CONFIG = CONFIGS / "linreg_airfoil_scratch.yaml"


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A runs folder holding two small sweeps (of lr; of lr and batch size) and a tuning study of 3 trials."""
    runs = tmp_path_factory.mktemp("studies") / "runs"
    common = ["-q", "--jobs", "1", "--set", "train.epochs=1", "--runs-dir", str(runs)]
    for args in (
        ["sweep", CONFIG, "--grid", "optimizer.lr=0.01,0.03"],
        ["sweep", CONFIG, "--grid", "optimizer.lr=0.01,0.03", "--grid", "data.batch_size=10,100"],
        ["tune", CONFIG, "--space", "optimizer.lr=loguniform(0.01,0.1)", "--trials", "3"],
    ):
        result = CliRunner().invoke(app, [str(a) for a in [*args, *common]])
        assert result.exit_code == 0, result.output
    return runs


@pytest.fixture
def studies(finished, runs_dir) -> dict[str, Path]:
    shutil.copytree(finished, runs_dir)
    records = {
        p: json.loads((p / "study.json").read_text()) for p in run_folders(runs_dir) if (p / "study.json").exists()
    }
    # the two sweeps may start in the same second (ids then order at random): told apart by their grids
    sweeps = {len(r["plan"]["grid"]): p for p, r in records.items() if r["kind"] == "sweep"}
    return {"sweep": sweeps[1], "sweep2": sweeps[2], "tune": next(p for p, r in records.items() if r["kind"] == "tune")}


def test_runs_lists_each_study_as_one_row(dltool, studies):
    result = dltool("runs", "--format", "json")
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {folder.name for folder in studies.values()}  # members hidden
    assert rows[studies["sweep2"].name]["kind"] == "sweep" and rows[studies["sweep2"].name]["members_total"] == 4
    assert rows[studies["tune"].name]["kind"] == "tune" and rows[studies["tune"].name]["members_done"] == 3
    expanded = json.loads(dltool("runs", "--format", "json", "--members").stdout)
    assert len(expanded) == 3 + 2 + 4 + 3


def test_show_prints_plan_table_members_and_files(dltool, studies):
    sweep = dltool("show", studies["sweep2"].name)
    assert sweep.exit_code == 0, sweep.output
    for text in ("sweep " + studies["sweep2"].name, "optimizer.lr: [0.01, 0.03]", "data.batch_size: [10, 100]",
                 "progress: 4/4 members ended", "final loss on full", "member runs", "results.md"):  # fmt: skip
        assert text in sweep.output, text
    tune = dltool("show", studies["tune"].name[:20])  # a unique prefix works as for runs
    assert tune.exit_code == 0, tune.output
    for text in ("tuning study", "optimizer.lr: loguniform(0.01, 0.1)", "objective: final loss on the training set",
                 "trial 0", "best.yaml", "optuna.db"):  # fmt: skip
        assert text in tune.output, text


def test_latest_is_the_newest_study_and_plot_redraws_its_pictures(dltool, studies):
    shown = dltool("show", "latest")
    assert shown.exit_code == 0 and studies["tune"].name in shown.output
    for folder in studies["tune"].joinpath("plots").iterdir():
        folder.unlink()
    plotted = dltool("plot", "latest")
    assert plotted.exit_code == 0, plotted.output
    assert {Path(line).name for line in plotted.stdout.split()} == {"history.png", "slices.png", "importances.png"}
    swept = dltool("plot", studies["sweep"].name)
    assert {Path(line).name for line in swept.stdout.split()} == {"metric_vs_optimizer.lr.png", "curves.png"}


def test_diff_of_two_sweeps_names_the_grid_that_differs(dltool, studies):
    result = dltool("diff", studies["sweep"].name, studies["sweep2"].name, "--format", "json")
    assert result.exit_code == 0, result.output
    assert "plan" in json.dumps(json.loads(result.stdout)["config"])


def test_a_sweep_id_is_not_a_run(dltool, studies):
    result = dltool("train", "--resume", studies["sweep"].name)
    assert result.exit_code == 2 and "is a sweep, not a run" in result.output
    result = dltool("tune", "--resume", studies["sweep"].name)
    assert result.exit_code == 2 and "not a tuning study" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", CONFIG, "--grid", "optimizer.lrr=0.1,0.2"], "--grid optimizer.lrr=0.1: unknown key (did you mean"),
        (["sweep", CONFIG, "--grid", "optimizer.lr=[0.1,0.2"], "an unclosed bracket"),
        (["sweep", CONFIG, "--grid", "optimizer.lr=0.1,,0.2"], "an empty value"),
        (["sweep", CONFIG, "--grid", "optimizer.lr"], "expected KEY=V1,V2"),
        (["sweep", CONFIG, "--grid", "optimizer.lr=-1,0.1"], "--grid optimizer.lr=-1: Input should be greater than 0"),
        (["sweep", CONFIG, "--grid", "optimizer.gamma=0.9,0.99"], "optimizers that take it: rmsprop"),
        (["sweep", CONFIG, "--grid", "seed=1,2"], "use --seeds N"),
        (["sweep", CONFIG, "--grid", "optimizer.lr=0.1", "--metric", "acc"], "trains a regression"),
        (["sweep", CONFIG], "give at least one --grid"),
        (["sweep", "--resume", "nope"], "no run or study 'nope'"),
        (["tune", CONFIG, "--space", "optimizer.lrr=loguniform(0.01,1)", "--trials", "3"], "(did you mean 'lr'?)"),
        (["tune", CONFIG, "--space", "optimizer.lr=logunif(0.01,1)", "--trials", "3"],
         "(did you mean 'loguniform'?); use loguniform(a,b), uniform(a,b), int(a,b) or choice(v1,v2,...)"),
        (["tune", CONFIG, "--space", "optimizer.lr=loguniform(0.01)", "--trials", "3"], "takes two bounds"),
        (["tune", CONFIG, "--space", "optimizer.lr=loguniform(0,1)", "--trials", "3"], "must be positive"),
        (["tune", CONFIG, "--space", "optimizer.lr=uniform(1,0.1)", "--trials", "3"], "low below high"),
        (["tune", CONFIG, "--space", "optimizer.lr=choice(1)", "--trials", "3"], "choice() needs at least two values"),
        (["tune", CONFIG, "--space", "data.batch_size=int(0,10)", "--trials", "3"], "greater than 0"),
        (["tune", CONFIG, "--space", "optimizer.momentum=uniform(0.1,0.9)", "--trials", "3"],
         "the config's optimizer 'sgd' has no hyperparameter 'momentum'; optimizers that take it: momentum"),
        (["tune", CONFIG, "--space", "optimizer.lr=loguniform(0.01,1)", "--trials", "3", "--storage",
          "sqlite:////nonexistent-folder/x.db"], "folder '/nonexistent-folder' does not exist"),
        (["tune", CONFIG, "--space", "optimizer.lr=loguniform(0.01,1)", "--trials", "3", "--storage", "nonsense"],
         "--storage 'nonsense' cannot be opened"),
        (["tune", CONFIGS / "mlp_torch.yaml", "--space", "optimizer.lr=loguniform(0.01,1)", "--trials", "3"],
         "--set data.validation="),
        (["tune", CONFIG, "--space", "optimizer.lr=loguniform(0.01,1)"], "--trials N"),
        (["tune", CONFIG, "--space", "optimizer.lr=loguniform(0.01,1)", "--trials", "0"], "--trials 0"),
    ],
)  # fmt: skip
def test_bad_input_is_one_message_and_exit_2(dltool, runs_dir, args, message):
    result = dltool(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert run_folders(runs_dir) == []  # nothing trained, nothing left behind
