"""Linear regression and softmax regression: one affine layer, scratch or nn.Linear."""

from __future__ import annotations

import math

import torch
from torch import nn

from dltool.models.scratch_ops import normal_parameter, zeros_parameter
from dltool.registry import MODELS, ModelTraits, Options


class ScratchLinear(nn.Module):
    """X @ W + b with W ~ N(0, 0.01) and b = 0, as the notes write it."""

    def __init__(self, in_features: int, out_features: int, generator: torch.Generator) -> None:
        super().__init__()
        self.weight = normal_parameter(in_features, out_features, generator=generator)
        self.bias = zeros_parameter(out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1) @ self.weight + self.bias


def torch_linear(in_features: int, out_features: int, generator: torch.Generator) -> nn.Linear:
    """nn.Linear with the notes' init. Its weight is the transpose of the scratch one; drawing it
    in the scratch layout keeps both impls' starting points identical for the same seed."""
    layer = nn.Linear(in_features, out_features)
    with torch.no_grad():
        layer.weight.copy_(torch.normal(0.0, 0.01, (in_features, out_features), generator=generator).T)
        layer.bias.zero_()
    return layer


def affine(impl: str, in_features: int, out_features: int, generator: torch.Generator) -> nn.Module:
    if impl == "scratch":
        return ScratchLinear(in_features, out_features, generator)
    return torch_linear(in_features, out_features, generator)


@MODELS.register("linreg", options=Options, traits=ModelTraits("regression"))
def linreg(impl: str, input_shape, num_outputs: int, generator: torch.Generator) -> nn.Module:
    return affine(impl, math.prod(input_shape), num_outputs, generator)


@MODELS.register("softmax", options=Options, traits=ModelTraits("classification"))
def softmax(impl: str, input_shape, num_outputs: int, generator: torch.Generator) -> nn.Module:
    """Softmax regression: the model gives logits; the softmax lives in the loss (stable there)."""
    layer = affine(impl, math.prod(input_shape), num_outputs, generator)
    return layer if impl == "scratch" else nn.Sequential(nn.Flatten(), layer)
