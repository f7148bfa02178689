"""The terminal and script interface: --version and -h, tables that fit 80 and 160 columns without cutting
an id, and `runs --format json|csv` as typed fields. Oracles: the runs' own files."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
from pathlib import Path

import pytest
from conftest import CONFIGS, run_dir, run_folders
from rich.console import Console
from typer.testing import CliRunner

from dltool import __version__
from dltool.cli import app
from dltool.cli.runs_table import FIELDS
from dltool.train import engine


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs and a comparison: members, a study row and long ids."""
    folder = tmp_path_factory.mktemp("terminal") / "runs"
    invoke = CliRunner().invoke
    for args in (
        ["train", CONFIGS / "linreg_airfoil_scratch.yaml", "--set", "train.epochs=1", "-q"],
        ["train", CONFIGS / "linreg_airfoil_torch.yaml", "--set", "train.epochs=1", "--set", "optimizer.lr=0.01", "-q"],
        [
            "compare-optimizers",
            "-q",
            "--optimizers",
            "sgd,adam",
            "--impl",
            "scratch",
            "--jobs",
            "1",
            "--set",
            "train.epochs=1",
        ],
    ):
        assert invoke(app, [str(a) for a in [*args, "--runs-dir", folder]]).exit_code == 0
    return folder


def test_version_and_short_help(dltool):
    assert dltool("--version").stdout.strip() == f"dltool {__version__}"
    for args in (["-h"], ["runs", "-h"], ["compare-optimizers", "-h"]):
        result = dltool(*args)
        assert result.exit_code == 0 and "Usage: " in result.stdout and "--help" in result.stdout


