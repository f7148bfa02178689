"""Training end to end on the small regression data: the notes' results, the run folder, determinism."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from dltool.config import load_registries
from dltool.registry import OPTIMIZERS
from tests.conftest import CONFIGS, only_run, read_records, run_folders

load_registries()


def test_linreg_scratch_recovers_the_true_parameters(dltool, runs_dir):
    """The notes' synthetic data: lr 0.03, batch 10, 3 epochs find w = [2, -3.4], b = 4.2."""
    import torch

    result = dltool("train", CONFIGS / "linreg_synthetic_scratch.yaml", "-q")
    assert result.exit_code == 0, result.output
    folder = only_run(runs_dir)
    state = torch.load(folder / "checkpoints" / "last.pt", weights_only=True)["model"]
    assert torch.allclose(state["weight"].flatten(), torch.tensor([2.0, -3.4]), atol=0.01)
    assert abs(state["bias"].item() - 4.2) < 0.01
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["final"]["full_loss"] < 1e-4
    assert summary["status"] == "completed" and summary["steps"] == 300


@pytest.mark.parametrize("impl", ["scratch", "torch"])
@pytest.mark.parametrize("optimizer", [n for n in OPTIMIZERS.names() if OPTIMIZERS.get(n).traits.torch is not None])
def test_airfoil_final_loss_with_the_notes_hyperparameters(dltool, runs_dir, optimizer, impl):
    """Every optimizer x impl at its default (the notes') hyperparameters ends 2 epochs in [0.235, 0.26]."""
    result = dltool(
        "train",
        CONFIGS / f"linreg_airfoil_{impl}.yaml",
        "-q",
        "--set",
        f"optimizer.name={optimizer}",
        "--set",
        f"optimizer.lr={OPTIMIZERS.get(optimizer).options().lr}",
    )
    assert result.exit_code == 0, result.output
    records = read_records(only_run(runs_dir))
    full = [r for r in records if r["split"] == "full"]
    assert [r["examples"] for r in full] == list(range(0, 3001, 100))  # the notes' every-100-examples curve
    assert 0.235 <= full[-1]["loss"] <= 0.26


def test_run_folder_holds_the_documented_files(dltool, runs_dir):
    result = dltool("train", CONFIGS / "linreg_airfoil_torch.yaml", "-q")
    assert result.exit_code == 0
    folder = only_run(runs_dir)
    assert folder.name.split("-")[2:4] == ["airfoil", "torch"] and folder.name.split("-")[-2] == "sgd"
    for name in (
        "config.yaml",
        "status.json",
        "env.json",
        "metrics.jsonl",
        "metrics.csv",
        "summary.json",
        "checkpoints/last.pt",
    ):
        assert (folder / name).is_file(), name
    status = json.loads((folder / "status.json").read_text())
    assert status["status"] == "completed" and status["step"] == 300 and status["pid"] > 0
    env = json.loads((folder / "env.json").read_text())
    assert env["device"] == "cpu" and env["precision"] == "fp32" and env["seed"] == 0
    records = read_records(folder)
    assert set(records[0]) == {"step", "epoch", "examples", "time", "split", "loss", "acc", "lr"}
    with open(folder / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(records)
    assert float(rows[-1]["loss"]) == pytest.approx(records[-1]["loss"])
    assert str(folder) in result.output


def test_saved_config_repeats_the_run_bit_for_bit(dltool, runs_dir):
    """The same config twice, and the saved resolved config, give identical metrics on CPU."""
    args = ("--set", "optimizer.name=adam", "--set", "optimizer.lr=0.01", "-q")
    assert dltool("train", CONFIGS / "linreg_airfoil_scratch.yaml", *args).exit_code == 0
    first = only_run(runs_dir)
    assert dltool("train", first / "config.yaml", "-q").exit_code == 0
    assert dltool("train", CONFIGS / "linreg_airfoil_scratch.yaml", *args).exit_code == 0
    folders = run_folders(runs_dir)
    assert len(folders) == 3
    numbers = [[{k: v for k, v in r.items() if k != "time"} for r in read_records(f)] for f in folders]
    assert numbers[0] == numbers[1] == numbers[2]
    saved = yaml.safe_load((first / "config.yaml").read_text())
    assert saved["optimizer"] == {
        "name": "adam",
        "impl": "scratch",
        "lr": 0.01,
        "betas": [0.9, 0.999],
        "eps": 1e-06,
        "weight_decay": 0.0,
    }


def test_scratch_and_torch_models_start_equal_and_stay_close(dltool, runs_dir):
    """Same seed: same initial parameters and data order in both impls, so the curves overlap."""
    for impl in ("scratch", "torch"):
        assert dltool("train", CONFIGS / f"linreg_airfoil_{impl}.yaml", "-q").exit_code == 0
    scratch, torch_ = (read_records(f) for f in run_folders(runs_dir))
    assert len(scratch) == len(torch_)
    for a, b in zip(scratch, torch_):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4)


def test_divergence_is_recorded_with_its_step(dltool, runs_dir):
    result = dltool("train", CONFIGS / "linreg_airfoil_scratch.yaml", "-q", "--set", "optimizer.lr=1e30")
    assert result.exit_code == 1
    folder = only_run(runs_dir)
    status = json.loads((folder / "status.json").read_text())
    assert status["status"] == "diverged" and status["diverged_at_step"] >= 1
    assert "diverged" in result.output


def test_lr_schedule_is_applied_and_recorded(dltool, runs_dir):
    result = dltool(
        "train",
        CONFIGS / "linreg_airfoil_torch.yaml",
        "-q",
        "--set",
        "schedule.name=piecewise",
        "--set",
        "schedule.milestones=[1]",
        "--set",
        "schedule.factor=0.5",
    )
    assert result.exit_code == 0, result.output
    train = [r for r in read_records(only_run(runs_dir)) if r["split"] == "train"]
    assert [r["lr"] for r in train] == [pytest.approx(0.05), pytest.approx(0.025)]


def test_runs_and_show_list_what_was_trained(dltool, runs_dir):
    assert dltool("train", CONFIGS / "linreg_airfoil_torch.yaml", "-q").exit_code == 0
    run_id = only_run(runs_dir).name
    table = dltool("runs")
    assert table.exit_code == 0
    assert "completed" in table.output and "linreg (torch)" in table.output and "sgd (torch)" in table.output
    assert dltool("runs", "--status", "failed").output.startswith("no runs with status 'failed'")
    shown = dltool("show", run_id[:17])
    assert shown.exit_code == 0
    assert run_id in shown.output and "full_loss" in shown.output and "name: airfoil-torch" in shown.output
    assert dltool("show", "latest").exit_code == 0
