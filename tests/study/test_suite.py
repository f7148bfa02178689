"""The problem suite's own problems (the synthetic regression and the noisy quadratic model) in a comparison
across problems: each starts where its closed form says, and the profile's steps to each target are the
first evaluation at or under the target in the members' own metrics files."""

from __future__ import annotations

import json

import pytest
from conftest import run_folders

from dltool.study.problems import PROBLEMS
from dltool.study.protocol import SUITE


def first_step_at_target(metrics, target: float) -> float | None:
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    return next((float(r["step"]) for r in records if r["loss"] is not None and r["loss"] <= target), None)


def test_the_suites_problems_run_and_their_steps_to_target_are_the_members(dltool, runs_dir):
    assert all(PROBLEMS[name].target is not None for name in SUITE)  # each has a stated target
    args = ("--problem", "nqm,synthetic", "--optimizers", "sgd,adam", "--impl", "torch", "--seeds", "1")
    result = dltool("compare-optimizers", *args)
    assert result.exit_code == 0, result.output
    assert "nqm: noisy quadratic model" in result.output and "synthetic: synthetic linear regression" in result.output
    assert "One seed on nqm, synthetic: there a rank below 1 is the order of single runs" in result.output
    (profile,) = [f for f in run_folders(runs_dir) if "-profile-" in f.name]
    steps = json.loads((profile / "study.json").read_text())["plan"]["steps"]
    members = {f.name.split("-", 2)[2].rsplit("-", 1)[0]: f for f in run_folders(runs_dir) if "-torch-" in f.name}
    assert set(members) == {f"{p}-torch-{o}" for p in ("nqm", "synthetic") for o in ("sgd", "adam")}
    for name, folder in members.items():
        problem, _, optimizer = name.split("-")
        metrics = folder / "metrics.jsonl"
        assert steps[problem][optimizer] == first_step_at_target(metrics, PROBLEMS[problem].target)
        if problem == "nqm":  # f = ½ Σ x_i²/i from x = 1: half the 100th harmonic number
            start = json.loads(metrics.read_text().splitlines()[0])["loss"]
            assert start == pytest.approx(0.5 * sum(1 / i for i in range(1, 101)), rel=1e-6)
    assert any(value is not None for by_optimizer in steps.values() for value in by_optimizer.values())