@pytest.mark.parametrize("columns", [80, 160])
def test_the_runs_table_fits_the_terminal_and_shows_every_id_whole(runs, columns, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(columns))
    result = CliRunner().invoke(app, ["runs", "--members", "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    for folder in run_folders(runs):  # every id whole, so it can be copied as input
        assert any(folder.name in line for line in lines), folder.name
    header = next(line for line in lines if "┃ id" in line)
    assert ("eval loss" in header) and (("wall s" in header) == (columns == 160))


def test_runs_as_json_and_csv_are_typed_fields(runs):
    invoke = CliRunner().invoke
    rows = json.loads(invoke(app, ["runs", "--members", "--format", "json", "--runs-dir", str(runs)]).stdout)
    assert all(list(row) == list(FIELDS) for row in rows)
    run = next(row for row in rows if row["kind"] == "run" and row["study"] is None and row["lr"] == 0.01)
    summary = json.loads((runs / run["id"] / "summary.json").read_text())
    assert run["eval_loss"] == summary["final"]["full_loss"] and type(run["epochs"]) is float
    assert (run["batch_size"], run["optimizer"], run["optimizer_impl"]) == (10, "sgd", "torch")
    assert run["started"] == json.loads((runs / run["id"] / "status.json").read_text())["started"]
    study = next(row for row in rows if row["kind"] == "compare")
    assert (study["members_done"], study["members_total"]) == (2, 2) and study["damage"] is None
    as_csv = list(csv.DictReader(io.StringIO(invoke(app, ["runs", "--format", "csv", "--runs-dir", str(runs)]).stdout)))
    assert list(as_csv[0]) == list(FIELDS) and len(as_csv) == 3


def test_sort_and_limit_keep_members_under_their_study(runs):
    invoke = CliRunner().invoke
    by_loss = json.loads(
        invoke(app, ["runs", "--format", "json", "--sort", "eval_loss", "--runs-dir", str(runs)]).stdout
    )
    losses = [row["eval_loss"] for row in by_loss if row["eval_loss"] is not None]
    assert losses == sorted(losses)
    first = json.loads(
        invoke(app, ["runs", "--format", "json", "--limit", "1", "--members", "--runs-dir", str(runs)]).stdout
    )
    assert first[0]["kind"] == "compare" and {row["study"] for row in first[1:]} == {first[0]["id"]}


def test_a_key_of_another_optimizer_says_which_takes_it(dltool, runs_dir):
    result = dltool("train", CONFIGS / "linreg_airfoil_scratch.yaml", "--set", "optimizer.momentum=0.9")
    assert result.exit_code == 2 and run_folders(runs_dir) == []
    assert "unknown key (optimizer 'momentum' takes it: --set optimizer.name=momentum)" in result.output
    typo = dltool("train", CONFIGS / "linreg_airfoil_scratch.yaml", "--set", "optimizer.lrr=0.9")
    assert "(did you mean 'lr'?)" in typo.output  # a typo still gets its did-you-mean first


@pytest.mark.parametrize("columns", [80, 160])
def test_plain_progress_has_each_epochs_mean_train_loss_and_evaluation(dltool, runs_dir, monkeypatch, columns):
    """Without a terminal: a line per epoch (wrapped to COLUMNS) with the epoch's mean train loss and
    accuracy and the evaluation at its end, as metrics.jsonl records them."""
    monkeypatch.setenv("COLUMNS", str(columns))
    sets = ("--set", "train.epochs=2", "--set", "data.train_size=3000", "--set", "data.test_size=500")
    result = dltool("train", CONFIGS / "softmax_torch.yaml", *sets)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert max(len(line) for line in lines) <= columns
    (run,) = run_folders(runs_dir)
    text = " ".join(line.strip() for line in lines)  # the wrapped lines, joined again
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for epoch in (1, 2):
        train = next(r for r in records if r["split"] == "train" and r["epoch"] == epoch)
        test = next(r for r in records if r["split"] == "test" and r["step"] == train["step"])
        assert (
            f"epoch {epoch}.00/2, step {train['step']}/{2 * train['step'] // epoch}: train loss {train['loss']:.4f} "
            f"acc {train['acc']:.4f}, test loss {test['loss']:.4f} acc {test['acc']:.4f}"
        ) in text
    outcome = [line for line in result.stdout.splitlines() if "files:" not in line]  # a path is as long as it is
    assert f"run {run.name} completed" in outcome and max(len(line) for line in outcome) <= columns


def test_resume_says_where_it_continues(dltool, runs_dir):
    assert dltool("train", CONFIGS / "linreg_airfoil_scratch.yaml", "--set", "train.epochs=1").exit_code == 0
    (run,) = run_folders(runs_dir)
    status = json.loads((run / "status.json").read_text())
    (run / "status.json").write_text(json.dumps({**status, "status": "interrupted"}))  # as after Ctrl-C at the end
    resumed = dltool("train", "--resume", run.name)
    assert resumed.exit_code == 0, resumed.output
    assert f"resuming {run.name} from step 150 (epoch 1.00)" in resumed.stderr


@pytest.mark.parametrize("columns", [80, 160])
def test_show_of_a_run_and_of_a_comparison_fits_the_terminal(runs, columns, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(columns))
    comparison = next(p for p in run_folders(runs) if (p / "study.json").exists())
    run = next(
        p
        for p in run_folders(runs)
        if "scratch-sgd" in p.name and p.name not in (comparison / "study.json").read_text()
    )
    for item in (comparison.name, run.name):
        result = CliRunner().invoke(app, ["show", item, "--runs-dir", str(runs)])
        assert result.exit_code == 0, result.output
        lines = [line for line in result.stdout.splitlines() if str(runs) not in line]  # paths are as long as they are
        assert max(len(line) for line in lines) <= columns, item
        assert item in result.stdout
    verdict = CliRunner().invoke(app, ["show", comparison.name, "--runs-dir", str(runs)]).stdout
    header = next(line for line in verdict.splitlines() if "┃" in line)
    assert ("best loss" in header) == (columns == 160)  # a narrow terminal drops the table's lesser columns
    flowing = " ".join(verdict.split())  # the note wraps between words on a narrow terminal
    dropped = flowing.partition("columns too wide for this terminal")[2].partition("in results.md")[0]
    assert ("best loss" in dropped) == (columns == 80)  # and names them, never cuts them without a word


def test_show_as_json_gives_typed_fields_of_a_run_and_a_study(runs):
    comparison = next(p for p in run_folders(runs) if (p / "study.json").exists())
    show = CliRunner().invoke(app, ["show", comparison.name, "--format", "json", "--runs-dir", runs])
    study = json.loads(show.stdout)
    assert study["kind"] == "compare" and study["status"] == "completed" and set(FIELDS) <= set(study)
    assert (study["members_done"], study["members_total"]) == (2, 2)
    assert {group["group"] for group in study["results"]["groups"]} == {m["group"] for m in study["members"]}
    best = [group for group in study["results"]["groups"] if group["best"]]
    assert study["eval_loss"] == best[0]["final_loss"][0]  # the best contender's
    equivalent = {g["contender"] for g in study["results"]["groups"] if g["label"] == "equivalent"}
    shown = f"★ {best[0]['contender']}" + (f" (+{len(equivalent)} equivalent)" if equivalent else "")
    assert study["optimizer"] == shown
    member = study["members"][0]["run_id"]
    run = json.loads(CliRunner().invoke(app, ["show", member, "--format", "json", "--runs-dir", runs]).stdout)
    summary = json.loads((run_dir(runs, member) / "summary.json").read_text())
    assert run["id"] == member and run["study"] == comparison.name and set(FIELDS) <= set(run)
    assert run["final"] == summary["final"] and run["steps"] == summary["steps"] == 150
    assert isinstance(run["lr"], float) and isinstance(run["batch_size"], int) and run["config"]["train"]["epochs"] == 1
    assert isinstance(run["plots"], list) and all(Path(path).is_file() for path in run["plots"])


def test_a_run_stopped_inside_an_epoch_shows_that_epochs_metrics_so_far(dltool, runs_dir, monkeypatch):
    """Oracle: the mean of the batch losses the steps returned (equal batches of 10)."""
    real_step, losses = engine.Trainer.train_step, []

    def step(self, index):
        if self.pos.step == 20:
            self.stop.signum = signal.SIGINT  # what Ctrl-C sets
        losses.append(real_step(self, index))
        return losses[-1]

    monkeypatch.setattr(engine.Trainer, "train_step", step)
    result = dltool("train", CONFIGS / "linreg_airfoil_scratch.yaml")
    assert result.exit_code == 130
    (run,) = run_folders(runs_dir)
    so_far = json.loads((run / "summary.json").read_text())["epoch_so_far"]
    assert so_far["steps"] == 21 and so_far["train_loss"] == pytest.approx(sum(losses) / len(losses), rel=1e-9)
    assert "stopped at step 21 (epoch 0.14)" in result.stderr  # a run that did not complete: on stderr
    assert f"epoch so far (21 steps): train_loss {so_far['train_loss']:.4f}" in result.stderr
    shown = dltool("show", run.name).stdout
    assert "stopped at step 21" in shown and f"train_loss {so_far['train_loss']:.4f}" in shown


@pytest.mark.parametrize("columns", [80, 160])
def test_a_studys_member_lines_fit_the_terminal_with_each_id_whole(dltool, runs_dir, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    args = ("--optimizers", "momentum,adagrad", "--impl", "scratch", "--jobs", "1", "--set", "train.epochs=1")
    result = dltool("compare-optimizers", *args)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert max(len(line) for line in lines) <= columns
    comparison = next(p for p in run_folders(runs_dir) if (p / "study.json").exists())
    members = [m["run_id"] for m in json.loads((comparison / "study.json").read_text())["members"]]
    assert len(members) == 2 and all(any(run_id in line for line in lines) for run_id in members)
    first = next(line for line in lines if line.startswith("[1/2]"))
    assert first.endswith("completed") == (columns == 80)  # at 80 columns the id moves whole to the next line


def test_on_a_terminal_narrower_than_an_id_ids_become_prefixes_that_work_as_input(runs, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")  # room for 36 characters of an id; airfoil run ids have 40
    result = CliRunner().invoke(app, ["runs", "--members", "--runs-dir", str(runs)])
    assert result.exit_code == 0 and max(len(line) for line in result.stdout.splitlines()) <= 40
    assert "ids shortened to unique prefixes" in " ".join(result.stdout.split())
    cells = [line.split("│")[1].strip().removeprefix("└ ") for line in result.stdout.splitlines() if "│" in line]
    shown: list[str] = []
    for cell in (cell for cell in cells if cell and cell != "id"):  # an id whose prefix is not unique: two lines
        if re.match(r"\d{8}-\d{6}", cell):
            shown.append(cell)
        else:
            shown[-1] += cell
    assert len(shown) == len(run_folders(runs)) and any(len(cell) < 40 for cell in shown)
    for cell in shown:  # each a prefix that names its own item
        found = json.loads(CliRunner().invoke(app, ["show", cell, "--format", "json", "--runs-dir", runs]).stdout)
        assert found["id"].startswith(cell)


def test_an_id_whose_prefix_is_not_unique_is_shown_whole_over_two_lines(monkeypatch):
    """Two runs made in the same second with the same name share their first 36 characters."""
    from dltool.cli.runs_table import runs_table

    ids = ["20261203-202449-airfoil-scratch-sgd-2bc1", "20261203-202449-airfoil-scratch-sgd-2bd7"]
    rows = [{**dict.fromkeys(FIELDS), "id": item, "kind": "run", "status": "completed"} for item in ids]
    rows = [{**row, "model": "linreg", "model_impl": "scratch", "optimizer": "sgd", "optimizer_impl": "scratch"}
            for row in rows]  # fmt: skip
    console = Console(width=40, file=io.StringIO())
    console.print(runs_table(rows, "runs", width=40, every_id=frozenset(ids)))
    lines = console.file.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 40
    text = "".join(line.split("│")[1].strip() for line in lines if "│" in line)
    assert all(item in text for item in ids) and "shortened" not in console.file.getvalue()


def on_a_terminal(*args: str) -> list[str]:
    """The lines a user sees of `dltool ARGS` in an 80-column terminal (a pty for stdout and stderr: the live
    bars as they draw), escape sequences taken out."""
    import os
    import re
    import subprocess
    import sys

    main, child = os.openpty()
    process = subprocess.Popen([sys.executable, "-m", "dltool", *args], stdin=child, stdout=child, stderr=child,
                               env={**os.environ, "COLUMNS": "80"})  # fmt: skip
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=300) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", b"".join(chunks).decode(errors="replace"))
    return [line.strip() for line in text.replace("\r", "\n").splitlines()]


def test_on_a_terminal_each_finished_epoch_is_a_line_above_the_bar(tmp_path):
    import re

    lines = on_a_terminal("train", str(CONFIGS / "linreg_airfoil_scratch.yaml"), "--set", "train.epochs=3",
                          "--runs-dir", str(tmp_path))  # fmt: skip
    epochs = [line for line in lines if re.fullmatch(r"epoch \d\.00/3: train loss [\d.]+, full loss [\d.]+", line)]
    assert len(epochs) == 3, lines


def test_on_a_terminal_a_study_has_one_bar_with_its_member_lines_above(tmp_path):
    lines = on_a_terminal("sweep", str(CONFIGS / "linreg_airfoil_scratch.yaml"), "--grid",
                          "optimizer.lr=0.01,0.02,0.03", "--set", "train.epochs=1", "--jobs", "2",
                          "--engine", "process", "--runs-dir", str(tmp_path))  # fmt: skip
    bars = [line for line in lines if line.startswith("members ") and "/3" in line]
    assert bars and bars[-1].split()[2] == "3/3" and "left 0:00:00" in bars[-1], bars[-3:]
    done = [line for line in lines if line.startswith("[") and "/3] optimizer.lr=" in line]
    assert sorted(line[:5] for line in done) == ["[1/3]", "[2/3]", "[3/3]"]
