"""`dltool compare-optimizers`: the notes' optimizer study as one command.

Oracles: the notes' printed numbers (final points of the 2-D trajectories, the 1-D gradient descent
values, Newton on cosh), the airfoil acceptance band, and --jobs 1 as the reference for --jobs N.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import CONFIGS, read_records, run_dir, run_folders, write

from dltool.store.study import STUDY_FILES, Headline, MemberEntry, StudyEnd, StudyFolder, StudyHeader

NOTES_2D = {  # the notes' `epoch 20, x1 .., x2 ..` for f = 0.1 x1^2 + 2 x2^2 (seed 004)
    "sgd lr=0.4": "-0.943467 -0.000073",
    "sgd lr=0.6": "-0.387814 -1673.365109",
    "momentum lr=0.4 momentum=0.5": "-0.062843 0.001202",
    "momentum lr=0.6 momentum=0.5": "0.007188 0.002553",
    "adagrad lr=0.4": "-2.382563 -0.158591",
    "adagrad lr=2": "-0.002295 -0.000000",
    "rmsprop lr=0.4 gamma=0.9": "-0.010599 0.000000",
}


def comparison_folder(runs_dir: Path) -> Path:
    folders = [p for p in run_folders(runs_dir) if "-compare-" in p.name]
    assert len(folders) == 1, folders
    return folders[0]


def rows_of(folder: Path) -> list[dict]:
    with open(folder / "results.csv") as handle:
        return list(csv.DictReader(handle))


def by_group(rows: list[dict]) -> dict[str, dict]:
    return {row["group"]: row for row in rows}


def losses(runs_dir: Path, run_id: str) -> list[float | None]:
    return [r["loss"] for r in read_records(run_dir(runs_dir, run_id))]


def test_default_comparison_is_the_notes_airfoil_study(dltool, runs_dir):
    result = dltool("compare-optimizers", "-q")
    assert result.exit_code == 0, result.output
    folder = comparison_folder(runs_dir)
    rows = rows_of(folder)
    assert len(rows) == 12
    assert {(r["optimizer"], r["impl"]) for r in rows} == {
        (o, i) for o in ("sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam") for i in ("scratch", "torch")
    }
    for row in rows:
        assert row["status"] == "completed"
        assert 0.235 <= float(row["final_loss"]) <= 0.26, row
        member = run_dir(runs_dir, row["run_id"])
        config = (member / "config.yaml").read_text()
        assert "batch_size: 10" in config and "eval_every_examples: 100" in config and "name: airfoil" in config
        assert [r["examples"] for r in read_records(member) if r["split"] == "full"] == list(range(0, 3001, 100))
    # every member starts from the same point with the same data order: the first losses agree
    assert len({losses(runs_dir, r["run_id"])[0] for r in rows}) == 1
    for name in (
        "results.csv",
        "study.json",
        "results.md",
        "plots/loss_epoch.png",
        "plots/loss_time.png",
        "plots/scratch_vs_torch.png",
    ):
        assert (folder / name).is_file(), name
    data = json.loads((folder / "study.json").read_text())
    assert data["status"] == "completed" and [m["run_id"] for m in data["members"]] == [r["run_id"] for r in rows]
    # one seed tests nothing: the best is named, every other contender is inconclusive, and it says why
    assert sum(group["best"] for group in data["results"]["groups"]) == 2  # scratch and torch: one contender
    verdict = data["results"]["verdict"]
    assert verdict["rule"]["text"].startswith("one seed") and verdict["rule"]["split"] == "full"
    standings = verdict["contenders"]
    assert len(standings) == 6 and all(s["name"].endswith("(scratch = torch)") for s in standings)
    assert sorted(s["rank"] for s in standings) == list(range(1, 7))
    assert [s["label"] for s in standings] == ["best"] + ["inconclusive"] * 5 and verdict["best"] == standings[0][
        "name"
    ]
    # where the notes' formulas are torch's, the two curves coincide; eps placement moves AdaGrad/RMSprop a little
    gaps = data["results"]["impl_gaps"]
    for variant in ("sgd lr=0.05", "momentum lr=0.004", "adadelta lr=1", "adam lr=0.01"):
        assert gaps[variant] < 1e-5, (variant, gaps[variant])
    assert max(gaps.values()) < 1e-3
    assert f"Best: {verdict['best']}." in result.output and "Inconclusive with one seed (5)" in result.output
    assert "--seeds 5 gives a spread" in (folder / "results.md").read_text()


def test_a_member_is_an_ordinary_run(dltool, runs_dir):
    assert dltool("compare-optimizers", "-q", "--optimizers", "adam", "--impl", "torch").exit_code == 0
    row = rows_of(comparison_folder(runs_dir))[0]
    shown = dltool("show", row["run_id"])
    assert shown.exit_code == 0 and "adam" in shown.output and "completed" in shown.output
    listed = json.loads(dltool("runs", "--members", "--format", "json").output)
    study = comparison_folder(runs_dir).name  # one row, its member under it
    assert [(run["id"], run["kind"], run["study"]) for run in listed] == [
        (study, "compare", None),
        (row["run_id"], "run", study),
    ]
    record = StudyFolder.open(comparison_folder(runs_dir)).record
    assert record.status == "completed" and [m.run_id for m in record.members] == [row["run_id"]]
    assert record.end is not None and record.end.member_results[0]["run_id"] == row["run_id"]


def test_comparison_json_is_written_once_per_phase(runs_dir):
    """The plan at the start, each member's run and status as it finishes, the results at the end."""
    header = StudyHeader("toy", "a toy", "--problem toy", "now", 1, os.getpid(), 1)
    members = [
        MemberEntry(f"sgd lr=0.1 · {impl}", "sgd lr=0.1", "", "sgd", impl, 0, {"lr": 0.1}, 0.1, 1)
        for impl in ("scratch", "torch")
    ]
    comparison = StudyFolder.start(runs_dir, header, members)
    stored = json.loads(comparison.path(STUDY_FILES.record).read_text())
    assert stored["status"] == "running" and [m["status"] for m in stored["members"]] == ["pending", "pending"]
    comparison.member_finished(1, "run-b", "diverged")
    record = StudyFolder.open(comparison.folder).record
    assert [(m.run_id, m.status) for m in record.members] == [(None, "pending"), ("run-b", "diverged")]
    assert record.end is None and record.header == header
    comparison.finish(
        "completed", StudyEnd("later", 1.5, "target loss 0.2 (given)", Headline(), {"target_loss": 0.2}, [])
    )
    reopened = StudyFolder.open(comparison.folder).record
    assert reopened.status == "completed" and reopened.end.results["target_loss"] == 0.2
    assert list(json.loads(comparison.path(STUDY_FILES.record).read_text()))[-3:] == [
        "members",
        "results",
        "member_results",
    ]


