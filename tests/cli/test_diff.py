"""`dltool diff A B`: two runs (config keys that differ, final metrics with B - A) and two studies.

Oracles: the keys the runs were given with --set, the runs' own summary.json files, and each study's
results.csv (one row per member, written by the comparison itself).
"""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import pytest

from tests.conftest import CONFIGS, run_folders

AIRFOIL = CONFIGS / "linreg_airfoil_scratch.yaml"
ONE_EPOCH = ("--set", "train.epochs=1")


@pytest.fixture
def two_runs(dltool, runs_dir) -> tuple[Path, Path]:
    """A: the config as it is; B: another learning rate and seed. In the order they were made."""
    assert dltool("train", AIRFOIL, "-q", *ONE_EPOCH).exit_code == 0
    result = dltool("train", AIRFOIL, "-q", *ONE_EPOCH, "--set", "optimizer.lr=0.1", "--set", "seed=1")
    assert result.exit_code == 0, result.output
    a, b = sorted(run_folders(runs_dir), key=lambda f: json.loads((f / "status.json").read_text())["created"])
    return a, b


def diff_json(dltool, a: str, b: str) -> dict:
    result = dltool("diff", a, b, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def unique_prefix(folder: Path) -> str:
    """The shortest start of the folder's name that no other item in its runs folder shares."""
    others = [p.name for p in run_folders(folder.parent) if p != folder]  # member runs inside studies too
    return next(
        folder.name[:n]
        for n in range(1, len(folder.name) + 1)
        if not any(o.startswith(folder.name[:n]) for o in others)
    )


def test_two_runs_differ_in_exactly_the_keys_they_were_given(dltool, two_runs):
    a, b = two_runs
    found = diff_json(dltool, a.name, b.name)
    assert found["kind"] == "run" and (found["a"], found["b"]) == (a.name, b.name)
    assert found["config"] == [{"key": "seed", "a": 0, "b": 1}, {"key": "optimizer.lr", "a": 0.05, "b": 0.1}]
    metrics = {row["name"]: row for row in found["metrics"]}
    expected_a, expected_b = summary(a), summary(b)
    finals = [f"final.{name}" for name in expected_a["final"]]
    assert set(finals) == {"final.full_loss", "final.train_loss"}
    assert list(metrics) == [*finals, "steps", "epochs", "train_time_s", "examples_per_s", "status"]
    for name in finals:
        row = metrics[name]
        key = name.removeprefix("final.")
        assert (row["a"], row["b"]) == (expected_a["final"][key], expected_b["final"][key])
        assert row["delta"] == pytest.approx(row["b"] - row["a"]) and row["delta"] != 0  # another lr: another loss
    for name in ("steps", "epochs", "train_time_s", "examples_per_s"):
        assert (metrics[name]["a"], metrics[name]["b"]) == (expected_a[name], expected_b[name])
    assert metrics["steps"]["delta"] == 0 and type(metrics["steps"]["a"]) is int
    assert type(metrics["epochs"]["a"]) is float and metrics["epochs"]["a"] == 1.0
    assert metrics["status"] == {"name": "status", "a": "completed", "b": "completed", "delta": None}


def test_the_table_shows_the_keys_and_the_differences(dltool, two_runs):
    a, b = two_runs
    result = dltool("diff", a.name, b.name)
    assert result.exit_code == 0, result.output
    assert "2 keys differ" in result.output and "same config" not in result.output
    lines = result.output.splitlines()
    lr_line = next(line for line in lines if "optimizer.lr" in line)
    assert "0.05" in lr_line and "0.1" in lr_line
    loss = summary(b)["final"]["full_loss"] - summary(a)["final"]["full_loss"]
    loss_line = next(line for line in lines if "final.full_loss" in line)
    assert f"{loss:+.6g}" in loss_line
    rate_line = next(line for line in lines if "examples_per_s" in line)  # one number format: 41,680.6
    assert f"{summary(a)['examples_per_s']:,.6g}" in rate_line and "," in rate_line


def test_prefixes_and_latest_name_the_same_runs(dltool, two_runs):
    a, b = two_runs
    by_id = diff_json(dltool, a.name, b.name)
    assert diff_json(dltool, unique_prefix(a), "latest") == by_id  # latest: the newer run, B


def test_a_run_against_itself_has_no_config_differences(dltool, two_runs):
    a, _ = two_runs
    found = diff_json(dltool, a.name, a.name)
    assert found["config"] == []
    assert all(row["delta"] in (0, None) for row in found["metrics"])
    assert "same config" in dltool("diff", a.name, a.name).output


def test_a_run_only_one_side_has_a_key_for_says_so(dltool, two_runs, runs_dir):
    a, _ = two_runs
    result = dltool("train", AIRFOIL, "-q", *ONE_EPOCH, "--set", "optimizer.name=momentum")
    assert result.exit_code == 0, result.output
    momentum = max(run_folders(runs_dir), key=lambda f: json.loads((f / "status.json").read_text())["created"])
    found = diff_json(dltool, a.name, momentum.name)
    keys = {row["key"]: row for row in found["config"]}
    assert keys["optimizer.name"] == {"key": "optimizer.name", "a": "sgd", "b": "momentum"}
    only_b = keys["optimizer.momentum"]
    assert only_b["only"] == "b" and only_b["a"] is None and isinstance(only_b["b"], float)
    assert "(not in A)" in dltool("diff", a.name, momentum.name).output


@pytest.mark.parametrize(("name", "content"), [("summary.json", "{"), ("config.yaml", "model: [")])
def test_a_damaged_file_is_named(dltool, two_runs, name, content):
    a, b = two_runs
    (b / name).write_text(content)
    result = dltool("diff", a.name, b.name)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and name in result.output and b.name in result.output
    assert "Traceback" not in result.output


def test_an_unknown_id_gets_a_did_you_mean(dltool, two_runs):
    a, b = two_runs
    result = dltool("diff", a.name, b.name[:-1] + "z")
    assert result.exit_code == 2 and "did you mean" in result.output and "Traceback" not in result.output
    assert dltool("diff", a.name, "../etc").exit_code == 2


def comparison(dltool, runs_dir: Path, *args: str) -> Path:
    before = set(run_folders(runs_dir))
    result = dltool("compare-optimizers", "-q", "--jobs", "1", "--impl", "scratch", *args)
    assert result.exit_code == 0, result.output
    return next(p for p in set(run_folders(runs_dir)) - before if (p / "study.json").is_file())


def member_losses(study: Path) -> dict[str, list[float]]:
    with open(study / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    losses: dict[str, list[float]] = {}
    for row in rows:
        losses.setdefault(row["group"], []).append(float(row["final_loss"]))
    return losses


@pytest.fixture
def two_studies(dltool, runs_dir) -> tuple[Path, Path]:
    """A: sgd, one seed; B: sgd and adam, two seeds each (airfoil, the notes' settings)."""
    a = comparison(dltool, runs_dir, "--optimizers", "sgd")
    b = comparison(dltool, runs_dir, "--optimizers", "sgd,adam", "--seeds", "2")
    return a, b


def test_two_studies_side_by_side_by_group(dltool, two_studies):
    a, b = two_studies
    found = diff_json(dltool, a.name, b.name)
    assert found["kind"] == "study" and found["config"] == [{"key": "seeds", "a": 1, "b": 2}]
    rows = {(row["group"], row["name"]): row for row in found["metrics"]}
    losses_a, losses_b = member_losses(a), member_losses(b)
    assert list(losses_a) == ["sgd lr=0.05 · scratch"] and len(losses_b) == 2
    sgd = rows[("sgd lr=0.05 · scratch", "final_loss")]
    assert sgd["a"] == pytest.approx(losses_a["sgd lr=0.05 · scratch"][0])
    assert sgd["b"] == pytest.approx(statistics.fmean(losses_b["sgd lr=0.05 · scratch"]))
    assert sgd["delta"] == pytest.approx(sgd["b"] - sgd["a"])
    assert (rows[("sgd lr=0.05 · scratch", "members")]["a"], rows[("sgd lr=0.05 · scratch", "members")]["b"]) == (1, 2)
    adam = [group for group in losses_b if group.startswith("adam")][0]
    only_b = rows[(adam, "final_loss")]
    assert only_b["a"] is None and only_b["delta"] is None
    assert only_b["b"] == pytest.approx(statistics.fmean(losses_b[adam]))
    assert rows[(adam, "status")]["b"] == "completed"
    table = dltool("diff", a.name, b.name)
    assert table.exit_code == 0 and adam in table.output and "seeds" in table.output


def test_a_study_against_itself_and_against_a_run(dltool, two_studies, runs_dir):
    a, _ = two_studies
    found = diff_json(dltool, unique_prefix(a), a.name)
    assert found["config"] == [] and all(row["delta"] in (0, None) for row in found["metrics"])
    member = next(p for p in run_folders(runs_dir) if not (p / "study.json").exists())
    result = dltool("diff", a.name, member.name)
    assert result.exit_code == 2 and "a study" in result.output and "a run" in result.output
    (a / "study.json").write_text("[]")
    damaged = dltool("diff", a.name, a.name)
    assert damaged.exit_code == 2 and "study.json" in damaged.output and "Traceback" not in damaged.output
