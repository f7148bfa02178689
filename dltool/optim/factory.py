"""Optimizers as data: one spec per name holds its hyperparameters (defaults from the notes, eps
included) and how each impl is built from them, so scratch and torch always get the same values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import torch
from pydantic import Field

import dltool.optim.scratch as scratch
from dltool.bounds import Float32
from dltool.errors import UsageError
from dltool.registry import OPTIMIZERS, OptimizerTraits, Options

Positive = Annotated[float, Field(gt=0), Float32]
NonNegative = Annotated[float, Field(ge=0), Float32]
Fraction = Annotated[float, Field(ge=0, lt=1)]


class SGDOptions(Options):
    lr: Positive = 0.05
    weight_decay: NonNegative = 0.0


class MomentumOptions(Options):
    lr: Positive = 0.004
    momentum: Fraction = 0.9
    weight_decay: NonNegative = 0.0


class AdaGradOptions(Options):
    lr: Positive = 0.1
    eps: NonNegative = 1e-6
    weight_decay: NonNegative = 0.0


class RMSpropOptions(Options):
    lr: Positive = 0.01
    gamma: Fraction = 0.9
    eps: NonNegative = 1e-6
    weight_decay: NonNegative = 0.0


class AdaDeltaOptions(Options):
    lr: Positive = 1.0
    rho: Fraction = 0.9
    eps: NonNegative = 1e-5
    weight_decay: NonNegative = 0.0


class AdamOptions(Options):
    lr: Positive = 0.01
    betas: list[Fraction] = Field(default_factory=lambda: [0.9, 0.999], min_length=2, max_length=2)
    eps: NonNegative = 1e-6
    weight_decay: NonNegative = 0.0


class NewtonOptions(Options):
    lr: Positive = 1.0


def _spec(
    name: str,
    options: type[Options],
    scratch_cls: type[scratch.ScratchOptimizer],
    torch_fn: Callable[..., torch.optim.Optimizer] | None,
) -> None:
    """Register `name`: the builder takes (impl, params, **hyperparameters). torch_fn None: scratch only."""

    def build(impl: str, params, **hp: Any) -> torch.optim.Optimizer:
        if impl == "scratch":
            return scratch_cls(params, **hp)
        if torch_fn is None:
            raise UsageError(f"optimizer '{name}' has no torch.optim counterpart; set optimizer.impl: scratch")
        return torch_fn(params, **hp)

    traits = OptimizerTraits(scratch_cls, torch_fn, second_order=scratch_cls.second_order)
    OPTIMIZERS.register(name, options=options, traits=traits)(build)


_spec(
    "sgd",
    SGDOptions,
    scratch.SGD,
    lambda params, lr, weight_decay: torch.optim.SGD(params, lr=lr, weight_decay=weight_decay),
)
_spec(
    "momentum",
    MomentumOptions,
    scratch.Momentum,
    # torch keeps buf = m*buf + g and steps lr*buf; with a constant lr that is the notes' v = lr*buf.
    lambda params, lr, momentum, weight_decay: torch.optim.SGD(
        params, lr=lr, momentum=momentum, weight_decay=weight_decay
    ),
)
_spec(
    "adagrad",
    AdaGradOptions,
    scratch.AdaGrad,
    # torch adds eps outside the root: g / (sqrt(s) + eps); the notes: g / sqrt(s + eps).
    lambda params, lr, eps, weight_decay: torch.optim.Adagrad(params, lr=lr, eps=eps, weight_decay=weight_decay),
)
_spec(
    "rmsprop",
    RMSpropOptions,
    scratch.RMSprop,
    # the notes' gamma is torch's alpha; eps sits outside the root in torch, as for AdaGrad.
    lambda params, lr, gamma, eps, weight_decay: torch.optim.RMSprop(
        params, lr=lr, alpha=gamma, eps=eps, weight_decay=weight_decay
    ),
)
_spec(
    "adadelta",
    AdaDeltaOptions,
    scratch.AdaDelta,
    lambda params, lr, rho, eps, weight_decay: torch.optim.Adadelta(
        params, lr=lr, rho=rho, eps=eps, weight_decay=weight_decay
    ),
)
_spec(
    "adam",
    AdamOptions,
    scratch.Adam,
    lambda params, lr, betas, eps, weight_decay: torch.optim.Adam(
        params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay
    ),
)

# torch.optim has no Newton's method (LBFGS is quasi-Newton, a different algorithm): scratch only.
_spec("newton", NewtonOptions, scratch.Newton, None)


def build_optimizer(section, params) -> torch.optim.Optimizer:
    return OPTIMIZERS.get(section.name).builder(section.impl, params, **section.options)