def test_quadratic2d_reproduces_the_notes_trajectories(dltool, runs_dir):
    result = dltool("compare-optimizers", "--problem", "quadratic2d", "-q", "--jobs", "1")
    assert result.exit_code == 0, result.output
    folder = comparison_folder(runs_dir)
    rows = by_group(rows_of(folder))
    for variant, point in NOTES_2D.items():
        assert rows[f"{variant} · scratch"]["final_x"] == point, variant
    for variant in ("sgd lr=0.4", "sgd lr=0.6", "momentum lr=0.4 momentum=0.5", "momentum lr=0.6 momentum=0.5"):
        assert rows[f"{variant} · torch"]["final_x"] == NOTES_2D[variant]  # same formula in torch.optim
    assert rows["sgd lr=0.6 · scratch"]["status"] == "diverging"  # finite, but moving away in x2
    trajectory = [
        r["x"] for r in read_records(run_dir(runs_dir, rows["sgd lr=0.4 · scratch"]["run_id"])) if r["split"] == "full"
    ]
    assert trajectory[0] == [-5.0, -2.0] and len(trajectory) == 21  # the start and each of the 20 steps
    assert (folder / "plots/trajectories.png").is_file()


@pytest.mark.parametrize(
    "problem, expected",
    [
        ("square1d", {"sgd lr=0.2": "0.060466", "sgd lr=0.05": "3.486784", "sgd lr=1.1": "61.917364"}),
        ("cosh1d", {"newton lr=1": "0.000000"}),
    ],
)
def test_one_dimensional_problems_reproduce_the_notes(dltool, runs_dir, problem, expected):
    assert dltool("compare-optimizers", "--problem", problem, "-q", "--jobs", "1").exit_code == 0
    rows = by_group(rows_of(comparison_folder(runs_dir)))
    for variant, x in expected.items():
        assert rows[f"{variant} · scratch"]["final_x"] == x
    if problem == "cosh1d":  # the notes print exactly 0.0 after 10 Newton steps
        x = read_records(run_dir(runs_dir, rows["newton lr=1 · scratch"]["run_id"]))[-1]["x"]
        assert x == [0.0]
        assert "newton lr=1 · torch" not in rows  # torch.optim has no Newton's method


