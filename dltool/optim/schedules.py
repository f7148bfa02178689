"""Learning-rate schedules as a factor on the base lr: the notes' three, plus constant, cosine and cosine
after a linear warm-up.

`t` counts epochs (unit: epoch, the default) or optimizer steps (unit: step). The schedule is a
torch LambdaLR stepped after every optimizer step, so it saves and restores with the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Literal

import torch
from pydantic import Field

from dltool.bounds import Count, Float32, entries
from dltool.registry import SCHEDULES, Options, ScheduleTraits

Unit = Literal["epoch", "step"]


class ConstantOptions(Options):
    pass


class PiecewiseOptions(Options):
    """lr = base * factor^k after the k-th milestone (the notes' eta_i for t_i <= t < t_i+1)."""

    milestones: list[Count] = entries([5], min_length=0)
    factor: Annotated[float, Field(gt=0), Float32] = 0.1
    unit: Unit = "epoch"


class ExponentialOptions(Options):
    """lr = base * exp(-lam * t)"""

    lam: Annotated[float, Field(ge=0), Float32] = 0.1
    unit: Unit = "epoch"


class PolynomialOptions(Options):
    """lr = base * (beta * t + 1)^(-alpha)"""

    alpha: Annotated[float, Field(ge=0), Float32] = 0.5
    beta: Annotated[float, Field(ge=0), Float32] = 0.1
    unit: Unit = "epoch"


class CosineOptions(Options):
    """lr = final + (base - final) * (1 + cos(pi * t / T)) / 2 over the run's T epochs or steps."""

    final_factor: Annotated[float, Field(ge=0, le=1)] = 0.0
    unit: Unit = "epoch"


class WarmupCosineOptions(Options):
    """A linear warm-up from 0 over the first `warmup` of the run, then cosine to final_factor."""

    warmup: Annotated[float, Field(gt=0, lt=1)] = 0.1
    final_factor: Annotated[float, Field(ge=0, le=1)] = 0.0
    unit: Unit = "step"


@SCHEDULES.register("constant", options=ConstantOptions, traits=ScheduleTraits())
def constant(total: int) -> Callable[[float], float]:
    return lambda t: 1.0


@SCHEDULES.register("piecewise", options=PiecewiseOptions, traits=ScheduleTraits())
def piecewise(total: int, milestones: list[int], factor: float) -> Callable[[float], float]:
    return lambda t: factor ** sum(t >= m for m in milestones)


@SCHEDULES.register("exponential", options=ExponentialOptions, traits=ScheduleTraits())
def exponential(total: int, lam: float) -> Callable[[float], float]:
    return lambda t: math.exp(-lam * t)


@SCHEDULES.register("polynomial", options=PolynomialOptions, traits=ScheduleTraits())
def polynomial(total: int, alpha: float, beta: float) -> Callable[[float], float]:
    return lambda t: (beta * t + 1) ** (-alpha)


@SCHEDULES.register("cosine", options=CosineOptions, traits=ScheduleTraits())
def cosine(total: int, final_factor: float) -> Callable[[float], float]:
    return lambda t: final_factor + (1 - final_factor) * (1 + math.cos(math.pi * min(t, total) / total)) / 2


@SCHEDULES.register("warmup_cosine", options=WarmupCosineOptions, traits=ScheduleTraits())
def warmup_cosine(total: int, warmup: float, final_factor: float) -> Callable[[float], float]:
    ramp = max(1.0, warmup * total)  # at least one step of warm-up; t = 0 trains at 1/ramp of the lr, not 0

    def factor(t: float) -> float:
        if t < ramp:
            return (t + 1) / (ramp + 1)
        rest = (min(t, total) - ramp) / max(total - ramp, 1.0)
        return final_factor + (1 - final_factor) * (1 + math.cos(math.pi * rest)) / 2

    return factor


def schedule_factor(section, steps_per_epoch: int, epochs: int) -> Callable[[int], float]:
    """The factor as a function of the optimizer step count."""
    options = section.options
    per_step = options.pop("unit", None) == "step"  # a schedule without a unit (constant) ignores t
    total = epochs * steps_per_epoch if per_step else epochs
    factor = SCHEDULES.get(section.name).builder(total, **options)
    if per_step:
        return factor
    return lambda step: factor(step // steps_per_epoch)


def build_schedule(section, optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, schedule_factor(section, steps_per_epoch, epochs))
