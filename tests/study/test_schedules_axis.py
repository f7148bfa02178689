"""--schedules: the learning-rate schedule as an axis of a comparison, each optimizer setting under each
schedule a contender of its own, tuned on its own."""

from __future__ import annotations

import json

import pytest
from conftest import run_folders

from dltool.errors import UsageError
from dltool.study.plan import PlanRequest, plan_comparison
from dltool.study.schedules import check_schedules, schedule_overrides


def test_step_cuts_the_lr_at_half_and_three_quarters_of_the_run():
    assert schedule_overrides("step", 8) == (
        "schedule.name=piecewise",
        "schedule.milestones=[4,6]",
        "schedule.factor=0.1",
    )
    assert schedule_overrides("step", 2)[1] == "schedule.milestones=[1]"  # one cut left in a two-epoch run
    assert schedule_overrides("cosine", 2) == ("schedule.name=cosine", "schedule.unit=step")
    with pytest.raises(UsageError, match="did you mean 'cosine'"):
        check_schedules(("cosin",))


def test_every_setting_runs_under_every_schedule():
    plan = plan_comparison(PlanRequest(optimizers=("sgd", "adam"), impls=("torch",), schedules=("constant", "step")))
    named = {(m.config.optimizer.name, m.config.schedule.name) for m in plan.members}
    assert named == {(o, s) for o in ("sgd", "adam") for s in ("constant", "piecewise")}
    variants = {m.entry.variant for m in plan.members}
    assert variants == {
        "sgd lr=0.05 (constant)",
        "sgd lr=0.05 (step)",
        "adam lr=0.01 (constant)",
        "adam lr=0.01 (step)",
    }


def test_each_optimizer_and_schedule_is_tuned_on_its_own(dltool, runs_dir):
    args = ("--optimizers", "sgd", "--impl", "torch", "--schedules", "constant,cosine", "--tune", "2", "--seeds", "2")
    result = dltool("compare-optimizers", "-q", *args, "--jobs", "2")
    assert result.exit_code == 0, result.output
    studies = [
        json.loads((p / "study.json").read_text()) for p in run_folders(runs_dir) if (p / "study.json").is_file()
    ]
    tunes = {s["plan"]["base"]["schedule"]["name"]: s for s in studies if s["kind"] == "tune"}
    assert set(tunes) == {"constant", "cosine"} and tunes["cosine"]["plan"]["base"]["schedule"]["unit"] == "step"
    (comparison,) = [s for s in studies if s["kind"] == "compare"]
    contenders = {c["name"] for c in comparison["results"]["verdict"]["contenders"]}
    assert len(contenders) == 2 and all("(constant" in c or "(cosine" in c for c in contenders)