def test_noisy_sgd_with_the_notes_schedules(dltool, runs_dir):
    assert dltool("compare-optimizers", "--problem", "bowl2d", "-q", "--jobs", "1").exit_code == 0
    rows = rows_of(comparison_folder(runs_dir))
    assert by_group(rows)["sgd lr=0.1 · scratch"]["final_x"] == "-0.057646 -0.000073"
    steps = sorted(int(row["steps"]) for row in rows if row["impl"] == "scratch")
    assert steps == [20, 50, 50, 1000]
    exponential = next(row for row in rows if row["steps"] == "1000")
    lrs = [r["lr"] for r in read_records(run_dir(runs_dir, exponential["run_id"])) if r["split"] == "full"][1:]
    assert lrs[0] == pytest.approx(0.1) and lrs[10] == pytest.approx(0.1 * 2.718281828**-1.0)


def test_seeds_give_mean_and_std(dltool, runs_dir):
    result = dltool("compare-optimizers", "-q", "--optimizers", "sgd", "--impl", "scratch", "--seeds", "3")
    assert result.exit_code == 0, result.output
    folder = comparison_folder(runs_dir)
    rows = rows_of(folder)
    assert sorted(int(r["seed"]) for r in rows) == [0, 1, 2]
    finals = [float(r["final_loss"]) for r in rows]
    assert len(set(finals)) == 3  # different seeds, different runs
    group = json.loads((folder / "study.json").read_text())["results"]["groups"][0]
    mean, std = group["final_loss"]
    assert mean == pytest.approx(sum(finals) / 3) and std > 0
    assert " ± " in (folder / "results.md").read_text() and " ± " in result.output


def test_jobs_give_the_same_numbers_as_one_process(dltool, runs_dir):
    args = ("compare-optimizers", "-q", "--optimizers", "momentum,adam", "--seeds", "2")
    assert dltool(*args, "--jobs", "1").exit_code == 0
    first = comparison_folder(runs_dir)
    assert dltool(*args, "--jobs", "2").exit_code == 0
    second = next(p for p in run_folders(runs_dir) if "-compare-" in p.name and p != first)
    members_1 = sorted(rows_of(first), key=lambda r: (r["group"], r["seed"]))
    members_2 = sorted(rows_of(second), key=lambda r: (r["group"], r["seed"]))
    assert len(members_1) == len(members_2) == 8
    for a, b in zip(members_1, members_2):
        assert losses(runs_dir, a["run_id"]) == losses(runs_dir, b["run_id"])
    assert json.loads((second / "study.json").read_text())["jobs"] == 2


def test_learning_rate_sensitivity_reports_divergence_and_goes_on(dltool, runs_dir):
    result = dltool("compare-optimizers", "-q", "--optimizers", "sgd", "--impl", "scratch", "--lr-scale", "1,100")
    assert result.exit_code == 0, result.output
    folder = comparison_folder(runs_dir)
    rows = {float(r["lr"]): r for r in rows_of(folder)}
    assert rows[0.05]["status"] == "completed"
    assert rows[5.0]["status"] == "diverged" and int(rows[5.0]["diverged_at_step"]) > 0
    assert rows[5.0]["final_loss"] == ""  # no final loss for a diverged member
    # the table shows the last finite loss and where it was measured, not a "final" one
    records = read_records(run_dir(runs_dir, rows[5.0]["run_id"]))
    last = [r for r in records if r["split"] == "full" and r["loss"] is not None][-1]
    assert f"{last['loss']:.6g} at step {last['step']}, then diverged" in (folder / "results.md").read_text()
    assert (folder / "plots/lr_sensitivity.png").is_file()
    assert "diverged at step" in result.output


