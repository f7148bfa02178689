"""`dltool sweep`: the product of the grids × seeds as member runs, a table sorted by the metric, its
plots, and resuming (after SIGKILL, Ctrl-C, or the same command again) runs only what is missing.

Oracles: each member's own metrics.jsonl (the last evaluation's loss) for the table's means and
standard deviations, and an uninterrupted sweep for the resumed one.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CONFIGS, ctrl_c_inside_first_member, read_records, run_dir, run_folders

CONFIG = CONFIGS / "linreg_airfoil_scratch.yaml"
GRID = ("--grid", "optimizer.lr=0.01,0.03", "--grid", "data.batch_size=10,100")


def sweep_folder(runs_dir: Path) -> Path:
    folders = [p for p in run_folders(runs_dir) if "-sweep-" in p.name]
    assert len(folders) == 1, folders
    return folders[0]


def record_of(folder: Path) -> dict:
    return json.loads((folder / "study.json").read_text())


def csv_rows(folder: Path) -> list[dict]:
    with open(folder / "results.csv") as handle:
        return list(csv.DictReader(handle))


def final_losses(rows: list[dict]) -> dict[tuple, float]:
    return {(row["optimizer.lr"], row["data.batch_size"], row["seed"]): float(row["final_loss"]) for row in rows}


def sweep_command(runs_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dltool", "sweep", str(CONFIG), *GRID, "--seeds", "2", "--jobs", "1",
            "--runs-dir", str(runs_dir), "-q", *extra]  # fmt: skip


def test_a_2x2_sweep_with_2_seeds_on_airfoil(dltool, runs_dir):
    result = dltool("sweep", CONFIG, *GRID, "--seeds", "2", "--jobs", "1", "-q")
    assert result.exit_code == 0, result.output
    folder = sweep_folder(runs_dir)
    data = record_of(folder)
    assert data["kind"] == "sweep" and data["status"] == "completed" and len(data["members"]) == 8
    points = {(m["point"]["optimizer.lr"], m["point"]["data.batch_size"], m["seed"]) for m in data["members"]}
    assert points == {(lr, b, s) for lr in (0.01, 0.03) for b in (10, 100) for s in (0, 1)}
    # each member is an ordinary run of the config at its point, naming the sweep
    finals: dict[tuple, list[float]] = {}
    for member in data["members"]:
        run = run_dir(runs_dir, member["run_id"])
        status = json.loads((run / "status.json").read_text())
        assert status["status"] == "completed" and status["study"] == folder.name
        config = (run / "config.yaml").read_text()
        assert f"lr: {member['point']['optimizer.lr']}" in config and f"seed: {member['seed']}" in config
        last = [r for r in read_records(run) if r["split"] == "full"][-1]["loss"]
        finals.setdefault((member["point"]["optimizer.lr"], member["point"]["data.batch_size"]), []).append(last)
    # the table: one row per point, best first, mean ± std over the seeds of the members' own last losses
    groups = data["results"]["groups"]
    assert [g["final_loss"][0] for g in groups] == sorted(g["final_loss"][0] for g in groups)
    for group in groups:
        seeds = finals[(group["point"]["optimizer.lr"], group["point"]["data.batch_size"])]
        assert group["final_loss"][0] == pytest.approx(statistics.fmean(seeds), rel=1e-12)
        assert group["final_loss"][1] == pytest.approx(statistics.stdev(seeds), rel=1e-9)
    assert groups[0]["winner"] and not any(g["winner"] for g in groups[1:])
    assert len(csv_rows(folder)) == 8
    table = (folder / "results.md").read_text()
    assert table.index("| ★ | 0.03 | 10 |") < table.index("| 0.01 | 100 |")  # sorted, best first
    for name in ("metric_vs_optimizer.lr.png", "metric_vs_data.batch_size.png", "curves.png"):
        assert (folder / "plots" / name).stat().st_size > 10_000
    assert "best: optimizer.lr=0.03 data.batch_size=10" in result.output


def test_the_same_command_again_runs_nothing_new(dltool, runs_dir):
    assert dltool("sweep", CONFIG, "--grid", "optimizer.lr=0.01,0.03", "-q").exit_code == 0
    before = run_folders(runs_dir)
    first_wall = record_of(sweep_folder(runs_dir))["wall_time_s"]
    again = dltool("sweep", CONFIG, "--grid", "optimizer.lr=0.01,0.03", "-q")
    assert again.exit_code == 0, again.output
    assert run_folders(runs_dir) == before and "continued sweep" in again.output
    assert record_of(sweep_folder(runs_dir))["wall_time_s"] >= first_wall > 0  # both invocations', not the second's
    # another grid is another sweep
    assert dltool("sweep", CONFIG, "--grid", "optimizer.lr=0.01,0.02", "-q").exit_code == 0
    assert len([p for p in run_folders(runs_dir) if "-sweep-" in p.name]) == 2


def test_a_killed_sweep_resumes_only_the_missing_members(tmp_path):
    # member by member (--engine process): a population's members complete together, so "killed after three
    # of eight" would be a race between the two populations
    reference_dir, runs_dir = tmp_path / "reference", tmp_path / "runs"
    subprocess.run(sweep_command(reference_dir, "--engine", "process"), check=True, timeout=300)
    process = subprocess.Popen(sweep_command(runs_dir, "--engine", "process"), start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until three members have completed
        folders = [p for p in run_folders(runs_dir) if "-sweep-" in p.name]
        if folders and sum(m["status"] == "completed" for m in record_of(folders[0])["members"]) >= 3:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    folder = sweep_folder(runs_dir)
    done_before = {m["run_id"] for m in record_of(folder)["members"] if m["status"] == "completed"}
    assert 3 <= len(done_before) < 8
    runs_before = set(run_folders(runs_dir))
    again = subprocess.run(sweep_command(runs_dir, "--engine", "process"), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr  # the same command continues it
    data = record_of(folder)
    assert data["status"] == "completed" and all(m["status"] == "completed" for m in data["members"])
    assert done_before <= {m["run_id"] for m in data["members"]}  # the completed ones were kept, not re-run
    new_runs = set(run_folders(runs_dir)) - runs_before
    assert len(new_runs) <= 8 - len(done_before)  # only the missing ones (a killed member may continue in place)
    assert final_losses(csv_rows(folder)) == pytest.approx(final_losses(csv_rows(sweep_folder(reference_dir))))
    table = [
        (g["point"], g["final_loss"], g["winner"]) for g in data["results"]["groups"]
    ]  # the same table, in the same order
    reference = [
        (g["point"], g["final_loss"], g["winner"]) for g in record_of(sweep_folder(reference_dir))["results"]["groups"]
    ]
    assert table == reference


def test_ctrl_c_then_resume_continues_the_interrupted_member(tmp_path):
    runs_dir = tmp_path / "runs"
    command = [sys.executable, "-m", "dltool", "sweep", str(CONFIG), "--grid", "optimizer.lr=0.01,0.03",
               "--set", "train.epochs=100", "--jobs", "1", "--engine", "process", "--runs-dir", str(runs_dir),
               "-q"]  # fmt: skip
    ctrl_c_inside_first_member(command, runs_dir)
    folder = sweep_folder(runs_dir)
    data = record_of(folder)
    assert data["status"] == "interrupted"
    interrupted = [m for m in data["members"] if m["status"] == "interrupted"]
    assert len(interrupted) == 1 and {m["status"] for m in data["members"]} <= {"completed", "interrupted", "pending"}
    resumed = subprocess.run(
        [sys.executable, "-m", "dltool", "sweep", "--resume", folder.name, "--runs-dir", str(runs_dir), "-q",
         "--jobs", "1"], capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    members = record_of(folder)["members"]
    member = next(m for m in members if m["key"] == interrupted[0]["key"])
    assert member["run_id"] == interrupted[0]["run_id"] and member["status"] == "completed"  # continued in place
    assert all(m["status"] == "completed" for m in members)


def test_a_failed_member_does_not_stop_the_sweep_and_the_table_says_why(dltool, runs_dir, monkeypatch):
    import dltool.study.members as members

    real_train = members.train

    def train_unless_lr_003(config, *args, **kwargs):
        if config.optimizer.options["lr"] == 0.03:
            raise RuntimeError("the data went away")  # a member that fails before it trains
        return real_train(config, *args, **kwargs)

    monkeypatch.setattr(members, "train", train_unless_lr_003)
    args = ("sweep", CONFIG, "--grid", "optimizer.lr=0.01,0.03,0.1", "--jobs", "1", "--engine", "process", "-q")
    result = dltool(*args)
    assert result.exit_code == 1, result.output  # a member failed: exit 1, after the others ran
    folder = sweep_folder(runs_dir)
    rows = {row["optimizer.lr"]: row for row in csv_rows(folder)}
    assert rows["0.03"]["status"] == "failed" and rows["0.03"]["error"] == "RuntimeError: the data went away"
    assert rows["0.01"]["status"] == rows["0.1"]["status"] == "completed"
    assert "failed (RuntimeError: the data went away)" in (folder / "results.md").read_text()
    assert record_of(folder)["status"] == "completed"


def test_categories_are_points_side_by_side_and_numbers_a_line(dltool, runs_dir):
    """A name or list key has no order between its values: no line joins them, and each combination of
    the other keys sits slightly apart so the error bars do not hide each other."""
    from dltool.plots.sweep import metric_figure
    from dltool.results.members import load_results
    from dltool.results.points import judge_points
    from dltool.store.study import StudyFolder

    grids = ("--grid", "optimizer.name=sgd,adam", "--grid", "optimizer.lr=0.01,0.03")
    assert dltool("sweep", CONFIG, *grids, "--set", "train.epochs=1", "-q").exit_code == 0
    study = StudyFolder.open(sweep_folder(runs_dir))
    verdict, grid = judge_points(load_results(study), "loss"), study.record.header.plan["grid"]
    by_name = metric_figure(verdict, grid, "optimizer.name", "t").axes[0]
    points = [bars.lines[0] for bars in by_name.containers]  # the data line of each errorbar: one per lr
    assert len(points) == 2 and all(line.get_linestyle() == "None" for line in points)
    (sgd_a, adam_a), (sgd_b, adam_b) = (line.get_xdata() for line in points)
    assert sgd_a < sgd_b < adam_a < adam_b  # side by side at each name, the names in the grid's order
    by_lr = metric_figure(verdict, grid, "optimizer.lr", "t").axes[0]
    assert [bars.lines[0].get_linestyle() for bars in by_lr.containers] == ["-", "-"]
