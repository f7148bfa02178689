"""LR schedules: the notes' closed forms, in epochs or steps, through torch's LambdaLR."""

from __future__ import annotations

import math

import pytest
import torch

from dltool.config import load_config, load_registries
from dltool.optim.schedules import build_schedule, schedule_factor
from dltool.registry import SCHEDULES

load_registries()


def section(name: str, **options):
    overrides = [f"schedule.name={name}"] + [f"schedule.{k}={v}" for k, v in options.items()]
    return load_config(None, overrides).schedule


@pytest.mark.parametrize(
    "name, options, t, expected",
    [
        ("constant", {}, 7, 1.0),
        ("piecewise", {"milestones": "[2,4]", "factor": 0.5}, 1, 1.0),
        ("piecewise", {"milestones": "[2,4]", "factor": 0.5}, 2, 0.5),
        ("piecewise", {"milestones": "[2,4]", "factor": 0.5}, 5, 0.25),
        ("exponential", {"lam": 0.1}, 3, math.exp(-0.3)),
        ("polynomial", {"alpha": 0.5, "beta": 0.1}, 10, (1 + 0.1 * 10) ** -0.5),
        ("cosine", {}, 5, 0.5),
        ("cosine", {"final_factor": 0.1}, 10, 0.1),
    ],
)
def test_factor_in_epochs(name, options, t, expected):
    factor = schedule_factor(section(name, **options), steps_per_epoch=3, epochs=10)
    assert factor(3 * t) == pytest.approx(expected)
    assert factor(3 * t + 2) == pytest.approx(expected)  # constant within an epoch


def test_step_unit_counts_optimizer_steps():
    factor = schedule_factor(section("exponential", lam=0.1, unit="step"), steps_per_epoch=3, epochs=10)
    assert factor(4) == pytest.approx(math.exp(-0.4))


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_every_schedule_drives_an_optimizer(name):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.5)
    options = {"milestones": "[2]"} if name == "piecewise" else {}  # the default milestone is epoch 5
    scheduler = build_schedule(section(name, **options), optimizer, steps_per_epoch=2, epochs=4)
    lrs = []
    for _ in range(8):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert all(0 <= lr <= 0.5 for lr in lrs)
    assert lrs[0] < lrs[1] if name == "warmup_cosine" else lrs[0] == 0.5  # a warm-up starts below the lr
    if name != "constant":
        assert lrs[-1] < 0.5


def test_warmup_cosine_ramps_linearly_then_follows_the_cosine():
    """40 steps, a tenth of them warm-up: (t + 1) / 5 for t < 4, then cosine over the remaining 36 steps."""
    factor = schedule_factor(section("warmup_cosine"), steps_per_epoch=4, epochs=10)
    assert [factor(t) for t in range(5)] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert factor(22) == pytest.approx(0.5) and factor(40) == pytest.approx(0.0)
    assert factor(31) == pytest.approx((1 + math.cos(math.pi * 27 / 36)) / 2)