def test_batch_sizes_follow_the_notes(dltool, runs_dir):
    result = dltool("compare-optimizers", "-q", "--batch-sizes", "1500,10", "--impl", "scratch")
    assert result.exit_code == 0, result.output
    folder = comparison_folder(runs_dir)
    rows = {int(r["batch_size"]): r for r in rows_of(folder)}
    assert set(rows) == {1500, 10} and {r["optimizer"] for r in rows.values()} == {"sgd"}
    assert float(rows[1500]["lr"]) == 1.0 and int(rows[1500]["steps"]) == 6  # train_sgd(1, 1500, 6)
    assert float(rows[10]["lr"]) == 0.05 and int(rows[10]["steps"]) == 300
    assert (folder / "plots/loss_examples.png").is_file()


def test_a_config_file_varies_only_the_optimizer(dltool, runs_dir):
    result = dltool(
        "compare-optimizers",
        CONFIGS / "linreg_synthetic_scratch.yaml",
        "-q",
        "--optimizers",
        "sgd,adam",
        "--set",
        "train.epochs=1",
    )
    assert result.exit_code == 0, result.output
    configs = [
        yaml.safe_load((run_dir(runs_dir, r["run_id"]) / "config.yaml").read_text())
        for r in rows_of(comparison_folder(runs_dir))
    ]
    assert len(configs) == 4
    for config in configs:
        assert config["data"]["name"] == "synthetic_linreg" and config["train"]["epochs"] == 1
        assert config["model"] == configs[0]["model"]  # the config's model (scratch) for every member
        assert config["optimizer"]["impl"] in config["name"]


def test_set_optimizer_key_applies_to_the_members_that_take_it(dltool, runs_dir):
    result = dltool(
        "compare-optimizers", "-q", "--optimizers", "sgd,adam", "--impl", "scratch", "--set", "optimizer.eps=1e-8"
    )
    assert result.exit_code == 0, result.output
    rows = by_group(rows_of(comparison_folder(runs_dir)))
    assert "eps=1e-08" in rows["adam lr=0.01 · scratch"]["hyperparameters"]
    assert "eps" not in rows["sgd lr=0.05 · scratch"]["hyperparameters"]


def test_fashion_mnist_problem(dltool, runs_dir):
    result = dltool(
        "compare-optimizers",
        "--problem",
        "fashion-mnist",
        "-q",
        "--optimizers",
        "sgd,adam",
        "--impl",
        "torch",
        "--set",
        "data.train_size=2000",
        "--set",
        "data.test_size=1000",
        "--set",
        "train.epochs=1",
    )
    assert result.exit_code == 0, result.output
    rows = rows_of(comparison_folder(runs_dir))
    assert len(rows) == 2
    for row in rows:
        assert row["status"] == "completed" and float(row["final_acc"]) > 0.5  # 1 epoch on 2000 real images


@pytest.mark.parametrize(
    "args, message",
    [
        (["--problem", "quadratic"], "--problem: 'quadratic' is not one of airfoil, fashion-mnist"),
        (["--tune-space", "optimizer.momentum=uniform(0.5,0.9)"], "--tune-space needs --tune N"),
        (["--tune", "3", "--lr-scale", "1,3"], "--tune chooses each optimizer's lr itself"),
        (
            ["--tune", "3", "--optimizers", "sgd,adam", "--tune-space", "optimizer.gamma=uniform(0.5,0.9)"],
            "no compared optimizer has a hyperparameter 'gamma'",
        ),
        (
            ["--tune", "3", "--tune-space", "optimizer.momentum=unif(1,2)"],
            "--tune-space 'optimizer.momentum=unif(1,2)'",
        ),
        (["--tune", "0"], "--tune"),
        ([str(CONFIGS / "mlp_torch.yaml"), "--problem", "airfoil"], "not both"),
        (["--impl", "jax"], "--impl: 'jax' is not one of scratch, torch"),
        (["--lr-scale", "0.3,x"], "--lr-scale '0.3,x'"),
        (["--lr-scale", "0,1"], "must be positive"),
        (["--batch-sizes", "1.5"], "--batch-sizes '1.5'"),
        (["--optimizers", "adamm"], "did you mean 'adam'"),
        (["--set", "optimizer.name=sgd"], "--optimizers"),
        (
            ["--optimizers", "adam", "--set", "optimizer.momentum=0.5"],
            "no compared optimizer has a hyperparameter 'momentum'",
        ),
        (["--set", "train.epochs=0"], "train.epochs"),
        (["--seeds", "0"], "--seeds"),
        (["missing.yaml"], "missing.yaml"),
    ],
)
def test_bad_input_is_one_message_and_exit_2(dltool, runs_dir, args, message):
    result = dltool("compare-optimizers", "-q", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert run_folders(runs_dir) == []  # nothing trained, nothing left behind


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_stops_the_running_members_and_keeps_the_results(tmp_path, jobs):
    """Ctrl-C in a terminal reaches the whole process group: the command and its member processes."""
    runs_dir = tmp_path / "runs"
    command = [
        sys.executable,
        "-m",
        "dltool",
        "compare-optimizers",
        "--runs-dir",
        str(runs_dir),
        "--jobs",
        str(jobs),
        "--batch-sizes",
        "1",
        "--optimizers",
        "sgd,adam",
        "--set",
        "train.epochs=20",
        "--engine",
        "process",  # member by member: the population engine's Ctrl-C is tests/train/test_population.py's
    ]
    if jobs == 1:
        command += ["--impl", "scratch"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(runs_dir.glob("*/members/*-sgd-*/metrics.jsonl")):
        time.sleep(0.1)
    time.sleep(1.0)  # inside the first members' training
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    folder = comparison_folder(runs_dir)
    data = json.loads((folder / "study.json").read_text())
    assert data["status"] == "interrupted"
    statuses = [m["status"] for m in data["members"]]
    assert statuses[:jobs] == ["interrupted"] * jobs  # the running members stopped with a checkpoint
    assert set(statuses[jobs:]) == {"pending"}  # and none started after the signal
    assert (folder / "results.md").is_file() and "Traceback" not in err


def test_newton_has_no_torch_counterpart(dltool, runs_dir, tmp_path):
    config = write(
        tmp_path / "newton.yaml",
        "model: {name: square1d}\n"
        "data: {name: gradient_noise, batch_size: 1, dims: 1, steps: 3}\n"
        "optimizer: {name: newton, impl: torch}\ntrain: {epochs: 1}\n",
    )
    result = dltool("train", config, "-q")
    assert result.exit_code == 2 and "no torch.optim counterpart" in result.output
    assert run_folders(runs_dir) == []


def test_tuning_gives_every_optimizer_the_same_budget_then_the_seeds(dltool, runs_dir):
    result = dltool(
        "compare-optimizers", "-q", "--optimizers", "sgd,adam", "--tune", "3", "--seeds", "3", "--jobs", "1"
    )
    assert result.exit_code == 0, result.output
    data = json.loads((comparison_folder(runs_dir) / "study.json").read_text())
    tuning = {entry["variant"]: entry for entry in data["plan"]["tuning"]}
    assert set(tuning) == {"sgd lr=0.05", "adam lr=0.01"}  # the notes' values are where the range is centred
    for variant, entry in tuning.items():
        study = json.loads((runs_dir / entry["study"] / "study.json").read_text())
        assert study["kind"] == "tune" and len(study["members"]) == 3 and entry["tuned_on"] == "torch"
        lr, notes_lr = entry["best"]["optimizer.lr"], float(variant.split("lr=")[1])
        assert notes_lr / 30 <= lr <= notes_lr * 30
        # both impls of the variant run the tuned lr, over 3 seeds each
        members = [m for m in data["members"] if m["optimizer"] == variant.split()[0]]
        assert len(members) == 6 and {m["lr"] for m in members} == {lr}
    standings = data["results"]["verdict"]["contenders"]
    assert all(s["ci_low"] < s["mean"] < s["ci_high"] for s in standings)
    assert "paired by seed" in data["results"]["verdict"]["rule"]["text"] and "tuned, 3 trials" in result.output
    # the tuning studies belong to the comparison: listed under it, never on their own
    top = json.loads(dltool("runs", "--format", "json").stdout)
    assert [row["id"] for row in top] == [data["id"]]
    nested = json.loads(dltool("runs", "--members", "--format", "json").stdout)
    assert {row["id"] for row in nested if row["kind"] == "tune"} == {e["study"] for e in tuning.values()}
    assert all(row["study"] == data["id"] for row in nested[1:])
    shown = dltool("show", data["id"]).stdout
    assert all(f"tuned first: {variant} in {entry['study']}" in shown for variant, entry in tuning.items())
